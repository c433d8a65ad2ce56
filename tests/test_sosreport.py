"""sosreports read in place (design.md §2, form 2): the seed host's outputs laid out at the
paths sos 3.6 and sos 4.5.4+ write them to must give the same host, and the same error at
`sos_commands/kernel/sysctl_-a`, as the seed dump folder.

sos carries no `iptables-save`: its firewall is `iptables -t T -nvL` listings (and, with
nf_tables, `nft list ruleset`). Those are real outputs, taken from the seed's iptables-save
restored into a fresh network namespace (root; skips without it, fails when CI=true), as is
the `bridge -s -s -d link show` of a bridge with the seed's ports.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from netlint.host import Host, load_host
from netlint.intake import InputError, read_dump
from netlint.intake.sosreport import find_root
from netlint.model import Kind, Severity
from tests.conftest import IN_CI, REPO
from tests.lab_support.netns import Lab, backend, missing_requirement
from tests.test_cli import netlint

SEED = REPO / "examples" / "centos7-forwarding-off"
TOP = "sosreport-centos7-20181018"
NET = "sos_commands/networking"
FW = "sos_commands/firewall_tables"
TABLES = ("filter", "nat", "mangle")  # the seed's tables: sos lists those whose module is loaded

# The seed's host outputs at sos 3.6's paths, and at sos 4.5.4+'s (no route -n, no brctl).
SOS_36 = {
    f"{NET}/ip_-d_address": "ip-addr.txt",
    f"{NET}/ip_route_show_table_all": "ip-route.txt",
    f"{NET}/route_-n": "route-n.txt",
    f"{NET}/brctl_show": "brctl-show.txt",
    "sos_commands/kernel/sysctl_-a": "sysctl.txt",
    "etc/libvirt/qemu/networks/default.xml": "default-network.xml",
}
SOS_454 = {
    f"{NET}/ip_-d_address": "ip-addr.txt",
    f"{NET}/ip_route_show_table_all": "ip-route.txt",
    "sos_commands/kernel/sysctl_-a": "sysctl.txt",
    "sos_commands/virsh/virsh_-r_net-dumpxml_default": "default-network.xml",
    "etc/libvirt/qemu/networks/default.xml": "default-network.xml",
}


def seed_text(name: str) -> str:
    return (SEED / name).read_text()


def write_report(base, files: dict[str, str], version: str = "3.6", top: str = TOP):
    """A sosreport folder `base/top` holding `files` (path → text) and version.txt."""
    root = base / top
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    (root / "version.txt").write_text(f"sosreport: {version}\n")
    return root


def seeded(layout: dict[str, str]) -> dict[str, str]:
    return {relative: seed_text(name) for relative, name in layout.items()}


@pytest.fixture(scope="module")
def kernel_outputs() -> dict[str, str]:
    """The seed's firewall as sos lists it, and `bridge -s -s -d link show` of its bridge,
    taken from the kernel in a fresh network namespace."""
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but the namespace outputs cannot be taken: {reason}")
        pytest.skip(reason)
    with Lab(f"nlt-sos-{os.getpid()}") as lab:
        ns = lab.namespace()
        done = lab.restore(ns, 4, seed_text("iptables-save.txt"))
        assert done.returncode == 0, done.stderr
        out = {f"iptables_-t_{table}_-nvL": lab.check(ns, ["iptables", "-t", table, "-nvL"]) for table in TABLES}
        out["iptables_-vnxL"] = lab.check(ns, ["iptables", "-vnxL"])
        if backend() == "nf_tables" and shutil.which("nft"):
            out["nft_-a_list_ruleset"] = lab.check(ns, ["nft", "-a", "list", "ruleset"])
        lab.check(ns, ["ip", "link", "add", "virbr0", "type", "bridge"])
        for port in ("virbr0-nic", "vnet0"):
            lab.check(ns, ["ip", "tuntap", "add", "dev", port, "mode", "tap"])
            lab.check(ns, ["ip", "link", "set", port, "master", "virbr0"])
        out["bridge_-s_-s_-d_link_show"] = lab.check(ns, ["bridge", "-s", "-s", "-d", "link", "show"])
    return out


def sos_36(base, kernel_outputs):
    files = seeded(SOS_36)
    files.update({f"{NET}/{name}": kernel_outputs[name] for name in
                  [f"iptables_-t_{t}_-nvL" for t in TABLES] + ["iptables_-vnxL"]})
    write_report(base, files, "3.6")
    return base


def sos_454(base, kernel_outputs):
    files = seeded(SOS_454)
    files.update({f"{FW}/{name}": text for name, text in kernel_outputs.items() if name.startswith(("ipt", "nft"))})
    files[f"{NET}/bridge_-s_-s_-d_link_show"] = kernel_outputs["bridge_-s_-s_-d_link_show"]
    write_report(base, files, "4.5.4")
    return base


def facts(host: Host) -> dict:
    """What the packet walk and the rules read of a host, without where it came from."""
    return {
        "interfaces": {name: (sorted(str(a.address) for a in i.addresses), i.master, i.state, i.is_up)
                       for name, i in host.interfaces.items()},
        "routes": sorted((str(r.destination), str(r.gateway), r.dev, r.table, r.type, r.metric, str(r.src))
                         for r in host.routes),
        "bridges": {name: sorted(view.ports) for name, view in host.bridges.items()},
        "sysctls": {key: s.value for key, s in (host.sysctls or {}).items()},
        "firewall": {table.name: {chain.name: (chain.policy, [rule.render() for rule in chain.rules])
                                  for chain in table.chains.values()}
                     for table in host.firewall.tables.values()} if host.firewall else None,
        "libvirt": [(n.name, n.bridge, n.forward_mode) for n in host.libvirt_networks],
        "guest_networks": [(str(g.network), g.bridge, str(g.gateway)) for g in host.guest_networks],
    }


@pytest.mark.root
@pytest.mark.parametrize("build", [sos_36, sos_454])
def test_sosreport_gives_the_seed_host(tmp_path, kernel_outputs, build):
    expected = facts(load_host(str(SEED)))
    assert expected["firewall"] and expected["bridges"] and expected["sysctls"]  # the comparison has substance
    assert facts(load_host(str(build(tmp_path, kernel_outputs)))) == expected


@pytest.mark.root
def test_sos_454_firewall_is_the_listings_read_as_one(tmp_path, kernel_outputs):
    sources = {s.file: s for s in read_dump(sos_454(tmp_path, kernel_outputs))}
    listings = sorted(f for f, s in sources.items() if s.kind is Kind.IPTABLES_LIST)
    assert listings == sorted(f"{TOP}/{FW}/iptables_-t_{t}_-nvL" for t in TABLES)
    notes = [d.message for d in sources[f"{TOP}/{FW}/iptables_-t_filter_-nvL"].diagnostics
             if d.severity is Severity.INFO and d.origin.line is None]
    # iptables -vnxL is the filter table again, and nft says it again in its own syntax: not read
    expected = [f"iptables -t filter -nvL: read from this file (sos 4.1+), not from {TOP}/{FW}/iptables_-vnxL"]
    if "nft_-a_list_ruleset" in kernel_outputs:
        assert Kind.NFT_RULESET not in {s.kind for s in sources.values()}
        expected.append(f"nft list ruleset: {TOP}/{FW}/nft_-a_list_ruleset not read: the firewall is taken from "
                        "the iptables-list outputs")
    assert notes == expected
    host = load_host(str(tmp_path))
    assert [n for n in host.diagnostics if "more than one firewall output" in n.message] == []


@pytest.mark.root
def test_nft_output_is_read_when_there_is_no_listing(tmp_path, kernel_outputs):
    if "nft_-a_list_ruleset" not in kernel_outputs:
        if IN_CI:
            pytest.fail("CI=true but iptables here is not iptables-nft (or nft is missing): no nft ruleset to read")
        pytest.skip("iptables here is not iptables-nft: no nft ruleset to read")
    root = write_report(tmp_path, {
        **seeded(SOS_454), f"{FW}/nft_-a_list_ruleset": kernel_outputs["nft_-a_list_ruleset"],
        f"{FW}/iptables_-t_nat_-nvL": "iptables v1.8.9 (nf_tables): can't initialize iptables table `nat': "
                                      "Table does not exist\n"})
    by_kind = {s.kind: s for s in read_dump(root)}
    assert by_kind[Kind.NFT_RULESET].file == f"{FW}/nft_-a_list_ruleset"
    assert by_kind[Kind.NFT_RULESET].text == kernel_outputs["nft_-a_list_ruleset"]
    assert by_kind[Kind.IPTABLES_LIST].empty_reason.startswith("the output is an error message")


@pytest.mark.root
@pytest.mark.parametrize("build", [sos_36, sos_454])
def test_check_reports_forwarding_off_at_the_sos_sysctl_line(tmp_path, kernel_outputs, build):
    def forwarding_off(path) -> dict:
        run = netlint("check", str(path), "--format", "json")
        assert run.returncode == 1, run.stderr
        (dump,) = json.loads(run.stdout)["dumps"]
        (finding,) = [f for f in dump["findings"] if f["rule"] == "fwd-ipv4-forwarding-off"]
        return finding

    seed, sos = forwarding_off(SEED), forwarding_off(build(tmp_path, kernel_outputs))
    assert sos["severity"] == seed["severity"] == "error"
    assert sos["locations"][0] == {**seed["locations"][0], "file": f"{TOP}/sos_commands/kernel/sysctl_-a"}
    assert sos["locations"][0]["line"] == seed_text("sysctl.txt").splitlines().index("net.ipv4.ip_forward = 0") + 1
    assert sos["message"] == seed["message"]


def test_root_is_the_folder_or_one_level_down(tmp_path):
    root = write_report(tmp_path, {"sos_commands/kernel/sysctl_-a": "net.ipv4.ip_forward = 1\n"})
    assert find_root(root) == root
    assert find_root(tmp_path) == root
    assert find_root(root / "sos_commands") is None  # two levels: not a report
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "sos_commands").mkdir()
    with pytest.raises(InputError, match="holds several sosreports"):
        find_root(tmp_path)


def test_sources_are_named_by_their_path_relative_to_what_was_given(tmp_path):
    root = write_report(tmp_path, seeded(SOS_36))
    above = {s.file for s in read_dump(tmp_path)}
    at_root = {s.file for s in read_dump(root)}
    assert at_root == set(SOS_36)
    assert above == {f"{TOP}/{relative}" for relative in SOS_36}


def test_only_the_table_paths_are_read(tmp_path):
    files = seeded(SOS_36)
    files.update({f"{NET}/ip_-s_-d_link": seed_text("ip-addr.txt"), "etc/sysctl.conf": "net.ipv4.ip_forward = 1\n",
                  "etc/sysconfig/iptables": seed_text("iptables-save.txt"), "sos_logs/sos.log": "nothing\n",
                  f"{NET}/ip6tables_-t_filter_-nvL": "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"})
    root = write_report(tmp_path, files)
    assert {s.file for s in read_dump(root)} == set(SOS_36)
    # the security table's listing is read (its command names the table), as one more output
    (root / NET / "iptables_-t_security_-nvL").write_text("Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n")
    assert {s.file for s in read_dump(root)} == set(SOS_36) | {f"{NET}/iptables_-t_security_-nvL"}


def test_the_first_path_holding_output_is_read_and_the_choice_noted(tmp_path):
    root = write_report(tmp_path, {
        f"{NET}/ip_-d_address": "Object \"address\" is unknown, try \"ip help\".\n",
        f"{NET}/ip_address": seed_text("ip-addr.txt"),
        f"{NET}/ip_-o_addr": "1: lo    inet 127.0.0.1/8 scope host lo\n",
    })
    (source,) = read_dump(root)
    assert source.file == f"{NET}/ip_address" and source.kind is Kind.IP_ADDR and source.empty_reason is None
    (note,) = source.diagnostics
    assert note.severity is Severity.INFO
    assert note.message == (f"ip addr: read from this file (sos 2.2-3.4), not from {NET}/ip_-d_address (the output "
                            f"is an error message: Object \"address\" is unknown, try \"ip help\".), {NET}/ip_-o_addr")


def test_an_error_text_everywhere_is_empty_with_its_reason(tmp_path):
    root = write_report(tmp_path, {"sos_commands/kernel/sysctl_-a": "",
                                   f"{NET}/route_-n": "bash: route: command not found\n"})
    by_file = {s.file: s for s in read_dump(root)}
    assert by_file["sos_commands/kernel/sysctl_-a"].empty_reason == "the file is empty"
    assert by_file[f"{NET}/route_-n"].empty_reason.startswith("the output is an error message: bash: route")
    assert by_file[f"{NET}/route_-n"].kind is Kind.ROUTE


def test_content_of_another_command_is_read_as_the_path_says_with_a_warning(tmp_path):
    root = write_report(tmp_path, {"sos_commands/kernel/sysctl_-a": seed_text("route-n.txt")})
    (source,) = read_dump(root)
    assert source.kind is Kind.SYSCTL
    (warning,) = source.diagnostics
    assert warning.severity is Severity.WARNING and "reads as route output" in warning.message


def test_a_link_leading_out_of_the_report_is_not_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("net.ipv4.ip_forward = 1\n")
    root = write_report(tmp_path / "in", {f"{NET}/ip_route_show_table_all": seed_text("ip-route.txt")})
    (root / "sos_commands/kernel").mkdir()
    (root / "sos_commands/kernel/sysctl_-a").symlink_to(secret)
    by_file = {s.file: s for s in read_dump(root)}
    sysctl = by_file["sos_commands/kernel/sysctl_-a"]
    assert sysctl.text == "" and sysctl.empty_reason == "a link leading out of the sosreport: not read"


def test_libvirt_networks_one_source_each_live_definition_first(tmp_path):
    isolated = seed_text("default-network.xml").replace("default", "isolated").replace("virbr0", "virbr1")
    root = write_report(tmp_path, {
        "sos_commands/virsh/virsh_-r_net-dumpxml_default": seed_text("default-network.xml"),
        "etc/libvirt/qemu/networks/default.xml": seed_text("default-network.xml"),
        "etc/libvirt/qemu/networks/isolated.xml": isolated,
    })
    (root / "etc/libvirt/qemu/networks/autostart").mkdir()
    (root / "etc/libvirt/qemu/networks/autostart/default.xml").symlink_to("../default.xml")
    sources = read_dump(root)
    assert [(s.file, s.kind) for s in sources] == [
        ("sos_commands/virsh/virsh_-r_net-dumpxml_default", Kind.LIBVIRT_NETWORK_XML),
        ("etc/libvirt/qemu/networks/isolated.xml", Kind.LIBVIRT_NETWORK_XML)]
    assert "not from etc/libvirt/qemu/networks/default.xml" in sources[0].diagnostics[0].message


def test_namespaces_are_read_only_on_request(tmp_path):
    ns = "qrouter-1"
    folder = f"{NET}/namespaces/{ns}/ip_netns_exec_{ns}_"
    root = write_report(tmp_path, {
        **seeded(SOS_36),
        f"{folder}ip_-d_address_show": seed_text("ip-addr.txt"),
        f"{folder}iptables-save": seed_text("iptables-save.txt"),
        f"{NET}/ip_netns_exec_old-ns_ip_address_show": seed_text("ip-addr.txt"),
    })
    assert {s.file for s in read_dump(root)} == set(SOS_36)
    inside = read_dump(root, namespace=ns)
    assert [(s.file, s.kind) for s in inside] == [(f"{folder}ip_-d_address_show", Kind.IP_ADDR),
                                                  (f"{folder}iptables-save", Kind.IPTABLES_SAVE)]
    (old,) = read_dump(root, namespace="old-ns")
    assert old.file == f"{NET}/ip_netns_exec_old-ns_ip_address_show"
    with pytest.raises(InputError, match=r"has no namespace nope \(it has: old-ns, qrouter-1\)"):
        read_dump(root, namespace="nope")


def test_a_kind_does_not_apply_to_a_sosreport_and_errors_are_one_line(tmp_path):
    root = write_report(tmp_path, seeded(SOS_36))
    with pytest.raises(InputError) as error:
        read_dump(root, Kind.SYSCTL)
    assert "\n" not in str(error.value)
    empty = write_report(tmp_path / "empty", {"sos_logs/sos.log": "x\n"})
    with pytest.raises(InputError, match="without any output netlint reads"):
        read_dump(empty)


def test_the_input_cap_applies_to_what_is_read(tmp_path):
    root = write_report(tmp_path, seeded(SOS_36))
    size = len(seed_text("sysctl.txt").encode())
    with pytest.raises(InputError) as error:
        read_dump(root, max_bytes=size - 1)
    assert "input cap" in str(error.value) and "\n" not in str(error.value)


def test_security_and_ip6tables_listings_take_table_and_family_from_the_command(tmp_path):
    """A listing names neither its table nor its family: the sos file name (the command sos
    ran) does. Real listings from the kernel: a security-table rule, and an ip6tables FORWARD
    DROP, each read where the rules look for it."""
    reason = missing_requirement()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but the namespace outputs cannot be taken: {reason}")
        pytest.skip(reason)
    with Lab(f"nlt-sos6-{os.getpid()}") as lab:
        ns = lab.namespace()
        assert lab.restore(ns, 4, seed_text("iptables-save.txt")).returncode == 0
        lab.check(ns, ["iptables", "-t", "security", "-A", "INPUT", "-i", "virbr0", "-j", "ACCEPT"])
        lab.check(ns, ["ip6tables", "-P", "FORWARD", "DROP"])
        listings = {f"iptables_-t_{t}_-nvL": lab.check(ns, ["iptables", "-t", t, "-nvL"])
                    for t in (*TABLES, "security")}
        listings["ip6tables_-vnxL"] = lab.check(ns, ["ip6tables", "-vnxL"])
    files = seeded(SOS_454)
    files.update({f"{FW}/{name}": text for name, text in listings.items()})
    host = load_host(str(write_report(tmp_path, files, "4.5.4")))
    security = host.firewall.tables["security"]
    assert [r.render() for r in security.chains["INPUT"].rules] == ["-A INPUT -i virbr0 -j ACCEPT"]
    assert host.firewall.tables["filter"].chains["FORWARD"].policy == "ACCEPT"
    assert host.firewall6 is not None and host.firewall6.family == 6
    assert host.firewall6.tables["filter"].chains["FORWARD"].policy == "DROP"
