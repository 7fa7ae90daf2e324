"""Benchmark edgelint against flake8, ruff and bare libcst parsing (issues 6 and 13).

    .venv/bin/python bench/run.py             # 300-file Workers corpus + the standard library + scenarios
    .venv/bin/python bench/run.py --quick     # a smoke run: 60 files, one run each, stdlib sample
    .venv/bin/python bench/run.py --files 2000 --skip-stdlib   # the peak-memory check
    .venv/bin/python bench/run.py --scenarios # only the issue 13 scenarios, each against flake8 alone

Every tool runs as a subprocess on the same files, so each pays its own interpreter start; times
are medians of wall-clock seconds, with user+sys CPU seconds beside them (on a shared machine CPU
time is the steadier number). Peak memory is the largest resident set of one process of the run
(`os.wait4` rusage of the child, median over the runs). Standard library and the project's own
dependencies only.
"""
from __future__ import annotations

import argparse
import compileall
import hashlib
import importlib.util
import os
import pickle
import platform
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import monolith_text, wrangler_toml, write_corpus, write_monolith  # noqa: E402 - beside this script

PYTHON = sys.executable
# flake8 loads every installed plugin, edgelint's included: ban it to time flake8's defaults alone.
FLAKE8_ALONE = ("import sys\nfrom flake8.plugins import finder\nfinder.BANNED_PLUGINS['edgelint'] = '-'\n"
                "finder.BANNED_PLUGINS['flake8-bugbear'] = '-'\nfrom flake8.main.cli import main\nsys.exit(main())")
# flake8 with flake8-bugbear (when installed: `pip install flake8-bugbear`), edgelint's plugin banned.
FLAKE8_BUGBEAR = FLAKE8_ALONE.replace("finder.BANNED_PLUGINS['flake8-bugbear'] = '-'\n", "")
# flake8 with edgelint's plugin and no other optional one: what installing edgelint adds to flake8.
FLAKE8_EDGELINT = FLAKE8_ALONE.replace("finder.BANNED_PLUGINS['edgelint'] = '-'\n", "")
# The same with the resident edgelint (edgelint.daemon) turned off: the plugin lints in flake8's process.
FLAKE8_EDGELINT_IN_PROCESS = "import os\nos.environ['EDGELINT_DAEMON'] = '0'\n" + FLAKE8_EDGELINT
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


def measure(label: str, command: Sequence[str], cwd: Path, runs: int, prime: bool = False,
            before: Optional[Callable[[], None]] = None) -> Timing:
    """Time `runs` runs of `command`; `before` runs (untimed) before each (an edit)."""
    timing = Timing(label)
    if prime:  # a warm run needs the cache written by a run before it
        run_once(command, cwd, Timing(label))
    for _ in range(runs):
        if before is not None:
            before()
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
    if importlib.util.find_spec("bugbear") is not None:
        results["bugbear"] = measure("flake8 + flake8-bugbear (-j auto)", [PYTHON, "-c", FLAKE8_BUGBEAR, *targets],
                                     cwd, runs)
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
    if "bugbear" in results:
        bugbear = cold / results["bugbear"].median
        cpu = results["cold"].median_cpu / results["bugbear"].median_cpu
        ratio(f"edgelint cold / flake8 + bugbear   [cpu {cpu:.2f}x]", bugbear, "<= 0.6", bugbear <= 0.6)
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


# ---------------------------------------------------------------------------- issue 13 scenarios

MONOLITH_ROUTES = 178  # bench/corpus.py's single-module Worker at about 7,000 lines (~38.5 lines a route)
TABLE_ROWS = 50_000  # a 1.1 MB data module
PLUGIN_TARGET = 1.3  # the flake8 plugin on one file of an unchanged project, against flake8 alone
EDITED_TARGET, EDITED_TARGET_LARGE = 2.0, 3.0  # one edited leaf file, against flake8 alone (600 / 2,000 files)


def edgelint_check(*args: str) -> List[str]:
    return [PYTHON, "-m", "edgelint", "check", "--exit-zero", *args]


def flake8_alone(*targets: str) -> List[str]:
    return [PYTHON, "-c", FLAKE8_ALONE, *targets]


def flake8_plugin(*targets: str, resident: bool = True) -> List[str]:
    return [PYTHON, "-c", FLAKE8_EDGELINT if resident else FLAKE8_EDGELINT_IN_PROCESS, "--select", "EDG", *targets]


def stop_resident_edgelint() -> None:
    """The resident edgelint the plugin started (edgelint.daemon) leaves with the bench."""
    code = "from edgelint import daemon\nif daemon.supported() and daemon.address(): daemon.stop(daemon.address())"
    subprocess.run([PYTHON, "-c", code], capture_output=True)


def settle() -> None:
    """Let what was just written age past the cache's racy window (edgelint.cache.RACY_NS: a recent
    mtime is not trusted, the file is compared by content), as between an edit and a later run."""
    time.sleep(2.1)


