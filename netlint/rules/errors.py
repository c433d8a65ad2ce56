"""The rule-file error, apart from the loader so the CLI can catch it without loading the
engine (and networkx) for commands that do not run rules."""


class RuleError(Exception):
    """`path:line: what is wrong` with a rule file or a rule fixture."""
