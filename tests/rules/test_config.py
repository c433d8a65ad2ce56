"""netlint.toml / [tool.netlint]: finding the file, reading it, selecting rules, applying
overrides and suppressions to a dump's findings, and the exit code of `netlint check`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netlint.model.diagnostic import Severity
from netlint.model.finding import CheckReport, DumpReport, Finding, Location, Outcome, RuleDoc, RuleResult
from netlint.model.origin import Origin
from netlint.rules.config import (Config, ConfigError, Selection, Suppression, apply, exit_code, find_config,
                                  load_config, resolve_fail_on, validate)
from tests.conftest import REPO

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def rule(id: str, category: str, severity: Severity = ERROR) -> RuleDoc:
    return RuleDoc(id=id, title=id, severity=severity, category=category, scope="host",
                   description="", fix="")


CATALOG = [
    rule("forwarding-disabled", "sysctl"),
    rule("rp-filter-asymmetric", "sysctl", WARNING),
    rule("masquerade-missing", "nat"),
    rule("forward-drop", "firewall"),
    rule("parse-partial", "evidence", INFO),
]


def finding(rule_id: str, key: str, severity: Severity = ERROR, category: str = "sysctl",
            file: str | None = "sysctl.txt", line: int | None = 3) -> Finding:
    locations = [Location(Origin(file, line), "x")] if file else []
    return Finding(rule=rule_id, severity=severity, title=rule_id, category=category, message=f"{rule_id} {key}",
                   fix="", key=key, locations=locations)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "\n" not in str(caught.value)
    return caught.value


# -- finding the file ------------------------------------------------------------------------------

def test_closest_configuration_wins(tmp_path):
    outer = write(tmp_path / "netlint.toml", "")
    middle = write(tmp_path / "a" / "pyproject.toml", "[tool.netlint]\nselect = []\n")
    inner = write(tmp_path / "a" / "b" / "netlint.toml", "")
    deep = tmp_path / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    assert find_config(deep) == inner
    assert find_config(tmp_path / "a" / "b") == inner
    assert find_config(tmp_path / "a") == middle
    inner.unlink()
    assert find_config(deep) == middle
    middle.unlink()
    assert find_config(deep) == outer


def test_netlint_toml_beats_pyproject_in_the_same_folder(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.netlint]\n")
    own = write(tmp_path / "netlint.toml", "")
    assert find_config(tmp_path) == own


def test_an_empty_tool_netlint_table_counts(tmp_path):
    pyproject = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n\n[tool.netlint]\n")
    (tmp_path / "sub").mkdir()
    assert find_config(tmp_path / "sub") == pyproject
    assert load_config(pyproject) == Config(path=pyproject)


def test_pyproject_without_tool_netlint_is_skipped(tmp_path):
    outer = write(tmp_path / "netlint.toml", "")
    write(tmp_path / "a" / "pyproject.toml", '[project]\nname = "x"\ndependencies = ["netlint"]\n')
    write(tmp_path / "a" / "b" / "pyproject.toml", "[tool.ruff]\nline-length = 120\n")
    write(tmp_path / "a" / "b" / "c" / "pyproject.toml", "this is [ not toml\n")
    assert find_config(tmp_path / "a" / "b" / "c") == outer


def test_a_broken_pyproject_that_may_hold_the_table_is_an_error(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.netlint]\nselect = ["nat"\n')
    with pytest.raises(ConfigError) as caught:
        find_config(tmp_path)
    assert caught.value.origin.file == str(tmp_path / "pyproject.toml")


def test_start_may_be_relative(tmp_path, monkeypatch):
    own = write(tmp_path / "netlint.toml", "")
    (tmp_path / "x").mkdir()
    monkeypatch.chdir(tmp_path / "x")
    assert find_config(Path(".")) == own


# -- reading it ------------------------------------------------------------------------------------

FULL = """\
# netlint configuration for the lab hosts
select = ["sysctl", "nat", "forward-drop"]
ignore = ["rp-filter-asymmetric"]
fail-on = "warning"

