"""Parser for Linux `route` output (kind `route`): `route -n`, plain `route` (names resolved),
`route -e`, `route -ee`, `route -v`, `route -6` / `route -6 -n`, and the kernel's own
`/proc/net/route` and `/proc/net/ipv6_route`. The reading itself is shared with `netstat -r`
(`route_columns.py`).

Output schema (`data`)::

    {"routes": [{"family": 4, "destination": "172.230.0.0/16", "line": 9, "type": "unicast",
                 "gateway": "172.28.20.1", "dev": "eno2", "metric": 101, "table": null,
                 "proto": null, "scope": null, "src": null, "flags": ["U", "G"],
                 "nexthops": [], "destination_name": null, "gateway_name": null,
                 "options": {"ref": 0, "use": 0}, "from": null, "locked": []}, ...]}

- `destination` is the address with the Genmask's prefix (`Genmask` 255.255.0.0 → `/16`;
  a netmask that is not contiguous is a problem of its line). Names route prints without -n
  map to addresses where the name means one offline: `default` (0.0.0.0/0), `link-local`
  (169.254.0.0, stock /etc/networks), `loopback`, `localhost`, IPv6 `[::]`. Any other name
  (`gateway`, `_gateway`, a host name, cut to 15 characters in the IPv4 table) leaves
  `destination`/`gateway` null with the name in `destination_name`/`gateway_name`, and the
  destination's prefix length in `options.prefix_length`. In the IPv6 table `0.0.0.0/96` is
  the IPv4-mapped `::ffff:0:0/96`.
- `gateway` is null for `0.0.0.0`, `*`, `::`, `[::]` and on reject routes (`-`); `dev` is null
  for `-` and `*`.
- `flags` are route's letters, one per item (`["U", "G", "H"]`; `["!"]` for a reject route,
  `["U", "n"]` for an IPv6 local route); /proc's hex Flags are translated into the letters
  net-tools prints for them.
- `type`: `unreachable` for a reject (`!`) route — route cannot tell unreachable from
  prohibit, nor, for IPv6, from blackhole and throw; `blackhole` for an IPv4 route without a
  device (`*`: how the kernel shows a blackhole route); `local` for an IPv6 `Un` route (no next
  hop, no gateway: the host's own address; a subnet-router anycast address looks the same) and,
  in /proc/net/ipv6_route, for RTF_LOCAL (`anycast` for RTF_ANYCAST); else `unicast`.
- `metric` is unsigned: a printed `-1` is 4294967295. `options` holds the other numeric
  columns by name (`ref`, `use`, and `mss`, `window`, `irtt` of `route -e`/`-ee`; /proc's
  RefCnt as `ref`, `use`, `mtu`, `window`, `irtt`), minus the `-` a reject route prints.
  route's MSS is the value /proc prints as MTU. `from` is /proc/net/ipv6_route's source
  prefix of a source-specific route, else null.
- Notes (info) say when names were printed instead of addresses, when a table has no column
  header (its rows are read as `route -n` prints them), and that `route -ee` cuts interface
  names to 6 characters. A destination with host bits set is a warning.
- `family` is 4 or 6. `table` is null: route shows the main table (IPv4) or every table (IPv6)
  without saying which.
"""

from __future__ import annotations

from ..model import ParseResult, Source
from .route_columns import ROUTE_N, read_tables


def parse(source: Source) -> ParseResult:
    return read_tables(source, ROUTE_N)
