"""No dump makes the walk raise: scenario dumps with lines dropped, doubled, cut or spliced with
junk are loaded and traced for guest, host-local and inbound flows."""

from __future__ import annotations

from ipaddress import ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlint.host import build_host
from netlint.intake import source_from_bytes
from netlint.intake.files import role_of
from netlint.model.trace import Flow, Verdict
from netlint.parsers import parse
from netlint.trace import trace
from tests.conftest import FIXTURES

DUMPS = sorted(p for p in (FIXTURES / "dumps").iterdir() if p.is_dir())
FLOWS = [Flow(ip_address("192.168.122.2"), ip_address("203.0.113.10")),
         Flow(ip_address("192.168.122.2"), ip_address("192.168.50.201"), "tcp", None, 22),
         Flow(ip_address("192.168.122.2"), ip_address("192.168.122.3"), "udp", None, 53),
         Flow(ip_address("203.0.113.7"), ip_address("192.168.50.201"), "tcp", None, 8080)]

_edit = st.tuples(st.sampled_from(["drop", "double", "cut", "splice"]), st.integers(0, 10_000),
                  st.sampled_from([b" ", b"0", b"x", b"!", b"/", b"-", b"999999999999", b"\t", b":"]))


@settings(max_examples=400, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
@given(dump=st.sampled_from(DUMPS), edits=st.lists(st.tuples(st.integers(0, 20), _edit), max_size=8))
def test_damaged_dumps_trace_without_raising(dump, edits):
    files = sorted(p for p in dump.rglob("*") if p.is_file())
    texts = {p: p.read_bytes().split(b"\n") for p in files}
    for which, (op, where, junk) in edits:
        lines = texts[files[which % len(files)]]
        i = where % len(lines)
        if op == "drop":
            del lines[i]
            lines[:] = lines or [b""]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: where % (len(lines[i]) + 1)]
        else:
            cut = where % (len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + junk + lines[i][cut:]
    results = [parse(source_from_bytes(b"\n".join(texts[p]), p.relative_to(dump).as_posix(),
                                       role=role_of(p.relative_to(dump))))
               for p in files]
    host = build_host(str(dump), results)
    for flow in FLOWS:
        assert trace(host, flow).verdict in set(Verdict)