[severity]
masquerade-missing = "warning"
"nat" = "info"

[[suppress]]
rule = "forwarding-disabled"
reason = "lab-07 is a router-less test bench, forwarding is off on purpose"
dump = "lab-07*"

[[suppress]]
rule = "nat"
key = "virbr1*"
file = "iptables-save*"
reason = "virbr1 is an isolated network (TICKET-4411)"
"""


def test_reads_every_field(tmp_path):
    path = write(tmp_path / "netlint.toml", FULL)
    config = load_config(path)
    assert config.select == ["sysctl", "nat", "forward-drop"]
    assert config.ignore == ["rp-filter-asymmetric"]
    assert config.fail_on is WARNING
    assert config.severity == {"masquerade-missing": WARNING, "nat": INFO}
    assert config.suppress == [
        Suppression("forwarding-disabled", "lab-07 is a router-less test bench, forwarding is off on purpose",
                    dump="lab-07*"),
        Suppression("nat", "virbr1 is an isolated network (TICKET-4411)", key="virbr1*", file="iptables-save*"),
    ]
    assert config.path == path
    # each id is placed at its first mention, for validate()'s messages
    assert {name: o.line for name, o in config.where.items()} == {
        "sysctl": 2, "nat": 2, "forward-drop": 2, "rp-filter-asymmetric": 3, "masquerade-missing": 7,
        "forwarding-disabled": 11}


def test_pyproject_table_reads_the_same(tmp_path):
    body = FULL.replace("[severity]", "[tool.netlint.severity]").replace("[[suppress]]", "[[tool.netlint.suppress]]")
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "lab"\n\n[tool.netlint]\n' + body)
    plain = load_config(write(tmp_path / "netlint.toml", FULL))
    config = load_config(path)
    assert (config.select, config.ignore, config.fail_on, config.severity, config.suppress) == \
        (plain.select, plain.ignore, plain.fail_on, plain.severity, plain.suppress)
    assert config.where["masquerade-missing"].line == plain.where["masquerade-missing"].line + 4


def test_inline_suppressions_are_read(tmp_path):
    path = write(tmp_path / "netlint.toml",
                 'suppress = [{rule = "nat", reason = "isolated", dump = "*/lab-*"}]\n')
    assert load_config(path).suppress == [Suppression("nat", "isolated", dump="*/lab-*")]


def test_malformed_toml_names_the_line(tmp_path):
    path = write(tmp_path / "netlint.toml", 'select = ["nat"]\nignore = [\n  "forward-drop",\n  oops\n]\n')
    error = error_of(path)
    assert error.origin == Origin(str(path), 4, 3)
    assert str(error).startswith(f"{path}:4:3: invalid TOML")


def test_malformed_toml_at_the_end_names_the_last_line(tmp_path):
    path = write(tmp_path / "netlint.toml", 'fail-on = "error"\n\nselect = ["nat"')
    error = error_of(path)
    assert error.origin.line == 3


def test_unreadable_files_are_config_errors(tmp_path):
    missing = tmp_path / "netlint.toml"
    assert error_of(missing).origin == Origin(str(missing))
    binary = tmp_path / "bin" / "netlint.toml"
    binary.parent.mkdir()
    binary.write_bytes(b'select = ["\xff"]\n')
    assert "UTF-8" in str(error_of(binary))


def test_explicit_pyproject_without_the_table_is_an_error(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.ruff]\n")
    assert "[tool.netlint]" in str(error_of(path))


def test_suppression_without_reason_is_rejected(tmp_path):
    path = write(tmp_path / "netlint.toml",
                 '[[suppress]]\nrule = "nat"\nreason = "ok"\n\n[[suppress]]\nrule = "forward-drop"\ndump = "h*"\n')
    error = error_of(path)
    assert "reason" in str(error) and "suppress entry 2" in str(error)
    assert error.origin.line == 5


def test_suppression_with_blank_reason_is_rejected(tmp_path):
    path = write(tmp_path / "netlint.toml", '[[suppress]]\nrule = "nat"\nreason = "   "\n')
    error = error_of(path)
    assert "reason" in str(error)
    assert error.origin.line == 3


def test_suppression_without_rule_is_rejected(tmp_path):
    path = write(tmp_path / "netlint.toml", '[[suppress]]\nreason = "because"\n')
    assert "needs a rule" in str(error_of(path))


@pytest.mark.parametrize("text, line, words", [
    ('select = ["nat"]\nselct = ["nat"]\n', 2, ["'selct'", "did you mean 'select'"]),
    ('fail_on = "warning"\n', 1, ["'fail_on'", "did you mean 'fail-on'"]),
    ('[severty]\nnat = "info"\n', 1, ["'severty'", "did you mean 'severity'"]),
    ('[[suppress]]\nrule = "nat"\nreason = "x"\n[[suppress]]\nrule = "nat"\nreson = "x"\n', 6,
     ["suppress entry 2", "'reson'", "did you mean 'reason'"]),
    ('[[suppress]]\nrule = "nat"\nreason = "x"\nwhy = "y"\n', 4, ["'why'", "known: rule, reason, dump, key, file"]),
])
def test_unknown_keys_are_rejected(tmp_path, text, line, words):
    path = write(tmp_path / "netlint.toml", text)
    error = error_of(path)
    assert error.origin.line == line
    for word in words:
        assert word in str(error)


def test_unknown_key_in_pyproject_table_names_its_line(tmp_path):
    path = write(tmp_path / "pyproject.toml",
                 '[project]\nname = "x"\n\n[tool.netlint]\nselect = ["nat"]\n\n[tool.netlint.severty]\nnat = "info"\n')
    error = error_of(path)
    assert error.origin.line == 7 and "'severty'" in str(error)


@pytest.mark.parametrize("text, line, words", [
    ('fail-on = "critical"\n', 1, ["fail-on", "'critical'"]),
    ('select = ["nat"]\n[severity]\nnat = "info"\nforward-drop = "high"\n', 4, ["severity.forward-drop", "'high'"]),
    ('select = "nat"\n', 1, ["select must be a list"]),
    ('ignore = ["nat", 3]\n', 1, ["ignore must be a list"]),
    ('severity = ["nat"]\n', 1, ["severity must be a table"]),
    ('suppress = "nat"\n', 1, ["suppress must be an array"]),
    ('[[suppress]]\nrule = "nat"\nreason = "r"\ndump = ""\n', 4, ["dump must be a non-empty string"]),
    ('[[suppress]]\nrule = "nat"\nreason = "r"\nkey = 7\n', 4, ["key must be a non-empty string"]),
])
def test_wrong_values_are_rejected(tmp_path, text, line, words):
    error = error_of(write(tmp_path / "netlint.toml", text))
    assert error.origin.line == line
    for word in words:
        assert word in str(error)


# -- checking ids against the rules ----------------------------------------------------------------

def test_validate_accepts_ids_and_categories(tmp_path):
    validate(load_config(write(tmp_path / "netlint.toml", FULL)), CATALOG)


@pytest.mark.parametrize("text, line, name", [
    ('select = ["nat", "sysctls"]\n', 1, "sysctls"),
    ('ignore = [\n  "nat",\n  "forwarding-disable",\n]\n', 3, "forwarding-disable"),
    ('select = ["nat"]\n\n[severity]\nmasq-missing = "info"\n', 4, "masq-missing"),
    ('[[suppress]]\nrule = "nat"\nreason = "r"\n\n[[suppress]]\nrule = "dns"\nreason = "r"\n', 6, "dns"),
])
def test_validate_names_an_unknown_id_and_its_line(tmp_path, text, line, name):
    path = write(tmp_path / "netlint.toml", text)
    config = load_config(path)
    with pytest.raises(ConfigError) as caught:
        validate(config, CATALOG)
    assert f"'{name}'" in str(caught.value)
    assert caught.value.origin == Origin(str(path), line)


def test_validate_suggests_the_close_id(tmp_path):
    config = load_config(write(tmp_path / "netlint.toml", 'ignore = ["forwarding-disable"]\n'))
    with pytest.raises(ConfigError, match="did you mean 'forwarding-disabled'"):
        validate(config, CATALOG)


def test_validate_knows_user_rules():
    config = Config(select=["my-rule"], where={"my-rule": Origin("netlint.toml", 1)})
    with pytest.raises(ConfigError):
        validate(config, CATALOG)
    validate(config, [*CATALOG, rule("my-rule", "local")])


# -- selection -------------------------------------------------------------------------------------

def ids(rules: list[RuleDoc]) -> list[str]:
    return [r.id for r in rules]


def test_empty_selection_is_every_rule():
    assert ids(Selection.build(Config()).selected(CATALOG)) == ids(CATALOG)


def test_select_and_ignore_by_id_and_category():
    assert ids(Selection.build(Config(select=["sysctl", "forward-drop"])).selected(CATALOG)) == \
        ["forwarding-disabled", "rp-filter-asymmetric", "forward-drop"]
    assert ids(Selection.build(Config(ignore=["sysctl", "parse-partial"])).selected(CATALOG)) == \
        ["masquerade-missing", "forward-drop"]
    # ignore removes even what select names
    assert ids(Selection.build(Config(select=["sysctl"], ignore=["rp-filter-asymmetric"])).selected(CATALOG)) == \
        ["forwarding-disabled"]
    assert ids(Selection.build(Config(select=["masquerade-missing"], ignore=["nat"])).selected(CATALOG)) == []


def test_command_line_replaces_the_list_of_the_same_name():
    config = Config(select=["sysctl"], ignore=["forwarding-disabled"])
    assert ids(Selection.build(config, select="nat, firewall").selected(CATALOG)) == \
        ["masquerade-missing", "forward-drop"]
    assert ids(Selection.build(config, ignore="rp-filter-asymmetric").selected(CATALOG)) == ["forwarding-disabled"]
    assert ids(Selection.build(config, select="", ignore="").selected(CATALOG)) == ids(CATALOG)


def test_unknown_id_on_the_command_line_names_the_flag():
    with pytest.raises(ConfigError) as caught:
        Selection.build(Config(), ignore="nat,firewal").selected(CATALOG)
    assert str(caught.value) == "--ignore: unknown rule or category 'firewal' (did you mean 'firewall'?)"
    assert caught.value.origin is None


def test_unknown_id_from_the_file_names_the_file(tmp_path):
    path = write(tmp_path / "netlint.toml", 'select = [\n  "nat",\n  "routing",\n]\n')
    selection = Selection.build(load_config(path))
    with pytest.raises(ConfigError) as caught:
        selection.selected(CATALOG)
    assert caught.value.origin == Origin(str(path), 3)
    assert "'routing'" in str(caught.value)
    # replaced by the command line, the file's list no longer matters
    assert ids(Selection.build(load_config(path), select="nat").selected(CATALOG)) == ["masquerade-missing"]


# -- applying to a dump ----------------------------------------------------------------------------

def lab_dump(path: str = "dumps/lab-07") -> DumpReport:
    return DumpReport(
        path=path,
        findings=[
            finding("forwarding-disabled", "net.ipv4.ip_forward"),
            finding("masquerade-missing", "virbr1", category="nat", file="iptables-save.txt", line=None),
            finding("masquerade-missing", "virbr0", category="nat", file="iptables-save.txt", line=None),
            finding("rp-filter-asymmetric", "eth1", WARNING),
            finding("parse-partial", "route.txt", INFO, category="evidence", file="route.txt", line=9),
        ],
        results=[RuleResult("forwarding-disabled", Outcome.FAILED), RuleResult("masquerade-missing", Outcome.FAILED),
                 RuleResult("rp-filter-asymmetric", Outcome.FAILED), RuleResult("forward-drop", Outcome.PASSED),
                 RuleResult("parse-partial", Outcome.FAILED)])


def outcomes(dump: DumpReport) -> dict[str, Outcome]:
    return {r.rule: r.outcome for r in dump.results}


def test_severity_overrides_rule_beats_category():
    dump = lab_dump()
    apply(dump, Config(severity={"nat": INFO, "masquerade-missing": WARNING, "rp-filter-asymmetric": ERROR}))
    assert [(f.rule, f.severity) for f in dump.findings] == [
        ("forwarding-disabled", ERROR), ("masquerade-missing", WARNING), ("masquerade-missing", WARNING),
        ("rp-filter-asymmetric", ERROR), ("parse-partial", INFO)]
    dump = lab_dump()
    apply(dump, Config(severity={"nat": INFO}))
    assert [f.severity for f in dump.findings if f.category == "nat"] == [INFO, INFO]


def test_suppress_by_dump_glob(tmp_path):
    config = load_config(write(tmp_path / "netlint.toml", FULL))
    dump = lab_dump("dumps/lab-07.tar.gz")
    apply(dump, config)
    assert [s.finding.key for s in dump.suppressed] == ["net.ipv4.ip_forward", "virbr1"]
    assert dump.suppressed[0].reason == "lab-07 is a router-less test bench, forwarding is off on purpose"
    assert outcomes(dump)["forwarding-disabled"] is Outcome.SUPPRESSED
    assert [r.reason for r in dump.results if r.rule == "forwarding-disabled"] == [dump.suppressed[0].reason]

    other = lab_dump("dumps/lab-08")
    apply(other, config)
    assert [s.finding.key for s in other.suppressed] == ["virbr1"]
    assert outcomes(other)["forwarding-disabled"] is Outcome.FAILED


def test_dump_glob_with_a_slash_matches_the_whole_path():
    config = Config(suppress=[Suppression("forwarding-disabled", "bench", dump="dumps/lab-*")])
    for path, hit in [("dumps/lab-07", True), ("./dumps/lab-07/", True), ("other/dumps/lab-07", False),
                      ("/srv/lab-07", False)]:
        dump = lab_dump(path)
        apply(dump, config)
        assert bool(dump.suppressed) is hit, path
    config = Config(suppress=[Suppression("forwarding-disabled", "bench", dump="*/lab-*")])
    dump = lab_dump("/srv/hosts/lab-07")
    apply(dump, config)
    assert len(dump.suppressed) == 1


def test_suppress_by_key_leaves_the_rule_failed_while_findings_remain():
    dump = lab_dump()
    apply(dump, Config(suppress=[Suppression("masquerade-missing", "isolated network", key="virbr1")]))
    assert [f.key for f in dump.findings if f.rule == "masquerade-missing"] == ["virbr0"]
    assert [(s.finding.key, s.reason) for s in dump.suppressed] == [("virbr1", "isolated network")]
    assert outcomes(dump)["masquerade-missing"] is Outcome.FAILED

    dump = lab_dump()
    apply(dump, Config(suppress=[Suppression("masquerade-missing", "isolated networks", key="virbr*")]))
    assert not [f for f in dump.findings if f.rule == "masquerade-missing"]
    assert outcomes(dump)["masquerade-missing"] is Outcome.SUPPRESSED
    assert len(dump.findings) == 3


def test_suppress_by_category_and_file():
    dump = lab_dump()
    apply(dump, Config(suppress=[Suppression("sysctl", "no sysctl rules on this fleet", file="sysctl.*")]))
    assert sorted(s.finding.rule for s in dump.suppressed) == ["forwarding-disabled", "rp-filter-asymmetric"]
    assert outcomes(dump) == {"forwarding-disabled": Outcome.SUPPRESSED, "masquerade-missing": Outcome.FAILED,
                              "rp-filter-asymmetric": Outcome.SUPPRESSED, "forward-drop": Outcome.PASSED,
                              "parse-partial": Outcome.FAILED}


def test_file_glob_never_matches_a_finding_without_location():
    dump = lab_dump()
    dump.findings.append(finding("forward-drop", "FORWARD", category="firewall", file=None))
    apply(dump, Config(suppress=[Suppression("forward-drop", "r", file="*")]))
    assert not dump.suppressed


def test_apply_twice_changes_nothing_more():
    config = Config(severity={"nat": WARNING}, suppress=[Suppression("nat", "isolated", key="virbr1")])
    dump = lab_dump()
    apply(dump, config)
    first = (list(dump.findings), list(dump.suppressed), [(r.rule, r.outcome) for r in dump.results])
    apply(dump, config)
    assert (dump.findings, dump.suppressed, [(r.rule, r.outcome) for r in dump.results]) == first


# -- fail-on and the exit code ---------------------------------------------------------------------

def test_fail_on_precedence():
    assert resolve_fail_on(None, Config()) is ERROR
    assert resolve_fail_on(None, Config(fail_on=WARNING)) is WARNING
    assert resolve_fail_on(INFO, Config(fail_on=WARNING)) is INFO
    assert resolve_fail_on(ERROR, Config(fail_on=INFO)) is ERROR


def report(*dumps: DumpReport) -> CheckReport:
    return CheckReport(version="test", dumps=list(dumps))


def test_exit_codes_follow_the_threshold():
    warnings_only = DumpReport("a", findings=[finding("rp-filter-asymmetric", "eth1", WARNING)])
    infos_only = DumpReport("b", findings=[finding("parse-partial", "route.txt", INFO)])
    clean = DumpReport("c")
    assert exit_code(report(clean), ERROR) == 0
    assert exit_code(report(clean, warnings_only, infos_only), ERROR) == 0
    assert exit_code(report(clean, warnings_only), WARNING) == 1
    assert exit_code(report(infos_only), WARNING) == 0
    assert exit_code(report(infos_only), INFO) == 1
    assert exit_code(report(lab_dump()), ERROR) == 1


def test_unreadable_dump_wins_with_two():
    unreadable = DumpReport("empty-dir", error="nothing readable")
    assert exit_code(report(unreadable), ERROR) == 2
    assert exit_code(report(lab_dump(), unreadable), INFO) == 2
    assert exit_code(report(unreadable, lab_dump()), ERROR) == 2


def test_suppressed_and_downgraded_findings_do_not_fail():
    dump = lab_dump()
    apply(dump, Config(severity={"masquerade-missing": WARNING},
                       suppress=[Suppression("forwarding-disabled", "bench")]))
    assert exit_code(report(dump), ERROR) == 0
    assert exit_code(report(dump), WARNING) == 1


def test_the_documented_examples_load_as_documented(tmp_path):
    plain, pyproject = re.findall(r"```toml\n(.*?)```", (REPO / "docs" / "configuration.md").read_text(), re.S)
    config = load_config(write(tmp_path / "netlint.toml", plain))
    assert config.select == ["sysctl", "nat", "firewall", "evidence"]
    assert config.fail_on is WARNING
    assert config.severity == {"nat-forward-dev-pinned": INFO, "evidence": INFO}
    assert [(s.rule, s.dump, s.key, s.file) for s in config.suppress] == [
        ("forwarding-disabled", "lab-07*", None, None), ("masquerade-missing", None, "virbr1", None),
        ("evidence", "dumps/rack3/*", None, "nft*")]
    table = load_config(write(tmp_path / "pyproject.toml", pyproject))
    assert (table.select, table.fail_on, table.severity) == (["sysctl", "nat", "firewall"], WARNING,
                                                             {"nat-forward-dev-pinned": INFO})
    assert table.suppress == [config.suppress[1]]
    assert find_config(tmp_path) == tmp_path / "netlint.toml"
