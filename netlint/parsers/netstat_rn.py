"""Parser for Linux `netstat -r` output (kind `netstat-rn`): `netstat -r`, `-rn`, `-rne`,
`-rnee`, and `netstat -rn -6`. net-tools prints the same tables as `route`, so this reads them
with the `route` parser's code (`route_columns.py`); only an IPv4 table pasted without its
column header is read differently, as netstat's default columns `MSS Window irtt Iface`.

Output schema (`data`): as for kind `route` (see netlint/parsers/route.py)::

    {"routes": [{"family": 4, "destination": "0.0.0.0/0", "line": 3, "type": "unicast",
                 "gateway": "192.168.50.1", "dev": "eno1", "metric": null, ...,
                 "flags": ["U", "G"], "options": {"mss": 0, "window": 0, "irtt": 0}}, ...]}

`metric` is null in `netstat -r`/`-rn` (they print MSS, Window and irtt instead); `-rne`
prints Metric, Ref and Use, `-rnee` all six. `-rnee` cuts interface names to 6 characters
(`docker` for `docker0`): a note says so.
"""

from __future__ import annotations

from ..model import ParseResult, Source
from .route_columns import NETSTAT_RN, read_tables


def parse(source: Source) -> ParseResult:
    return read_tables(source, NETSTAT_RN)
