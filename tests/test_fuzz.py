"""No input makes a parser raise or hang: random text, and real outputs mutated at random."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlint.intake import source_from_bytes
from netlint.model import Kind, ParseResult
from netlint.parsers import parse, supported_kinds
from tests.conftest import CORPUS, FIXTURES

KINDS = supported_kinds()
CORPUS_FOLDERS = ["ip-addr", "brctl-show", "route", "route-print-windows", "ip-route", "netstat-rn", "sysctl",
                  "iptables-save", "iptables-L",
                  "libvirt-rules"]


def _samples() -> list[tuple[bytes, Kind]]:
    """Real outputs with the kind they were sniffed as: our fixtures, and the corpus where it
    is present (first 200 lines each)."""
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    if CORPUS.is_dir():
        files += sorted(p for folder in CORPUS_FOLDERS for p in (CORPUS / folder).glob("*") if p.is_file())
    samples = []
    for path in files:
        data = b"\n".join(path.read_bytes().split(b"\n")[:200])
        kind = source_from_bytes(data, path.name).kind
        samples.append((data, kind if kind in KINDS else Kind.UNKNOWN))
    return samples


SAMPLES = _samples()

# A real output, then a few edits: a line dropped, doubled, cut short, or bytes spliced in.
_edit = st.tuples(st.sampled_from(["drop", "double", "cut", "splice"]), st.integers(0, 10_000),
                  st.binary(max_size=12))


@st.composite
def mutated(draw) -> tuple[bytes, Kind]:
    data, kind = draw(st.sampled_from(SAMPLES))
    lines = data.split(b"\n")
    for op, where, junk in draw(st.lists(_edit, max_size=6)):
        i = where % len(lines)
        if op == "drop":
            del lines[i]
            lines = lines or [b""]
        elif op == "double":
            lines.insert(i, lines[i])
        elif op == "cut":
            lines[i] = lines[i][: where % (len(lines[i]) + 1)]
        else:
            cut = where % (len(lines[i]) + 1)
            lines[i] = lines[i][:cut] + junk + lines[i][cut:]
    return b"\n".join(lines), kind


def _check(data: bytes, kind: Kind) -> None:
    result = parse(source_from_bytes(data, "fuzz.txt", kind))
    assert isinstance(result, ParseResult)
    result.status  # noqa: B018 - computing the status must not raise either
    for diagnostic in result.diagnostics:
        assert diagnostic.origin.file == "fuzz.txt"


# The deadline is a hang guard (a parser stuck in backtracking), not a speed measurement.
FUZZ = settings(max_examples=300, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(sample=mutated())
def test_mutated_real_outputs_never_raise_in_their_own_parser(sample):
    data, kind = sample
    if kind is not Kind.UNKNOWN:
        _check(data, kind)


@FUZZ
@given(sample=mutated(), kind=st.sampled_from(KINDS))
def test_mutated_real_outputs_never_raise_in_any_parser(sample, kind):
    _check(sample[0], kind)


@FUZZ
@given(data=st.binary(max_size=400), kind=st.sampled_from(KINDS))
def test_random_bytes_never_raise(data, kind):
    _check(data, kind)


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list(" \t\n:/.<>@-=0123456789abcdefinetlkUPDOWN[]!*#")), max_size=300),
       kind=st.sampled_from(KINDS))
def test_output_like_text_never_raises(text, kind):
    _check(text.encode(), kind)


def test_samples_cover_every_kind_with_fixtures():
    """The mutation test is only as good as its seeds: every parsed kind has fixtures."""
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert {k.value for k in KINDS} <= folders
    assert {k for _, k in SAMPLES} >= set(KINDS)
