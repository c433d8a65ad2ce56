"""One host, every form (design.md §2): from the same saved outputs, a dump folder, a pasted
ticket, sosreports in sos 3.x and 4.x layout and the same as .tar.xz must lead `netlint check`
to the same warnings and errors, each cited at the place its line has in that form, and to the
same exit code; for healthy hosts and for broken ones. The forms are built by
`tests/intake_forms.py`.

A sosreport carries no guest output (sos runs on the host), so against a sosreport the folder's
findings that cite a guest file (`guest/…`: a guest whose default gateway is not the host, a
route only the guest's `route print` shows) are not expected (`guest_only`), and the
exit code expected is then the one the remaining findings give. Every other finding must be the
same in every form.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests import intake_forms
from tests.conftest import CORPUS, FIXTURES, IN_CI, REPO, require_corpus
from tests.intake_forms import Form, NamespaceUnavailable, Place
from tests.test_cli import netlint

DUMPS = FIXTURES / "dumps"
HEALTHY = [DUMPS / "seed-forwarding-on", DUMPS / "healthy-libvirt-5.1"]
BROKEN = [DUMPS / name for name in (
    "ip-forward-off", "uplink-forwarding-off", "masquerade-missing", "forward-drop-no-libvirt-accepts",
    "no-default-route", "static-route-bad-gateway", "tap-not-enslaved", "guest-gateway-not-host",
)] + [REPO / "examples" / "centos7-forwarding-off"]
# The sosreport forms need root: their firewall and bridge outputs are printed in a network namespace.
FORMS = ["ticket"] + [pytest.param(name, marks=pytest.mark.root)
                      for name in ("sos-3.6", "sos-3.6.tar.xz", "sos-4.5.4", "sos-4.5.4.tar.xz")]
SOS_TSV = CORPUS / "sosreport-paths" / "sos-network-paths-by-version.tsv"


def _id(dump: Path) -> str:
    return dump.name


class Forms:
    """Every form of every dump, each built once per session."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[tuple[Path, str], Form] = {}
        self.checked: dict[Path, tuple[int, list[dict]]] = {}

    def get(self, dump: Path, name: str) -> Form:
        if (dump, name) not in self.built:
            self.built[(dump, name)] = self._build(dump, name)
        return self.built[(dump, name)]

    def _build(self, dump: Path, name: str) -> Form:
        if name == "folder":
            return intake_forms.folder(dump)
        dest = self.root / dump.name / name
        dest.mkdir(parents=True)
        if name == "ticket":
            return intake_forms.ticket(dump, dest)
        version = name.removeprefix("sos-").removesuffix(".tar.xz")
        if name.endswith(".tar.xz"):
            return intake_forms.archive(self.get(dump, f"sos-{version}"), dest)
        try:
            return intake_forms.sosreport(dump, dest, intake_forms.LAYOUTS[version])
        except NamespaceUnavailable as why:
            shutil.rmtree(dest)  # half a report: the next test tries again and gets the same answer
            if IN_CI:
                pytest.fail(f"CI=true but the sosreport forms cannot be built: {why}")
            pytest.skip(f"the sosreport forms need iptables in a fresh network namespace: {why}")

    def check(self, form: Form) -> tuple[int, list[dict]]:
        """`netlint check <form> --format json`: the exit code and the warning and error findings."""
        if form.path not in self.checked:
            run = netlint("check", str(form.path), "--format", "json")
            assert run.returncode in (0, 1) and run.stdout.strip(), \
                f"{form.name}: exit {run.returncode}\n{run.stderr[-3000:]}\n{run.stdout[-2000:]}"
            (dump,) = json.loads(run.stdout)["dumps"]
            assert dump["error"] is None, f"{form.name}: {dump['error']}"
            self.checked[form.path] = run.returncode, [f for f in dump["findings"] if f["severity"] != "info"]
        return self.checked[form.path]


@pytest.fixture(scope="session")
def forms(tmp_path_factory) -> Forms:
    return Forms(tmp_path_factory.mktemp("forms"))


def guest_only(finding: dict) -> bool:
    """A finding a sosreport cannot lead to: it cites a guest's own output."""
    return any(loc["file"] is not None and intake_forms.is_guest(loc["file"]) for loc in finding["locations"])


def _where(finding: dict) -> str:
    return f"{finding['rule']} ({finding['severity']}) at " + ", ".join(
        f"{loc['file']}:{loc['line']}" for loc in finding["locations"])


