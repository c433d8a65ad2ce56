"""The kernel checks netlint's iptables model: a ruleset that `iptables-restore` accepts, parsed
by netlint and rendered back (`Ruleset.render_save`), must load into another fresh network
namespace as the same rules (`iptables-save` of both, counters and comments aside).

Every real `iptables-save` output is checked: the corpus (read in place) and this repository's
libvirt / Docker + libvirt fixtures. What `iptables-restore` rejects is decided at run time:
rejections for a reason of the file itself are listed in REJECTED with the words iptables uses;
any other rejection must be the kernel lacking a module (KERNEL_GAP), reported as an expected
failure with iptables' message. Works with iptables-nft and iptables-legacy, whichever is
installed. Needs root; skips without it, fails instead when CI=true.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from netlint.intake import read_file
from netlint.model import Kind, Source, Status
from netlint.parsers import parse
from tests.conftest import CORPUS, FIXTURES, IN_CI, REPO, require_corpus
from tests.lab_support.libvirt_host import FIXTURES as LIBVIRT_HOSTS
from tests.lab_support.libvirt_host import build
from tests.lab_support.netns import Lab, LabError, backend, missing_requirement, normalize

pytestmark = pytest.mark.root

# Corpus files iptables 1.8 refuses whatever the kernel: file -> what iptables-restore says.
REJECTED = {
    # `-g ACCEPT`: goto needs a user chain (legacy: "goto 'ACCEPT' is not a chain").
    "insights-iptables-save-v1.4.7-rhel6.txt": r"Chain 'ACCEPT' does not exist|goto 'ACCEPT' is not a chain",
    # A made-up option in a parser stress test.
    "iptsem-parser-test-stress.txt": r'unknown option "--something-else"',
    # MAC addresses anonymised as XX:XX:XX:XX:XX:XX.
    "netnetwork-tum-i8-2013-10-20.txt": r"Invalid MAC address specified",
    "netnetwork-tum-i8-2015-05-13.txt": r"Invalid MAC address specified",
    "netnetwork-tum-i8-2015-05-15.txt": r"Invalid MAC address specified",
    "netnetwork-tum-i8-2016-06-27.txt": r"Invalid MAC address specified",
    "netnetwork-tum-i8-ip6-2016-06-27.txt": r"Invalid MAC address specified",
    # `-d ! 192.168.122.0/255.255.255.0`: the `!` after the option, which iptables >= 1.4.3 refuses.
    "netnetwork-ugent.txt": r"Bad argument `192\.168\.122\.0/255\.255\.255\.0'",
    # `COMMIT ` with a trailing blank.
    "netnetwork-veroneau-net.txt": r"Bad argument `COMMIT'",
}
# What iptables says when the running kernel lacks a match, target or table.
KERNEL_GAP = re.compile(r"[Cc]ouldn't load (match|target)|missing kernel module|insmod|No such file or directory"
                        r"|Protocol not supported|Operation not supported")
# The corpus has 40 files, 31 of which iptables 1.8.9 on a full kernel accepts.
MIN_ACCEPTED = 25

CORPUS_DIR = CORPUS / "iptables-save"
FIXTURE_DIR = FIXTURES / "iptables-save"
CORPUS_NAMES = sorted(p.name for p in CORPUS_DIR.glob("*.txt"))
FIXTURE_NAMES = [name for host in LIBVIRT_HOSTS for name in host.files()]


@dataclass
class Verdict:
    """What iptables-restore made of a file's ruleset, and what iptables-save then printed."""

    source: Source
    family: int
    reason: str | None  # iptables' message when it rejected the file
    saved: dict[str, list[str]]


