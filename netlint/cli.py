"""The `netlint` command: parses flags, calls the stages, picks a renderer, sets the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .intake import InputError, read_dump
from .model import Kind, Status
from .parsers import parse
from .report.parse_output import render_json, render_text

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is the one-line `netlint: error: …` of design.md §5."""

    def error(self, message: str):
        raise SystemExit(_fail(message))


def _fail(message: str) -> int:
    print(f"netlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="netlint", description="Offline analyzer and linter for KVM/libvirt host networking.")
    parser.add_argument("--version", action="version", version=f"netlint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = commands.add_parser("parse", help="parse saved command outputs into typed facts",
                            description="Parse a saved command output (or every file of a dump folder) "
                                        "into typed, line-referenced facts.")
    p.add_argument("path", metavar="FILE", help="an output file, or a dump folder")
    p.add_argument("--kind", choices=[k.value for k in Kind if k not in (Kind.UNKNOWN, Kind.PROSE)],
                   help="what command printed FILE (default: recognized from the content)")
    p.add_argument("--format", choices=["json", "text"], default="json")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(run=_run_parse)
    return parser


def _write(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _run_parse(args: argparse.Namespace) -> int:
    sources = read_dump(Path(args.path), Kind(args.kind) if args.kind else None)
    results = [parse(source) for source in sources]
    if len(results) == 1 and results[0].source.kind is Kind.UNKNOWN and results[0].source.empty_reason is None:
        return _fail(f"{args.path}: cannot tell which command printed this file; name it with --kind")
    _write((render_json if args.format == "json" else render_text)(results), args.output)
    return EXIT_CLEAN if all(r.status is Status.PARSED for r in results) else EXIT_FINDINGS


def main(argv: list[str] | None = None) -> int:
    args = _build().parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
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
