"""`netlint check DUMP... --format json` (the rules engine) as whole processes: a host carrying
the 100k-rule kube-proxy ruleset of bench/iptables.py, normal KVM dumps, and many dumps in one call.

Run by hand: `python bench/check.py [--repeat N] [--sizes 100000] [--copies 50] [--profile]`.

The big host is the seed host of examples/centos7-forwarding-off with its iptables-save.txt
replaced by bench/iptables.py's generated ruleset (same generator, same seed); the normal dumps
are examples/centos7-forwarding-off and tests/fixtures/dumps/healthy-docker-libvirt as they are;
"many" is N copies of the seed host checked in one call with --jobs 1 and --jobs 2, which gives
the cost of each further host. Everything is written to a temporary folder, and netlint runs
there, so no netlint.toml around the caller changes the rules it runs. Each case is best of N
wall time, peak RSS by GNU time (bench/iptables.py's `run_process`), and the JSON is read back
to make sure every dump was checked. The peak is that of the largest single process: with
--jobs 2 the main process and each forked worker are measured apart, not summed.

Targets (the issue): the 100k-rule host in under 10 s and 600 MB on a 2-core machine. A missed
target exits 1; netlint failing (exit 2, no JSON, a dump it could not read) exits 2.
`--profile` adds a cProfile of the in-process check of the 100k host, top entries by
cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import multiprocessing
import os
import pstats
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "examples" / "centos7-forwarding-off"
NORMAL_DUMPS = [SEED, REPO / "tests" / "fixtures" / "dumps" / "healthy-docker-libvirt"]
TARGET_RULES = 100_000
TARGET_S = 10.0
TARGET_MB = 600
SEED_RULESET = 2024  # bench/iptables.py's default seed: the same ruleset it times


def _iptables_bench():
    """bench/iptables.py, which is a script, not a package module: its generator and its
    whole-process runner."""
    spec = importlib.util.spec_from_file_location("bench_iptables", REPO / "bench" / "iptables.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


IPT = _iptables_bench()


def write_big_host(folder: Path, rules: int, seed: int) -> None:
    """The seed host with the generated ruleset. Run in a spawned process so that this one
    stays small (without GNU time, its peak would be counted in every child's)."""
    shutil.copytree(SEED, folder)
    (folder / "iptables-save.txt").write_text(IPT.generate(rules, seed))


def ruleset_size(dump: Path) -> int:
    """The `-A` lines of a dump's iptables-save.txt."""
    path = dump / "iptables-save.txt"
    if not path.is_file():
        return 0
    with path.open() as lines:
        return sum(1 for line in lines if line.startswith("-A "))


@dataclass
class Case:
    name: str
    dumps: list[Path]
    rules: int              # -A rules in each dump's ruleset
    jobs: int = 1
    targeted: bool = False  # the 10 s / 600 MB apply


def problems_in(case: Case, run) -> list[str]:
    """Whatever says the check did not run fully: the exit code (0 clean and 1 findings are both
    fine), the JSON, a dump with an error or an input netlint could not parse at all."""
    if run.returncode not in (0, 1):
        return [f"{case.name}: netlint exited {run.returncode}: {run.stderr.strip()[-500:]}"]
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError as error:
        return [f"{case.name}: the output is not JSON ({error}): {run.stdout[:200]!r}"]
    found = []
    if len(report.get("dumps", [])) != len(case.dumps):
        found.append(f"{case.name}: {len(report.get('dumps', []))} dumps in the report, {len(case.dumps)} given")
    for dump in report.get("dumps", []):
        if dump.get("error"):
            found.append(f"{case.name}: {dump['path']}: {dump['error']}")
        for piece in dump.get("inputs", []):
            if piece["status"] not in ("parsed", "partial"):
                found.append(f"{case.name}: {dump['path']}/{piece['file']} is {piece['status']}")
    return found


def findings_of(run) -> str:
    """The summary of the report: errors / warnings / infos over all dumps."""
    try:
        summary = json.loads(run.stdout)["summary"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return "?"
    return "/".join(str(summary.get(s, "?")) for s in ("error", "warning", "info"))


def profile(dump: Path, top: int) -> None:
    """cProfile of `netlint check DUMP --format json` in this process (the JSON written to
    /dev/null), after a check of the seed host has loaded the modules and built the grammars."""
    sys.path.insert(0, str(REPO))
    from netlint.cli import main

    main(["check", str(SEED), "--format", "json", "-o", os.devnull])
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    code = main(["check", str(dump), "--format", "json", "-o", os.devnull])
    profiler.disable()
    print(f"\nin-process check of the {ruleset_size(dump)}-rule host under cProfile: "
          f"{time.perf_counter() - start:.2f} s (profiler overhead included), exit {code}")
    for order in ("cumulative", "tottime"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(order).print_stats(top)
        print(f"\ntop {top} by {order}:\n" + stream.getvalue().split("\n\n", 1)[-1].rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case, best taken (default 3)")
    parser.add_argument("--sizes", default=str(TARGET_RULES),
                        help="rule counts of the generated host, comma-separated (default %(default)s)")
    parser.add_argument("--copies", type=int, default=50, help="dumps in the many-dumps cases (default 50)")
    parser.add_argument("--seed", type=int, default=SEED_RULESET, help="seed of the generated ruleset")
    parser.add_argument("--profile", action="store_true",
                        help=f"also cProfile the in-process check of the {TARGET_RULES // 1000}k host")
    parser.add_argument("--top", type=int, default=25, help="entries shown by --profile (default 25)")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.copies < 2:
        parser.error("--copies needs at least 2 dumps (the cost per further dump)")

    with tempfile.TemporaryDirectory(prefix="netlint-bench-check-") as tmp:
        work = Path(tmp)
        big = {size: work / f"host-{size}-rules" for size in sorted(set(sizes) | ({TARGET_RULES} if args.profile
                                                                                    else set()))}
        with multiprocessing.get_context("spawn").Pool(min(len(big), os.cpu_count() or 1) or 1) as pool:
            pool.starmap(write_big_host, [(folder, size, args.seed) for size, folder in big.items()])
        copies = [work / "many" / f"host-{i:03d}" for i in range(1, args.copies + 1)]
        for copy in copies:
            shutil.copytree(SEED, copy)
        caller = Path.cwd()
        os.chdir(work)

        seed_rules = ruleset_size(SEED)
        cases = [Case(f"{size // 1000}k-rule host" if size % 1000 == 0 else f"{size}-rule host", [big[size]],
                      ruleset_size(big[size]), targeted=size == TARGET_RULES) for size in sizes]
        cases += [Case(d.name, [d], ruleset_size(d)) for d in NORMAL_DUMPS]
        cases += [Case(f"{args.copies} x {SEED.name}, --jobs {jobs}", copies, seed_rules, jobs=jobs)
                  for jobs in (1, 2)]

        netlint = IPT.netlint_command()
        how = "GNU time" if IPT.USE_GNU_TIME else "wait4 (no GNU time: each figure includes this script's own peak)"
        print(f"netlint: {' '.join(netlint)} check DUMP... --format json [--jobs N], run in {work}")
        print(f"ruleset: bench/iptables.py's generator, seed {args.seed}, in the seed host {SEED.relative_to(REPO)}")
        print(f"best of {args.repeat} runs each; peak RSS by {how}, the highest of the runs "
              "(the largest single process, workers not summed); "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")

        header = "| case | dumps | rules | best s | peak MB | findings e/w/i | target | result |"
        print(header)
        print("|---|---:|---:|---:|---:|---|---|---|")
        runs, problems, verdicts = {}, [], []
        for case in cases:
            command = [*netlint, "check", *map(str, case.dumps), "--format", "json"]
            if case.jobs > 1:
                command += ["--jobs", str(case.jobs)]
            run = IPT.run_process(command, args.repeat)
            runs[case.name] = run
            problems += problems_in(case, run)
            if case.targeted:
                ok = run.seconds < TARGET_S and run.peak_mb < TARGET_MB
                verdicts.append(ok)
                target, result = f"< {TARGET_S:g} s, < {TARGET_MB} MB", "PASS" if ok else "FAIL"
            else:
                target, result = "-", "-"
            rules = f"{case.rules}" if len(case.dumps) == 1 else f"{case.rules} each"
            print(f"| {case.name} | {len(case.dumps)} | {rules} | {run.seconds:.2f} | {run.peak_mb:.0f} | "
                  f"{findings_of(run)} | {target} | {result} |", flush=True)

        one = runs[SEED.name].seconds
        print()
        for jobs in (1, 2):
            many = runs[f"{args.copies} x {SEED.name}, --jobs {jobs}"].seconds
            print(f"--jobs {jobs}: {many / args.copies:.3f} s per dump over {args.copies} dumps; "
                  f"{(many - one) / (args.copies - 1):.3f} s per dump beyond the first "
                  f"({many:.2f} s for {args.copies} against {one:.2f} s for one)")
        print(f"load average at the end {os.getloadavg()[0]:.2f} (other work on the machine inflates the times, "
              "--jobs 2 most)")
        if TARGET_RULES not in sizes:
            print(f"no target checked: --sizes does not hold {TARGET_RULES}")
        for problem in problems:
            print(f"problem: {problem}")
        if args.profile:
            profile(big[TARGET_RULES], args.top)
        os.chdir(caller)
    if problems:
        return 2
    return 1 if False in verdicts else 0


if __name__ == "__main__":
    sys.exit(main())