class Kernel:
    """Restores files into fresh namespaces, each verdict computed once."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.verdicts: dict[Path, Verdict] = {}

    def verdict(self, path: Path) -> Verdict:
        if path not in self.verdicts:
            self.verdicts[path] = self._judge(path)
        return self.verdicts[path]

    def _judge(self, path: Path) -> Verdict:
        pieces = [s for s in read_file(path) if s.kind is Kind.IPTABLES_SAVE]
        assert len(pieces) == 1, f"{path.name}: {len(pieces)} iptables-save pieces"
        source = pieces[0]
        result = parse(source)
        assert result.status is Status.PARSED, f"{path.name}: {result.status}"
        family = result.data.family or 4
        ns = self.lab.namespace()
        try:
            done = self.lab.restore(ns, family, source.text)
            if done.returncode != 0:
                return Verdict(source, family, done.stderr.strip(), {})
            return Verdict(source, family, None, normalize(self.lab.save(ns, family)))
        finally:
            self.lab.remove(ns)


def require_lab() -> None:
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but the kernel checks cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab():
    require_lab()
    lab = Lab()
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def kernel(lab) -> Kernel:
    return Kernel(lab)


def kernel_gap_or_fail(name: str, reason: str) -> None:
    """An unlisted rejection is allowed only when the kernel lacks a module: then xfail, but
    never in CI, whose machines must run every check."""
    assert KERNEL_GAP.search(reason), f"iptables-restore rejects {name} for a reason not in REJECTED:\n{reason}"
    message = f"this kernel cannot load {name} ({backend()}): {reason.splitlines()[0]}"
    if IN_CI:
        pytest.fail(f"CI=true: {message}")
    pytest.xfail(message)


def offending_line(stderr: str, text: str) -> str:
    m = re.search(r"line:? (\d+)", stderr)
    lines = text.splitlines()
    if m is None or not 0 < int(m.group(1)) <= len(lines):
        return ""
    return f"\nline {m.group(1)} of the rendered model: {lines[int(m.group(1)) - 1]}"


def table_diff(expected: dict[str, list[str]], got: dict[str, list[str]]) -> str:
    out = [f"tables: file {sorted(expected)}, model {sorted(got)}"]
    for table in sorted(set(expected) | set(got)):
        out.extend(difflib.unified_diff(expected.get(table, []), got.get(table, []), f"file *{table}",
                                        f"model *{table}", lineterm="", n=1))
    return "\n".join(out[:80])


def check_model(kernel: Kernel, path: Path) -> None:
    verdict = kernel.verdict(path)
    if verdict.reason is not None:
        kernel_gap_or_fail(path.name, verdict.reason)
    ruleset = parse(verdict.source).data
    rendered = ruleset.render_save()
    ns = kernel.lab.namespace()
    try:
        done = kernel.lab.restore(ns, verdict.family, rendered)
        assert done.returncode == 0, (f"iptables-restore accepts {path.name} but not netlint's rendering of it:\n"
                                      f"{done.stderr.strip()}{offending_line(done.stderr, rendered)}")
        got = normalize(kernel.lab.save(ns, verdict.family))
    finally:
        kernel.lab.remove(ns)
    assert got == verdict.saved, f"{path.name}: the kernel holds other rules\n{table_diff(verdict.saved, got)}"


@pytest.mark.corpus
@pytest.mark.parametrize("name", [n for n in CORPUS_NAMES if n not in REJECTED] or ["(corpus absent)"])
def test_kernel_loads_the_model_of_a_corpus_file_as_the_file(name, kernel):
    check_model(kernel, require_corpus() / "iptables-save" / name)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_kernel_loads_the_model_of_a_libvirt_fixture_as_the_fixture(name, kernel):
    check_model(kernel, FIXTURE_DIR / name)


@pytest.mark.corpus
def test_iptables_rejects_exactly_the_listed_files_with_their_reasons(kernel):
    folder = require_corpus() / "iptables-save"
    verdicts = {name: kernel.verdict(folder / name) for name in CORPUS_NAMES}
    rejected = {name: v.reason for name, v in verdicts.items() if v.reason is not None}
    for name, pattern in REJECTED.items():
        assert name in verdicts, f"{name} is listed but not in the corpus"
        assert name in rejected, f"{name} is listed as rejected, but iptables-restore accepts it"
        assert re.search(pattern, rejected[name]), f"{name} is rejected for another reason:\n{rejected[name]}"
    unlisted = {name: reason for name, reason in rejected.items() if name not in REJECTED}
    for name, reason in unlisted.items():
        assert KERNEL_GAP.search(reason), f"iptables-restore rejects {name} for a reason not in REJECTED:\n{reason}"
    accepted = len(verdicts) - len(rejected)
    assert accepted >= MIN_ACCEPTED, (f"only {accepted} of {len(verdicts)} corpus files load on this kernel "
                                      f"({backend()}); the check would prove little. Kernel gaps: {unlisted}")


@pytest.mark.corpus
@pytest.mark.parametrize("host", LIBVIRT_HOSTS, ids=lambda host: host.stem)
def test_libvirt_fixtures_are_what_iptables_prints_for_the_commands(host, lab):
    try:
        built = build(lab, require_corpus() / "libvirt-rules", host)
    except LabError as error:
        kernel_gap_or_fail(host.stem, str(error))
    for name, text in built.items():
        stored = (FIXTURE_DIR / name).read_text()
        assert normalize(text) == normalize(stored), \
            f"{name} is stale: run tests/fixtures/iptables-save/make_libvirt.py\n" \
            f"{table_diff(normalize(stored), normalize(text))}"


@pytest.mark.parametrize("table", ["filter", "nat", "mangle", "raw"])
def test_iptables_dash_s_of_one_table_reads_as_that_table(lab, table):
    """`iptables -t T -S` prints no table name, but `-P` for exactly T's built-in chains: a paste
    of it is read as T, with the same rules iptables-save shows for T."""
    seed = (REPO / "examples" / "centos7-forwarding-off" / "iptables-save.txt").read_text() + \
        "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -i virbr0 -p udp -m udp --dport 69 -j ACCEPT\nCOMMIT\n"
    ns = lab.namespace()
    try:
        assert lab.restore(ns, 4, seed).returncode == 0
        dash_s = lab.check(ns, ["iptables", "-t", table, "-S"])
        saved = lab.save(ns, 4)
    finally:
        lab.remove(ns)
    from_s = parse(Source("s.txt", Kind.IPTABLES_SAVE, dash_s)).data
    from_save = parse(Source("save.txt", Kind.IPTABLES_SAVE, saved)).data
    assert list(from_s.tables) == [table]
    expected = sorted(r.render() for c in from_save.tables[table].chains.values() for r in c.rules)
    assert sorted(r.render() for r in from_s.rules()) == expected
    policies = {c.name: c.policy for c in from_save.tables[table].chains.values() if c.builtin}
    assert {c.name: c.policy for c in from_s.tables[table].chains.values() if c.builtin} == policies
