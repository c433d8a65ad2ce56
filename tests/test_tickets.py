"""Pasted tickets, markdown pages and stdin (design.md §2, forms 3 and 4): cut into pieces at
prompts, fences and by content, each piece at its lines of the original file, attached to the
host or the guest.

The corpus tickets and the example ticket are compared with tests/fixtures/tickets/expected.yaml,
written by hand from reading each file before netlint was run on it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netlint.intake.files import pieces_from_bytes, read_file, read_stdin
from netlint.intake.ticket import segment
from netlint.model import Kind, Role, Status
from netlint.parsers import parse
from tests.conftest import FIXTURES, require_corpus
from tests.test_cli import netlint

TICKETS = FIXTURES / "tickets"
EXPECTED = yaml.safe_load((TICKETS / "expected.yaml").read_text())["tickets"]
EXAMPLE = "examples/centos7-kvm-forwarding-ticket.md"


def _shared() -> Path:
    return require_corpus().parent


def _pieces(text: str, name: str = "ticket.md") -> list[tuple[str, int, int, str]]:
    return [(s.kind.value, s.first_line, s.last_line, s.role.value)
            for s in pieces_from_bytes(text.encode(), name)]


# ---- the real threads, against what a person wrote down ----

def test_expectations_cover_every_corpus_ticket():
    found = {f"corpus/tickets/{p.name}" for p in (require_corpus() / "tickets").iterdir()}
    assert found | {EXAMPLE} == set(EXPECTED)


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ticket_pieces_match_the_hand_written_expectation(name):
    path = _shared() / name
    sources = read_file(path, name=name)
    got = [(s.kind.value, s.first_line, s.last_line, s.role.value) for s in sources]
    assert got == [(p["kind"], p["first"], p["last"], p["role"]) for p in EXPECTED[name]]
    lines = path.read_text().split("\n")
    for source in sources:
        # line for line the file's (an output only loses markdown's wrapping: a backtick, an indent)
        assert source.text.count("\n") == source.last_line - source.first_line + 1
        for offset, line in enumerate(source.text.split("\n")[:-1]):
            assert line.strip("`").strip() == lines[source.first_line - 1 + offset].strip("`").strip()
        result = parse(source)
        if source.kind is Kind.UNKNOWN:
            assert result.status is Status.FAILED
        else:
            assert result.status in (Status.PARSED, Status.PARTIAL), result.diagnostics[:3]


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_ticket_problems_point_at_lines_of_the_file(name):
    path = _shared() / name
    lines = path.read_text().split("\n")
    for source in read_file(path, name=name):
        for problem in parse(source).diagnostics:
            assert problem.origin.file == name
            if problem.origin.line is not None and problem.text:
                assert problem.text.strip("`").strip() in lines[problem.origin.line - 1]


# ---- prompts ----

BRCTL = ("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n"
         "virbr0\t\t8000.525400c368e6\tyes\t\tvirbr0-nic\n"
         "\t\t\t\t\t\t\tvnet0\n")
IP_ADDR = ("4: virbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
           "    link/ether 52:54:00:c3:68:e6 brd ff:ff:ff:ff:ff:ff\n"
           "    inet 192.168.122.1/24 brd 192.168.122.255 scope global virbr0\n"
           "       valid_lft forever preferred_lft forever\n")
IP_ROUTE = ("default via 192.168.50.1 dev eno1 proto static metric 100\n"
            "192.168.122.0/24 dev virbr0 proto kernel scope link src 192.168.122.1\n")
ROUTE_PRINT = ("===========================================================================\n"
               "IPv4 Route Table\n"
               "===========================================================================\n"
               "Active Routes:\n"
               "Network Destination        Netmask          Gateway       Interface  Metric\n"
               "          0.0.0.0          0.0.0.0    192.168.122.1  192.168.122.2     25\n"
               "    192.168.122.0    255.255.255.0         On-link     192.168.122.2    281\n"
               "===========================================================================\n")

PROMPTS = ["[root@kvm01 ~]# ", "[admin@kvm01 network-scripts]$ ", "root@kvm01:~# ", "admin@kvm01:/etc$ ",
           ":~# ", "$ ", "# ", "$ sudo ", "❯ ", "admin@kvm01 ~ $ ", "(base) admin@kvm01:~$ "]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_a_prompt_line_is_prose_and_its_command_names_the_output(prompt):
    text = f"The bridge on the host:\n\n{prompt}brctl show\n{BRCTL}"
    assert _pieces(text) == [("prose", 1, 3, "host"), ("brctl-show", 4, 6, "host")]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_ip_addr_keeps_the_prompts_its_parser_reads_and_no_other(prompt):
    """The one parser with a command-line rule: an echoed `#`/`$` prompt running `ip` opens the
    piece and is noted; any other prompt is prose, so no piece is partial for its prompt."""
    text = f"The host:\n\n{prompt}ip addr\n{IP_ADDR}"
    pieces = pieces_from_bytes(text.encode(), "ticket.md")
    output = pieces[-1]
    assert output.kind is Kind.IP_ADDR and output.last_line == 7
    result = parse(output)
    assert result.status is Status.PARSED, result.diagnostics
    kept = output.first_line == 3
    assert kept == any(d.message.startswith("command line") for d in result.diagnostics)
    assert kept or output.first_line == 4 and pieces[0].last_line == 3
    assert kept == (prompt in ("[root@kvm01 ~]# ", "[admin@kvm01 network-scripts]$ ", "root@kvm01:~# ",
                               "admin@kvm01:/etc$ ", ":~# ", "$ ", "# ", "$ sudo "))


@pytest.mark.parametrize("prompt", ["PS C:\\> ", "C:\\>", "C:\\Users\\admin>"])
def test_a_windows_prompt_is_the_guests(prompt):
    text = f"[root@kvm01 ~]# ip route\n{IP_ROUTE}\nand in the guest:\n\n{prompt}route print\n{ROUTE_PRINT}"
    assert _pieces(text) == [("prose", 1, 1, "host"), ("ip-route", 2, 3, "host"),
                             ("prose", 5, 7, "host"), ("route-print", 8, 15, "guest")]


def test_a_markdown_heading_is_not_a_root_prompt():
    text = f"# Failure logs\n\n# brctl show\n{BRCTL}\n# ip -4 a s\n{IP_ADDR}"
    assert _pieces(text) == [("prose", 1, 3, "host"), ("brctl-show", 4, 6, "host"), ("ip-addr", 8, 12, "host")]


def test_outputs_back_to_back_are_split_at_the_prompt():
    text = f"[root@kvm01 ~]# ip route\n{IP_ROUTE}[root@kvm01 ~]# brctl show\n{BRCTL}[root@kvm01 ~]# ip a\n{IP_ADDR}"
    assert _pieces(text) == [("prose", 1, 1, "host"), ("ip-route", 2, 3, "host"), ("prose", 4, 4, "host"),
                             ("brctl-show", 5, 7, "host"), ("ip-addr", 8, 12, "host")]


def test_outputs_back_to_back_without_a_prompt_are_split_at_a_marker():
    text = f"```\n{IP_ROUTE}{BRCTL}```\n"
    assert _pieces(text) == [("prose", 1, 1, "host"), ("ip-route", 2, 3, "host"), ("brctl-show", 4, 6, "host"),
                             ("prose", 7, 7, "host")]


# ---- host and guest ----

def test_a_prompt_naming_a_second_host_is_the_guest():
    text = (f"[root@kvm01 ~]# ip route\n{IP_ROUTE}\n[root@centos-web ~]# ip route\n"
            "default via 192.168.122.1 dev eth0 proto dhcp metric 100\n"
            "192.168.122.0/24 dev eth0 proto kernel scope link src 192.168.122.2 metric 100\n"
            f"\n[root@kvm01 ~]# brctl show\n{BRCTL}")
    assert _pieces(text) == [("prose", 1, 1, "host"), ("ip-route", 2, 3, "host"), ("prose", 5, 5, "host"),
                             ("ip-route", 6, 7, "guest"), ("prose", 9, 9, "host"), ("brctl-show", 10, 12, "host")]


def test_a_guests_name_in_the_only_prompt_is_the_guest():
    text = f"Inside it:\n\nroot@vm1:~# ip route\n{IP_ROUTE}"
    assert _pieces(text)[-1] == ("ip-route", 4, 5, "guest")


def test_a_windows_route_print_is_the_guests_without_a_prompt():
    text = f"Host routes:\n```\n{IP_ROUTE}```\nThe Windows machine:\n```\n{ROUTE_PRINT}```\n"
    assert _pieces(text) == [("prose", 1, 2, "host"), ("ip-route", 3, 4, "host"), ("prose", 5, 7, "host"),
                             ("route-print", 8, 15, "guest"), ("prose", 16, 16, "host")]


@pytest.mark.parametrize("lead, role", [
    ("**Output of `ip route` on my virtual machine:**", "guest"),
    ("ip route within the vm (after a reboot)", "guest"),
    ("Running this locally on the host", "host"),
    ("and this is the routing table", "host"),
])
def test_the_line_leading_into_an_output_says_whose_it_is(lead, role):
    assert _pieces(f"{lead}\n```\n{IP_ROUTE}```\n")[1] == ("ip-route", 3, 4, role)


def test_a_line_leading_into_an_unfenced_output_is_prose():
    text = (f"Still no network in the guest, here is the host first.\n{IP_ROUTE}\n"
            f"**Output of `ip route` on my virtual machine:**\n{IP_ROUTE}")
    assert _pieces(text) == [("prose", 1, 1, "host"), ("ip-route", 2, 3, "host"),
                             ("prose", 5, 5, "host"), ("ip-route", 6, 7, "guest")]


def test_a_file_under_guest_stays_the_guests_whole():
    text = f"[root@kvm01 ~]# ip route\n{IP_ROUTE}"
    assert {s.role for s in pieces_from_bytes(text.encode(), "guest/notes.md", role=Role.GUEST)} == {Role.GUEST}


# ---- markdown ----

@pytest.mark.parametrize("fence", ["```", "```shell", "``` sh ", " ```console", "~~~"])
def test_fences_with_or_without_a_language(fence):
    text = f"The routes:\n{fence}\n{IP_ROUTE}{fence.strip()[:3]}\nThe bridge:\n{fence}\n{BRCTL}{fence.strip()[:3]}\n"
    assert _pieces(text) == [("prose", 1, 2, "host"), ("ip-route", 3, 4, "host"), ("prose", 5, 7, "host"),
                             ("brctl-show", 8, 10, "host"), ("prose", 11, 11, "host")]


def test_an_indented_code_block_is_read_without_its_indentation():
    rules = "-A FORWARD -i virbr0 -j REJECT --reject-with icmp-port-unreachable\n-A FORWARD -o virbr0 -j ACCEPT\n"
    indented = "".join(f"    {line}\n" for line in rules.splitlines())
    text = f"libvirt adds these:\n\n    # iptables-save | grep virbr0\n{indented}\nand nothing else.\n"
    pieces = pieces_from_bytes(text.encode(), "ticket.md")
    assert [(p.kind.value, p.first_line, p.last_line) for p in pieces] == [
        ("prose", 1, 3), ("iptables-save", 4, 5), ("prose", 7, 7)]
    assert pieces[1].text == rules and parse(pieces[1]).status is Status.PARSED


def test_output_in_inline_code_spans_loses_the_backticks():
    text = ("Hello, I set up the bridge but the guest still gets no address.\n\n"
            f"this is the host\n`{IP_ADDR.rstrip()}`\n")
    (_, output) = pieces_from_bytes(text.encode(), "ticket.md")
    assert (output.kind, output.first_line, output.text) == (Kind.IP_ADDR, 4, IP_ADDR)
    assert parse(output).status is Status.PARSED


def test_an_unknown_command_output_is_unknown_and_config_without_a_command_is_prose():
    text = ("[root@kvm01 ~]# nmcli device\nDEVICE   TYPE      STATE      CONNECTION\n"
            "br0      bridge    connected  br0\n\nMy config:\n```\nnetwork:\n  bridges:\n    br0:\n"
            "      addresses: [192.168.1.2/24]\n```\n")
    assert _pieces(text) == [("prose", 1, 1, "host"), ("unknown", 2, 3, "host"), ("prose", 5, 11, "host")]


def test_an_error_under_a_prompt_is_an_empty_output_with_its_reason():
    text = f"[root@kvm01 ~]# brctl show\n-bash: brctl: command not found\n[root@kvm01 ~]# ip route\n{IP_ROUTE}"
    pieces = pieces_from_bytes(text.encode(), "ticket.md")
    assert [(p.kind.value, p.first_line, p.last_line) for p in pieces] == [
        ("prose", 1, 1), ("unknown", 2, 2), ("prose", 3, 3), ("ip-route", 4, 5)]
    assert pieces[1].empty_reason == "the output is an error message: -bash: brctl: command not found"


# ---- terminal bytes ----

def test_colour_codes_and_carriage_returns_of_a_real_typescript():
    """`ip -c addr` and `ip -c route` recorded by `script` on this machine: escape sequences,
    CRLF, and `ESC[?2004l\\r` before each output."""
    path = TICKETS / "script-ip-c-addr.typescript"
    raw = path.read_bytes().split(b"\n")
    pieces = read_file(path)
    assert [(p.kind.value, p.first_line, p.last_line) for p in pieces] == [
        ("prose", 1, 1), ("ip-addr", 2, 20), ("prose", 21, 21), ("ip-route", 22, 23), ("prose", 24, 27)]
    addresses = parse(pieces[1]).data.interfaces
    assert [i.name for i in addresses] == ["lo", "ifb0", "ifb1", "eth0"]
    eth0 = addresses[-1].addresses[0]
    assert str(eth0.address) == "192.0.2.2/24"
    # the fact's line is the file's line (as grep -n counts), escape codes and all
    assert b"192.0.2.2\x1b[0m/24" in raw[eth0.origin.line - 1]
    routes = parse(pieces[3])
    assert routes.status is Status.PARSED and b"default via" in raw[pieces[3].first_line - 1]


def test_grep_colour_codes_are_dropped_and_other_escapes_kept():
    sysctl = "net.ipv4.conf.all.forwarding = 0\nnet.ipv4.ip_forward = 0\nkernel.hostname = kvm01\n"
    coloured = subprocess.run(["grep", "--color=always", "forward"], input=sysctl.encode(), capture_output=True,
                              check=True).stdout
    assert b"\x1b[" in coloured
    text = b"[root@kvm01 ~]# sysctl -a | grep forward\n" + coloured + b"\x1b]0;title\x07\n"
    (_, piece) = pieces_from_bytes(text, "t.md")
    assert piece.kind is Kind.SYSCTL and piece.text.startswith("net.ipv4.conf.all.forwarding = 0\n")
    result = parse(piece)
    assert [e.key for e in result.data.entries] == ["net.ipv4.conf.all.forwarding", "net.ipv4.ip_forward"]
    assert [d.origin.line for d in result.diagnostics if d.severity.value == "error"] == [4]


def test_crlf_and_lf_tickets_give_the_same_pieces():
    text = f"The host:\n\n[root@kvm01 ~]# ip route\n{IP_ROUTE}\n```\n{BRCTL}```\n"
    lf = pieces_from_bytes(text.encode(), "t.md")
    crlf = pieces_from_bytes(text.replace("\n", "\r\n").encode(), "t.md")
    assert [(p.kind, p.first_line, p.last_line, p.text) for p in crlf] == \
        [(p.kind, p.first_line, p.last_line, p.text) for p in lf]


def test_a_carriage_return_inside_a_line_does_not_add_a_line():
    text = "[root@kvm01 ~]# ip route\n\x1b[?2004l\rdefault via 192.168.50.1 dev eno1\r\n" \
           "192.168.122.0/24 dev virbr0 proto kernel scope link src 192.168.122.1\n"
    (_, routes) = pieces_from_bytes(text.encode(), "t.md")
    assert (routes.kind, routes.first_line, routes.last_line) == (Kind.IP_ROUTE, 2, 3)
    assert routes.text.startswith("default via 192.168.50.1 dev eno1\n")


def test_a_file_with_only_carriage_returns_ends_its_lines_at_them():
    (source,) = pieces_from_bytes(IP_ROUTE.replace("\n", "\r").encode(), "route.txt")
    assert (source.kind, source.text) == (Kind.IP_ROUTE, IP_ROUTE)


# ---- stdin ----

def test_stdin_is_read_like_a_pasted_file():
    data = (_shared() / EXAMPLE).read_bytes()
    from_stdin = read_stdin(data)
    assert {s.file for s in from_stdin} == {"-"}
    assert [(s.kind, s.first_line, s.last_line, s.role, s.text) for s in from_stdin] == \
        [(s.kind, s.first_line, s.last_line, s.role, s.text) for s in read_file(_shared() / EXAMPLE)]


# ---- the example ticket, checked ----

@pytest.mark.corpus
def test_check_reads_the_example_ticket_and_points_at_its_lines():
    path = _shared() / EXAMPLE
    lines = path.read_text().split("\n")
    run = netlint("check", str(path), "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    (dump,) = json.loads(run.stdout)["dumps"]
    outputs = [(i["kind"], i["lines"], i["role"], i["status"]) for i in dump["inputs"] if i["kind"] != "prose"]
    assert outputs == [("ip-addr", [41, 50], "host", "parsed"), ("brctl-show", [57, 59], "host", "parsed"),
                       ("route-print", [67, 67], "guest", "parsed"), ("iptables-save", [73, 83], "host", "parsed")]
    located = [loc for f in dump["findings"] for loc in f["locations"] if loc["line"] is not None]
    assert located
    for location in located:
        assert location["file"] == str(path) and location["text"].strip() == lines[location["line"] - 1].strip()

    rules = next(s for s in read_file(path) if s.kind is Kind.IPTABLES_SAVE)
    tables = parse(rules).data.tables
    assert {name: list(table.chains) for name, table in tables.items()} == {
        "filter": ["FORWARD"], "nat": ["POSTROUTING"]}
    assert [r.origin.line for r in tables["filter"].chains["FORWARD"].rules] == [73, 74, 75, 76, 77]
    assert [r.origin.line for r in tables["nat"].chains["POSTROUTING"].rules] == [79, 80, 81, 82, 83]
    guest = next(s for s in read_file(path) if s.kind is Kind.ROUTE_PRINT)
    assert guest.role is Role.GUEST


# ---- any text ----

_LINES = st.sampled_from([
    "", "```", "```shell", "~~~", "<!-- a comment -->", "<details>", "# Heading", "Some words a person wrote here.",
    "[root@kvm01 ~]# ip a", "root@vm1:~# ip route", "$ brctl show", "# iptables-save", "PS C:\\> route print",
    "ip addr", *IP_ADDR.splitlines(), *IP_ROUTE.splitlines(), *BRCTL.splitlines(), *ROUTE_PRINT.splitlines(),
    "Chain FORWARD (policy DROP)", "-A FORWARD -i virbr0 -j ACCEPT", "net.ipv4.ip_forward = 1", "`",
    "\x1b[36mlo\x1b[0m", "\x1b[?2004l\rdefault via 192.168.122.1 dev eth0",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=40), st.sampled_from(["\n", "\r\n"]))
def test_any_paste_is_cut_into_ordered_pieces_of_whole_lines(lines, end):
    data = end.join(lines).encode()
    pieces = pieces_from_bytes(data, "t.md")
    if len(pieces) == 1:
        return  # one output, or nothing readable: the whole file, as a plain output is read
    text_lines = data.decode().replace("\r\n", "\n").split("\n")
    covered: list[int] = []
    for piece in pieces:
        span = list(range(piece.first_line, piece.last_line + 1))
        assert piece.text.count("\n") == len(span)
        assert text_lines[span[0] - 1].strip() and text_lines[span[-1] - 1].strip()
        covered += span
    assert covered == sorted(set(covered))
    assert {n for n, line in enumerate(text_lines, 1) if line.strip()} <= set(covered)


def test_segment_of_one_plain_output_is_the_whole_text():
    (piece,) = segment(IP_ROUTE)
    assert (piece.first, piece.last, piece.kind, piece.text) == (0, 1, Kind.IP_ROUTE, IP_ROUTE)


def test_the_prompt_names_the_table_and_family_a_listing_does_not():
    """`iptables -t mangle -L -n -v` pasted under its prompt: a mangle listing that shows only
    INPUT, FORWARD and OUTPUT would otherwise read as filter; `ip6tables` makes it IPv6."""
    chains = "".join(f"Chain {c} (policy ACCEPT 0 packets, 0 bytes)\n"
                     " pkts bytes target     prot opt in     out     source               destination\n\n"
                     for c in ("INPUT", "FORWARD", "OUTPUT"))
    paste = ("The firewall:\n\n[root@kvm01 ~]# iptables -t mangle -L -n -v\n" + chains
             + "[root@kvm01 ~]# ip6tables -L -n -v\n" + chains)
    results = [parse(s) for s in pieces_from_bytes(paste.encode(), "ticket.md")]
    listings = [r for r in results if r.source.kind is Kind.IPTABLES_LIST]
    assert [r.source.command for r in listings] == ["iptables -t mangle -L -n -v", "ip6tables -L -n -v"]
    assert [(list(r.data.tables), r.data.family) for r in listings] == [(["mangle"], 4), (["filter"], 6)]