def against_flake8(alone: Timing, others: Sequence[Timing], target: Optional[float] = None) -> None:
    for timing in others:
        value = timing.median / alone.median
        cpu = timing.median_cpu / alone.median_cpu
        ratio(f"{timing.label} / flake8 alone   [cpu {cpu:.2f}x]", value,
              f"<= {target}" if target else "(none)", value <= target if target else None)


def leaf_module(project: Path, report: str) -> str:
    """A module with findings that no other module imports (relative to `project`)."""
    imported = set()
    for path in sorted((project / "src" / "app").glob("*.py")):
        imported.update(re.findall(r"^from app import (\w+)", path.read_text(encoding="utf-8"), re.M))
    reported = [line.split(":", 1)[0] for line in report.splitlines() if ":" in line]
    return next(path for path in reported if Path(path).stem not in imported)


def scenario_unchanged_and_edited(scratch: Path, files: int, warm_runs: int, cold_runs: int) -> None:
    """(a) one leaf module of an unchanged project, warm; (b) the same right after a one-line edit."""
    project = scratch / "incremental"
    write_corpus(project, files)
    settle()
    report = subprocess.run(edgelint_check("src"), cwd=project, capture_output=True, text=True).stdout
    leaf = leaf_module(project, report)
    settle()  # the run created .edgelint_cache in the project root: a change to its listing
    subprocess.run(flake8_plugin(leaf), cwd=project, capture_output=True)  # writes the plugin's memo
    print(f"\n(a) unchanged {files}-file project, one leaf module ({leaf}), warm; {warm_runs} runs each", flush=True)
    alone = measure("flake8 alone on the file", flake8_alone(leaf), project, warm_runs)
    plugin = measure("flake8 --select EDG (memo)", flake8_plugin(leaf), project, warm_runs)
    check = measure("edgelint check FILE (entry)", edgelint_check(leaf), project, warm_runs)

    def forget_memos() -> None:  # the plugin's first run in a directory: the CLI's entry answers
        for path in (project / ".edgelint_cache").glob("flake8-*.json"):
            path.unlink()

    entry = measure("flake8 --select EDG (entry, no memo)", flake8_plugin(leaf), project, warm_runs,
                    before=forget_memos)
    against_flake8(alone, [plugin], PLUGIN_TARGET)
    against_flake8(alone, [entry, check])
    same = len({digest for timing in (plugin, check, entry) for digest in timing.outputs}) == 1
    print(f"  flake8 plugin and edgelint check print the same findings: {'yes' if same else 'NO'}")

    edits = iter(range(1, 1_000_000))

    def edit() -> None:  # a string literal of the handler: the project's entry and memo are stale
        path = project / leaf
        text = re.sub(r'"stored[^"]*"', f'"stored-{next(edits)}"', path.read_text(encoding="utf-8"), count=1)
        path.write_text(text, encoding="utf-8")

    print(f"\n(b) the same file after a one-line edit before each run (cold for the cache); {cold_runs} run(s)",
          flush=True)
    alone = measure("flake8 alone on the file", flake8_alone(leaf), project, warm_runs, before=edit)
    plugin = measure("flake8 --select EDG after an edit", flake8_plugin(leaf), project, cold_runs, before=edit)
    in_process = measure("the same, EDGELINT_DAEMON=0", flake8_plugin(leaf, resident=False), project, cold_runs,
                         before=edit)
    check = measure("edgelint check FILE after an edit", edgelint_check(leaf), project, cold_runs, before=edit)
    against_flake8(alone, [plugin, check], EDITED_TARGET if files <= 600 else EDITED_TARGET_LARGE)
    against_flake8(alone, [in_process])
    print("  (the plugin's cpu and memory are flake8's process: the resident edgelint's are not counted)")


def scenario_helper_edited(monolith: Path, cold: Timing, runs: int) -> None:
    """(c') the single-module Worker after an edit to a helper every route uses, cache on: it may
    cost up to a cold run, never more."""
    subprocess.run(edgelint_check("src/worker.py"), cwd=monolith, capture_output=True)  # the cache's entry
    worker = monolith / "src" / "worker.py"
    line = 'return f"{self.prefix}{key}"'  # KVStore._k
    edits = iter(range(1, 1_000_000))

    def edit() -> None:
        text = re.sub(r'return f"\{self\.prefix\}[^{]*\{key\}"', line.replace("}{", f"}}{next(edits)}:{{"),
                      worker.read_text(encoding="utf-8"), count=1)
        worker.write_text(text, encoding="utf-8")

    print(f"\n(c') the same module after an edit to a helper every route uses; {runs} run(s)", flush=True)
    edited = measure("edgelint check FILE after the edit", edgelint_check("src/worker.py"), monolith, runs,
                     before=edit)
    value = edited.median / cold.median
    ratio("after the edit / edgelint cold", value, "<= 1.0", value <= 1.0)


def scenario_cold(title: str, project: Path, targets: Sequence[str], runs: int, target: Optional[float] = None) -> Timing:
    print(f"\n{title}; {runs} run(s) each", flush=True)
    alone = measure("flake8 alone", flake8_alone(*targets), project, runs)
    cold = measure("edgelint cold (--no-cache)", edgelint_check("--no-cache", *targets), project, runs)
    against_flake8(alone, [cold], target)
    print(f"  peak memory: edgelint {cold.peak_mb:.0f} MB, flake8 alone {alone.peak_mb:.0f} MB")
    return cold


