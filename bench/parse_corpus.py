"""Parse time of the largest real output of each kind in ../shared/corpus.

Run by hand: `python bench/parse_corpus.py [--repeat N]`. For each kind it reports the file,
its size and lines, the status, the time of a first parse in a fresh process (grammar build
included, as a one-off `netlint parse` pays it) and the best of N parses once the grammar is built.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
FOLDERS = ["ip-addr", "brctl-show", "route", "route-print-windows", "ip-route", "netstat-rn", "sysctl",
           "libvirt-rules", "iptables-save", "iptables-L"]

_FIRST = """
import sys, time
from pathlib import Path
from netlint.intake import read_file
from netlint.parsers import parse
start = time.perf_counter()
results = [parse(source) for source in read_file(Path(sys.argv[1]))]
print(time.perf_counter() - start)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from netlint.intake import read_file
    from netlint.parsers import parse

    largest: dict[str, Path] = {}
    for folder in FOLDERS:
        for path in (CORPUS / folder).iterdir():
            if folder == "libvirt-rules" and path.suffix != ".xml":
                continue
            kind = max(read_file(path), key=lambda s: len(s.text)).kind.value
            if kind not in largest or path.stat().st_size > largest[kind].stat().st_size:
                largest[kind] = path

    print(f"{'kind':<20} {'file':<52} {'bytes':>7} {'lines':>6} {'status':<8} {'first ms':>9} {'warm ms':>8}")
    for kind, path in sorted(largest.items()):
        first = subprocess.run([sys.executable, "-c", _FIRST, str(path)], capture_output=True, text=True,
                               cwd=REPO, check=True).stdout.split()
        source = max(read_file(path), key=lambda s: len(s.text))
        parse(source)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = parse(source)
            best = min(best, time.perf_counter() - start)
        lines = source.text.count("\n")
        print(f"{kind:<20} {path.parent.name + '/' + path.name:<52} {path.stat().st_size:>7} {lines:>6} "
              f"{result.status.value:<8} {float(first[0]) * 1000:>9.1f} {best * 1000:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
