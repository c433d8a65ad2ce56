"""The `netlint` command: parses flags, calls the stages, picks a renderer, sets the exit code.

Each command imports the stages it uses when it runs: `netlint parse` on a 100k-rule file
should not pay for networkx and the packet walk.
"""

from __future__ import annotations

import argparse
import os
import sys
from ipaddress import ip_address, ip_network
from pathlib import Path

from . import __version__
from .intake import InputError
from .model import Kind
from .rules.config import ConfigError
from .rules.errors import RuleError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is the one-line `netlint: error: …` of design.md §5."""

    def error(self, message: str):
        raise SystemExit(_fail(message))


def _fail(message: str) -> int:
    print(f"netlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _input_options(p: argparse.ArgumentParser, namespace: bool = True) -> None:
    p.add_argument("--max-input-mb", type=_megabytes, default=200, metavar="N",
                   help="refuse an archive, sosreport or standard input larger than N MB uncompressed (default 200)")
    if namespace:
        p.add_argument("--namespace", metavar="NS", help="read this network namespace of a sosreport as the host")


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="netlint", description="Offline analyzer and linter for KVM/libvirt host networking.")
    parser.add_argument("--version", action="version", version=f"netlint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    k = commands.add_parser("check", help="run every rule on one or more dumps",
                            description="Read each dump, run the rule catalog (and --rules), and report what is "
                                        "broken, why, where in the dump, and how to fix it.")
    k.add_argument("dumps", metavar="DUMP", nargs="+",
                   help="dump folders, sosreports (folders or .tar.xz/.tar.gz/.tar), pasted tickets, or - (stdin)")
    k.add_argument("--format", choices=["text", "json", "sarif", "junit", "github"], default="text")
    k.add_argument("--rules", metavar="DIR", type=Path, action="append", default=[],
                   help="a folder of extra rule files (repeatable)")
    k.add_argument("--select", metavar="IDS", help="only these rule ids or categories (comma-separated)")
    k.add_argument("--ignore", metavar="IDS", help="leave out these rule ids or categories (comma-separated)")
    k.add_argument("--fail-on", choices=["error", "warning", "info"],
                   help="the lowest severity that makes the exit code 1 (default: error)")
    k.add_argument("--jobs", type=_jobs, default=1, metavar="N", help="check N dumps at a time")
    k.add_argument("--upstream-knows", metavar="CIDR", type=_network, action="append", default=[],
                   help="a network the upstream gateways route back to the hosts (repeatable), e.g. a routed "
                        "guest network the LAN router knows")
    k.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    _input_options(k)
    k.set_defaults(run=_run_check)

    r = commands.add_parser("rules", help="list the rules, show one, or test them",
                            description="List the rule catalog, print one rule's documentation, or run the rule "
                                        "fixtures (--test).")
    r.add_argument("rule", metavar="ID", nargs="?", help="print this rule's documentation")
    r.add_argument("--rules", metavar="DIR", type=Path, action="append", default=[],
                   help="a folder of extra rule files (repeatable)")
    r.add_argument("--test", metavar="DIR", nargs="?", const="tests/rules", type=Path,
                   help="run the must / must-not fixtures under DIR (default: tests/rules); with --rules, "
                        "of those rules only")
    r.set_defaults(run=_run_rules)

    p = commands.add_parser("parse", help="parse saved command outputs into typed facts",
                            description="Parse a saved command output (or every file of a dump folder) "
                                        "into typed, line-referenced facts.")
    p.add_argument("path", metavar="FILE", help="an output file, a dump folder, a sosreport or archive, or - (stdin)")
    p.add_argument("--kind", choices=[k.value for k in Kind if k not in (Kind.UNKNOWN, Kind.PROSE)],
                   help="what command printed FILE (default: recognized from the content)")
    p.add_argument("--format", choices=["json", "text"], default="json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    _input_options(p, namespace=False)
    p.set_defaults(run=_run_parse)

    t = commands.add_parser("trace", help="follow a packet through the host and back",
                            description="Follow a flow's packets through the host and the reply back, the way "
                                        "the kernel would, and say where and why it stops.")
    t.add_argument("dump", metavar="DUMP", help="a dump folder or file")
    t.add_argument("--src", required=True, type=_address, help="source address (a guest's, or an outside one)")
    t.add_argument("--dst", required=True, type=_address, help="destination address")
    t.add_argument("--proto", choices=["icmp", "tcp", "udp"], default="icmp")
    t.add_argument("--dport", type=_port, help="destination port (tcp/udp)")
    t.add_argument("--sport", type=_port, help="source port (tcp/udp)")
    t.add_argument("--upstream-knows", metavar="CIDR", type=_network, action="append", default=[],
                   help="a network the upstream gateways route back to this host (repeatable)")
    t.add_argument("--in", dest="ingress", metavar="IFACE", help="the interface a flow from outside enters by")
    t.add_argument("--format", choices=["text", "json"], default="text")
    t.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    _input_options(t)
    t.set_defaults(run=_run_trace)

    g = commands.add_parser("graph", help="draw the host's topology",
                            description="Print the map the packet walk follows: guests, taps, bridges, the host, "
                                        "uplinks, gateways and the outside, each edge with its origin.")
    g.add_argument("dump", metavar="DUMP", help="a dump folder or file")
    g.add_argument("--format", choices=["dot", "mermaid", "json"], default="dot")
    g.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    _input_options(g)
    g.set_defaults(run=_run_graph)

    c = commands.add_parser("collect", help="save this host's network state as a dump",
                            description="Run the standard commands (ip, bridge, brctl, route, iptables-save, sysctl "
                                        "…) on this host, or in the network namespace netlint runs in, and write a "
                                        "dump folder (or .tar.gz) with a manifest of what ran.")
    c.add_argument("-o", "--output", metavar="DIR", help="the dump folder, or a file ending in .tar.gz "
                                                           "(default: netlint-dump-HOST-TIME)")
    c.set_defaults(run=_run_collect)
    return parser


def _address(text: str):
    try:
        address = ip_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not an IP address") from None
    if address.version != 4:
        raise argparse.ArgumentTypeError(f"{text} is not an IPv4 address (the trace covers IPv4)")
    return address


def _network(text: str):
    try:
        return ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text} is not a network (CIDR)") from None


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text} is not a port number")
    return int(text)


def _megabytes(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a size in MB (1 or more)")
    return int(text)


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a number of jobs (1 or more)")
    return int(text)


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _run_parse(args: argparse.Namespace) -> int:
    from .intake import read_dump, read_input
    from .model import Status
    from .parsers import parse
    from .report.parse_output import render_json, render_text

    if args.path == "-":
        if args.kind:
            return _fail("--kind names a file's command; standard input is read as a paste of any outputs")
        sources = read_input("-", args.max_input_mb << 20)
    else:
        sources = read_dump(Path(args.path), Kind(args.kind) if args.kind else None, args.max_input_mb << 20)
    results = [parse(source) for source in sources]
    if len(results) == 1 and results[0].source.kind is Kind.UNKNOWN and results[0].source.empty_reason is None:
        return _fail(f"{args.path}: cannot tell which command printed this file; name it with --kind")
    _write((render_json if args.format == "json" else render_text)(results), args.output)
    return EXIT_CLEAN if all(r.status is Status.PARSED for r in results) else EXIT_FINDINGS


def _run_check(args: argparse.Namespace) -> int:
    from .model import Severity
    from .report import check_json, check_text, github, junit, sarif
    from .rules.check import CheckRequest, run

    report, code = run(CheckRequest(args.dumps, args.rules, args.select, args.ignore,
                                    Severity(args.fail_on) if args.fail_on else None, args.jobs,
                                    args.upstream_knows, args.max_input_mb << 20, args.namespace))
    if args.format == "text":
        color = not args.output and check_text.use_color(sys.stdout, os.environ)
        text = check_text.render_text(report, color)
    else:
        text = {"json": check_json.render_json, "sarif": sarif.render_sarif, "junit": junit.render_junit,
                "github": github.render_github}[args.format](report)
    _write(text, args.output)
    for dump in report.dumps:
        if dump.error:
            print(f"netlint: error: {dump.error}", file=sys.stderr)
    return code


def _run_rules(args: argparse.Namespace) -> int:
    from .report import rule_docs
    from .rules.loader import load_rules

    rules = load_rules(args.rules)
    if args.test is not None:
        from .rules.fixtures import missing_fixtures, run_all

        if not args.test.is_dir():
            return _fail(f"{args.test}: no rule fixtures there (run from the repository, or name the folder)")
        tested = load_rules(args.rules, builtin=False) if args.rules else rules
        results = run_all(args.test, tested)
        missing = missing_fixtures(args.test, tested)
        sys.stdout.write(rule_docs.render_test_results(results, missing))
        return EXIT_CLEAN if all(r.ok for r in results) and not missing else EXIT_FINDINGS
    if args.rule is None:
        sys.stdout.write(rule_docs.render_list([r.doc for r in rules]))
        return EXIT_CLEAN
    chosen = next((r for r in rules if r.id == args.rule), None)
    if chosen is None:
        return _fail(f"no rule {args.rule} (netlint rules lists them)")
    sys.stdout.write(rule_docs.render_doc(chosen.doc))
    return EXIT_CLEAN


def _run_trace(args: argparse.Namespace) -> int:
    from .host import load_host
    from .model.trace import Flow, Verdict
    from .report import trace_output
    from .trace import trace

    if args.proto == "icmp" and (args.dport or args.sport):
        return _fail("--dport and --sport go with --proto tcp or udp")
    host = load_host(args.dump, args.max_input_mb << 20, args.namespace)
    result = trace(host, Flow(args.src, args.dst, args.proto, args.sport, args.dport), args.upstream_knows,
                   args.ingress)
    render = trace_output.render_json if args.format == "json" else trace_output.render_text
    _write(render(result), args.output)
    return EXIT_CLEAN if result.verdict is Verdict.REACHABLE else EXIT_FINDINGS


def _run_graph(args: argparse.Namespace) -> int:
    from .host import load_host
    from .report import graph as graph_output
    from .topology import build_graph

    render = {"dot": graph_output.render_dot, "mermaid": graph_output.render_mermaid,
              "json": graph_output.render_json}[args.format]
    _write(render(build_graph(load_host(args.dump, args.max_input_mb << 20, args.namespace))), args.output)
    return EXIT_CLEAN


def _run_collect(args: argparse.Namespace) -> int:
    from . import collect

    destination = Path(args.output) if args.output else collect.default_destination()
    manifest, outputs = collect.collect()
    written = collect.write(destination, manifest, outputs)
    missing = [r for r in manifest.commands if not r.written]
    print(f"netlint: wrote {written} ({len(outputs)} outputs"
          + (f"; not collected: {', '.join(f'{r.file} ({r.reason})' for r in missing)}" if missing else "") + ")",
          file=sys.stderr)
    return EXIT_CLEAN if outputs else EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    args = _build().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, ConfigError, RuleError) as error:
        return _fail(str(error))
    except OSError as error:
        return _fail(f"{getattr(error, 'filename', None) or ''}: {error.strerror or error}".lstrip(": "))
    except Exception as error:  # the last line of defence: one line, unless --debug asks for more
        if args.debug:
            raise
        return _fail(f"internal error: {type(error).__name__}: {error} (run with --debug for a traceback)")


def run() -> None:
    """The console script. Once the output is written, the process ends without freeing its
    facts one by one: on a 100k-rule host that teardown alone takes a second."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