def unmatched(expected: list[dict], actual: list[dict], form: Form) -> list[str]:
    """What keeps the findings of `form` from being the folder's `expected` ones, each at the
    place its folder location has in the form: one line per finding not paired."""
    problems, left = [], list(actual)
    for finding in expected:
        wanted = [form.places(loc["file"], loc["line"]) for loc in finding["locations"]]
        if not all(wanted):
            problems.append(f"{_where(finding)} in the folder: {form.name} has no counterpart of that location")
            continue
        pair = next((other for other in left if _same(finding, other, wanted, form)), None)
        if pair is None:
            places = " and ".join(" or ".join(f"{p.file}:{p.line}" for p in spots) for spots in wanted)
            problems.append(f"{_where(finding)} in the folder: expected in {form.name} at {places}")
        else:
            left.remove(pair)
    problems += [f"{form.name} only: {_where(other)}" for other in left]
    return problems


def _same(finding: dict, other: dict, wanted: list[tuple[Place, ...]], form: Form) -> bool:
    if (other["rule"], other["severity"]) != (finding["rule"], finding["severity"]):
        return False
    if len(other["locations"]) != len(wanted):
        return False
    free = list(wanted)
    for loc in other["locations"]:
        spots = next((spots for spots in free if form.place(loc["file"], loc["line"]) in spots), None)
        if spots is None:
            return False
        free.remove(spots)
    return True


@pytest.mark.parametrize("dump", HEALTHY + BROKEN, ids=_id)
def test_the_folder_is_what_the_host_is(forms, dump):
    """The reference the other forms are held to: a healthy host is clean, a broken one errs."""
    code, findings = forms.check(forms.get(dump, "folder"))
    if dump in HEALTHY:
        assert (code, findings) == (0, []), [_where(f) for f in findings]
    else:
        assert code == 1 and any(f["severity"] == "error" for f in findings), [_where(f) for f in findings]


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("dump", HEALTHY + BROKEN, ids=_id)
def test_every_form_leads_to_the_same_findings(forms, dump, name):
    folder_code, folder_findings = forms.check(forms.get(dump, "folder"))
    form = forms.get(dump, name)
    expected = [f for f in folder_findings if form.carries_guest or not guest_only(f)]
    code, findings = forms.check(form)
    assert Counter((f["rule"], f["severity"]) for f in findings) == \
        Counter((f["rule"], f["severity"]) for f in expected), \
        f"{name}: {[_where(f) for f in findings]}\nfolder: {[_where(f) for f in expected]}"
    problems = unmatched(expected, findings, form)
    assert not problems, "\n".join(problems)
    dropped_errors = any(f["severity"] == "error" for f in folder_findings if f not in expected)
    want_code = int(any(f["severity"] == "error" for f in expected)) if dropped_errors else folder_code
    assert code == want_code


def test_a_guest_only_finding_is_what_the_sosreport_forms_leave_out(forms):
    """The exclusion is not empty talk: guest-gateway-not-host's error cites the guest's
    `route -n`, which no sosreport has."""
    _, findings = forms.check(forms.get(DUMPS / "guest-gateway-not-host", "folder"))
    assert [(f["rule"], f["locations"][0]["file"]) for f in findings if guest_only(f)] == \
        [("guest-path-blocked", "guest/route-n.txt")]


@pytest.mark.root
@pytest.mark.parametrize("version", sorted(intake_forms.LAYOUTS))
def test_the_sosreport_forms_use_the_paths_sos_writes(forms, version):
    """Every output file of a built sosreport is one the sos path table names (read in place)."""
    require_corpus()
    table = SOS_TSV.read_text()
    form = forms.get(REPO / "examples" / "centos7-forwarding-off", f"sos-{version}")
    written = sorted(p.relative_to(form.path).as_posix() for p in form.path.rglob("*") if p.is_file()
                     and not p.is_symlink())
    assert "sos_commands/kernel/sysctl_-a" in written and "etc/libvirt/qemu/networks/default.xml" in written
    for path in written:
        if path == "version.txt":
            continue
        generic = re.sub(r"iptables_-t_\w+_-nvL$", "iptables_-t_<table>_-nvL", path)
        generic = generic.replace("networks/default.xml", "networks/*.xml")
        named = generic in table or Path(generic).name in table and Path(generic).parent.as_posix() in table
        assert named, f"sos {version}: {path} is not in {SOS_TSV.name}"