def write_table_project(root: Path, rows: int = TABLE_ROWS) -> None:
    """A Worker whose handler mentions a large data module: `TABLE = [(0, "v0"), ...]`."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "wrangler.toml").write_text(wrangler_toml(), encoding="utf-8")
    table = "".join(f'    ({index}, "v{index}"),\n' for index in range(rows))
    (root / "src" / "data.py").write_text(f'"""A lookup table."""\nTABLE = [\n{table}]\n', encoding="utf-8")
    (root / "src" / "entry.py").write_text(
        "from workers import Response, WorkerEntrypoint\n\nfrom data import TABLE\n\n\n"
        "class Default(WorkerEntrypoint):\n    async def fetch(self, request):\n"
        "        await self.env.CACHE.put(\"table-size\", str(len(TABLE)))\n"
        "        return Response(str(len(TABLE)))\n", encoding="utf-8")


def bench_scenarios(scratch: Path, files: int, warm_runs: int, cold_runs: int) -> None:
    """Issue 13: each edgelint figure beside flake8 alone on the same input, in the same run."""
    try:
        scenario_unchanged_and_edited(scratch, files, warm_runs, cold_runs)
    finally:
        stop_resident_edgelint()
    monolith = scratch / "monolith"
    write_monolith(monolith, routes=MONOLITH_ROUTES)
    lines = monolith_text(MONOLITH_ROUTES).count("\n")
    cold = scenario_cold(f"(c) a single-module Worker: {MONOLITH_ROUTES} routes, {lines:,} lines", monolith,
                         ["src/worker.py"], cold_runs, target=1.0)
    scenario_helper_edited(monolith, cold, cold_runs)
    small = scratch / "small"
    write_corpus(small, 5)
    # Runs of a fifth of a second: nine of each, so that one slow start does not make the median.
    scenario_cold("(d) a 5-file project (start-up)", small, ["src"], max(cold_runs, 9), target=1.0)
    table = scratch / "table"
    write_table_project(table)
    size = (table / "src" / "data.py").stat().st_size / 1e6
    cold = scenario_cold(f"(e) a {size:.1f} MB data module ({TABLE_ROWS:,} tuples) a handler mentions", table,
                         ["src"], cold_runs)
    met = cold.median <= 2.0 and cold.peak_mb <= 300
    print(f"  target <= 2 s and <= 300 MB: {'met' if met else 'NOT met'}")


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
    parser.add_argument("--files", type=int, help="Workers corpus size (default 300; 600 with --scenarios)")
    parser.add_argument("--runs", type=int, help="runs per tool on the Workers corpus, and of each cold scenario "
                        "(default 3; 1 with --scenarios)")
    parser.add_argument("--warm-runs", type=int, default=10, help="runs of each warm scenario (default 10)")
    parser.add_argument("--stdlib-runs", type=int, default=1, help="runs per tool on the stdlib (default 1)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="edgelint -jN (default: CPUs)")
    parser.add_argument("--skip-stdlib", action="store_true", help="only the Workers corpus")
    parser.add_argument("--scenarios", action="store_true",
                        help="only the issue 13 scenarios (incremental runs, one large module, start-up, data module)")
    parser.add_argument("--quick", action="store_true", help="60 files, one run, every 8th stdlib file")
    args = parser.parse_args(argv)
    if args.files is None:
        args.files = 600 if args.scenarios else 300
    if args.runs is None:
        args.runs = 1 if args.scenarios else 3
    if args.quick:
        args.files, args.runs, args.stdlib_runs, args.warm_runs = min(args.files, 60), 1, 1, min(args.warm_runs, 3)
    return args


def byte_compile_edgelint() -> None:
    """Time edgelint as installed: pip byte-compiles a package, while a checkout run under
    PYTHONDONTWRITEBYTECODE would recompile every module in every timed run (~0.1 s each)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    spec = importlib.util.find_spec("edgelint")
    for location in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(location, quiet=1)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    byte_compile_edgelint()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="edgelint-bench-") as scratch:
        if args.scenarios:
            bench_scenarios(Path(scratch), args.files, args.warm_runs, args.runs)
            print(f"\nmachine at the end: {machine()}")
            return 0
        corpus = Path(scratch) / "worker"
        files = [os.path.relpath(path, corpus) for path in write_corpus(corpus, args.files)]
        results = bench_corpus("Workers corpus", ["src"], files, corpus, args.runs, args.jobs, with_parse=True)
        report_workers(results, args.files)
        if not args.skip_stdlib:
            library = stdlib_files(8 if args.quick else 1)
            results = bench_corpus("Standard library", library, library, Path(scratch), args.stdlib_runs,
                                   args.jobs, with_parse=False)
            report_stdlib(results)
        bench_scenarios(Path(scratch), args.files, args.warm_runs, args.runs)
        # Last: it grows this process, and a child started by vfork reports its parent's peak RSS.
        pickle_tradeoff([corpus / path for path in files[:100]])
    print(f"\nmachine at the end: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
