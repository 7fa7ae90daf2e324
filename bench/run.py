"""Benchmark edgelint against flake8, ruff and bare libcst parsing (issue 6).

    .venv/bin/python bench/run.py             # 300-file Workers corpus + the standard library
    .venv/bin/python bench/run.py --quick     # a smoke run: 60 files, one run each, stdlib sample
    .venv/bin/python bench/run.py --files 2000 --skip-stdlib   # the peak-memory check

Every tool runs as a subprocess on the same files, so each pays its own interpreter start; times
are medians of wall-clock seconds, with user+sys CPU seconds beside them (on a shared machine CPU
time is the steadier number). Peak memory is the largest resident set of one process of the run
(`os.wait4` rusage of the child, median over the runs). Standard library and the project's own
dependencies only.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402 - the bench's own module, beside this script

PYTHON = sys.executable
# flake8 loads every installed plugin, edgelint's included: ban it to time flake8's defaults alone.
FLAKE8_ALONE = ("import sys\nfrom flake8.plugins import finder\nfinder.BANNED_PLUGINS['edgelint'] = '-'\n"
                "from flake8.main.cli import main\nsys.exit(main())")
LIBCST_PARSE = ("import sys, libcst\nfor path in open(sys.argv[1], encoding='utf-8').read().splitlines():\n"
                "    try:\n        libcst.parse_module(open(path, 'rb').read())\n"
                "    except Exception:\n        pass\n")


@dataclass
class Timing:
    label: str
    wall: List[float] = field(default_factory=list)
    cpu: List[float] = field(default_factory=list)
    peaks: List[float] = field(default_factory=list)  # MB
    outputs: List[str] = field(default_factory=list)  # digest of stdout, to compare edgelint runs

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)

    @property
    def peak_mb(self) -> float:
        return statistics.median(self.peaks)


def run_once(command: Sequence[str], cwd: Path, timing: Timing) -> None:
    """Run `command`, adding its wall time, CPU time and peak RSS to `timing`."""
    with tempfile.TemporaryFile() as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
        stderr = process.stderr.read() if process.stderr else b""
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        timing.wall.append(time.perf_counter() - start)
        timing.cpu.append(usage.ru_utime + usage.ru_stime)
        timing.peaks.append(usage.ru_maxrss / 1024)
        stdout.seek(0)
        timing.outputs.append(hashlib.sha256(stdout.read()).hexdigest())
    if b"Traceback" in stderr or (process.returncode > 2 and timing.label.startswith("edgelint")):
        print(f"  ! {timing.label} exited {process.returncode}: {stderr.decode(errors='replace')[-400:]}")
    elif process.returncode == 2 and len(timing.wall) == 1 and timing.label.startswith("edgelint"):
        unreadable = stderr.count(b"edgelint: error:")  # the stdlib's deliberately broken test files
        print(f"  ({timing.label}: exit 2, {unreadable} file(s) reported as unreadable or undecodable)")


def measure(label: str, command: Sequence[str], cwd: Path, runs: int, prime: bool = False) -> Timing:
    timing = Timing(label)
    if prime:  # a warm run needs the cache written by a run before it
        run_once(command, cwd, Timing(label))
    for _ in range(runs):
        run_once(command, cwd, timing)
    print(f"  {label:<34} {timing.median:8.2f} s wall {timing.median_cpu:8.2f} s cpu {timing.peak_mb:7.0f} MB",
          flush=True)
    return timing


def ruff_command() -> Optional[str]:
    beside = Path(PYTHON).parent / "ruff"
    return str(beside) if beside.exists() else shutil.which("ruff")


def bench_corpus(name: str, targets: List[str], files: List[str], cwd: Path, runs: int, jobs: int,
                 with_parse: bool) -> Dict[str, Timing]:
    """Time every tool on one corpus. `targets` are the command-line paths that cover `files`."""
    print(f"\n{name}: {len(files)} files, {runs} run(s) each", flush=True)
    edgelint = [PYTHON, "-m", "edgelint", "check", "--exit-zero", *targets]
    results = {
        "cold": measure(f"edgelint cold (-j{jobs}, --no-cache)", edgelint + ["--no-cache", f"-j{jobs}"], cwd, runs),
        "j1": measure("edgelint cold -j1", edgelint + ["--no-cache", "-j1"], cwd, runs),
        "warm": measure(f"edgelint warm (-j{jobs}, cached)", edgelint + [f"-j{jobs}"], cwd, runs, prime=True),
        "flake8": measure("flake8 (default checks, -j auto)", [PYTHON, "-c", FLAKE8_ALONE, *targets], cwd, runs),
    }
    ruff = ruff_command()
    if ruff:
        results["ruff"] = measure("ruff check --no-cache --select ALL",
                                  [ruff, "check", "--no-cache", "--select", "ALL", "--exit-zero", "--quiet", *targets],
                                  cwd, runs)
    if with_parse:
        listing = cwd / "bench-files.txt"
        listing.write_text("\n".join(os.path.abspath(cwd / path) for path in files), encoding="utf-8")
        results["parse"] = measure("libcst.parse_module (subprocess)", [PYTHON, "-c", LIBCST_PARSE, str(listing)],
                                   cwd, runs)
    same = len({digest for key in ("cold", "j1", "warm") for digest in results[key].outputs}) == 1
    print(f"  edgelint output identical across cold, -j1 and warm runs: {'yes' if same else 'NO'}")
    return results


def pickle_tradeoff(paths: List[Path]) -> None:
    """Why `--jobs` does not parse a single project's files in workers: the parent would have to
    unpickle every tree, and a tree costs about as much to pickle and unpickle as to parse."""
    import libcst

    texts = [path.read_text(encoding="utf-8") for path in paths]
    clock = time.process_time
    start = clock()
    trees = [libcst.parse_module(text) for text in texts]
    parsed = clock()
    blobs = [pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL) for tree in trees]
    dumped = clock()
    for blob in blobs:
        pickle.loads(blob)
    loaded = clock()
    print(f"\nlibcst trees of {len(paths)} corpus files (CPU s): parse {parsed - start:.2f}, pickle "
          f"{dumped - parsed:.2f}, unpickle {loaded - dumped:.2f} ({sum(map(len, blobs)) / 1e6:.0f} MB pickled)")


def ratio(label: str, value: float, target: str, met: Optional[bool]) -> None:
    verdict = "" if met is None else ("  met" if met else "  NOT met")
    print(f"  {label:<46} {value:8.2f}x   target {target}{verdict}")


def report_workers(results: Dict[str, Timing], files: int) -> None:
    cold = results["cold"].median
    print("\nWorkers corpus ratios (wall-clock medians; CPU-time ratio in brackets where it differs)")
    flake8 = cold / results["flake8"].median
    ratio(f"edgelint cold / flake8   [cpu {results['cold'].median_cpu / results['flake8'].median_cpu:.2f}x]",
          flake8, "<= 1.0", flake8 <= 1.0)
    if "parse" in results:
        parse = cold / results["parse"].median
        ratio(f"edgelint cold / libcst parse   [cpu {results['cold'].median_cpu / results['parse'].median_cpu:.2f}x]",
              parse, "<= 2.5", parse <= 2.5)
    speedup = cold / results["warm"].median
    ratio("warm speed-up (cold / warm)", speedup, ">= 10", speedup >= 10)
    ratio("parallel speed-up (-j1 / -jN)", results["j1"].median / cold, "(none)", None)
    if "ruff" in results:
        ratio("ruff --select ALL / edgelint cold", results["ruff"].median / cold, "(none here)", None)
    peak = max(results[key].peak_mb for key in ("cold", "j1"))
    verdict = (f"target <= 200 MB for 2,000 files: {'met' if peak <= 200 else 'NOT met'}" if files >= 2000 else
               "(run --files 2000 for the 2,000-file target)")
    print(f"  peak memory of edgelint cold on {files} files: {peak:.0f} MB   {verdict}")


def report_stdlib(results: Dict[str, Timing]) -> None:
    cold = results["cold"].median
    print("\nStandard library ratios (wall-clock medians)")
    faster = results["flake8"].median / cold
    ratio(f"flake8 / edgelint cold   [cpu {results['flake8'].median_cpu / results['cold'].median_cpu:.2f}x]",
          faster, ">= 20", faster >= 20)
    if "ruff" in results:
        ruff = results["ruff"].median / cold
        ratio("ruff --select ALL / edgelint cold (stretch)", ruff, "> 1", ruff > 1)


def stdlib_files(sample: int) -> List[str]:
    root = sysconfig.get_paths()["stdlib"]
    found: List[str] = []
    for current, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "__pycache__"))
        found.extend(os.path.join(current, name) for name in sorted(filenames) if name.endswith(".py"))
    return found[::sample]


def machine() -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load}")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="Workers corpus size (default 300)")
    parser.add_argument("--runs", type=int, default=3, help="runs per tool on the Workers corpus (default 3)")
    parser.add_argument("--stdlib-runs", type=int, default=1, help="runs per tool on the stdlib (default 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="edgelint -jN (default: CPUs)")
    parser.add_argument("--skip-stdlib", action="store_true", help="only the Workers corpus")
    parser.add_argument("--quick", action="store_true", help="60 files, one run, every 8th stdlib file")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.runs, args.stdlib_runs = min(args.files, 60), 1, 1
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="edgelint-bench-") as scratch:
        corpus = Path(scratch) / "worker"
        files = [os.path.relpath(path, corpus) for path in write_corpus(corpus, args.files)]
        results = bench_corpus("Workers corpus", ["src"], files, corpus, args.runs, args.jobs, with_parse=True)
        report_workers(results, args.files)
        if not args.skip_stdlib:
            library = stdlib_files(8 if args.quick else 1)
            results = bench_corpus("Standard library", library, library, Path(scratch), args.stdlib_runs,
                                   args.jobs, with_parse=False)
            report_stdlib(results)
        # Last: it grows this process, and a child started by vfork reports its parent's peak RSS.
        pickle_tradeoff([corpus / path for path in files[:100]])
    print(f"\nmachine at the end: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
