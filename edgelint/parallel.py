"""Worker processes for `--jobs`.

What runs where follows from measurement (bench/run.py, README "Benchmarks"). The analysis needs
every tree of a project in one process, and a libcst tree costs ~1.2 parses to build and pickle in
a worker and ~0.5 parse to unpickle in the parent. So whole projects go to workers when there are
several; inside one project the parent parses files from one end of the list while workers parse
from the other end and send pickled trees back (they meet where their speeds say), and then workers
compute the `ast` call positions reporters need, which need the text alone.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import BrokenExecutor, Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, TypeVar

import libcst as cst

from edgelint.positions import COMPUTE, ast_calls

# Below this many files a run is over before a pool has started.
MIN_PARALLEL_FILES = 32

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def spare_cpus() -> int:
    """CPUs nobody is using now, by the 1-minute load average. Sharing one project's parsing costs
    extra CPU (pickling); it pays only on an idle core and slows the run down on a busy machine."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return default_jobs()
    return max(0, int(default_jobs() - load))


def worker_count(jobs: int, files: int) -> int:
    """How many processes to use: 1 (no pool) for a single job or a tiny run."""
    return 1 if jobs <= 1 or files < MIN_PARALLEL_FILES else jobs


@contextmanager
def process_pool(workers: int) -> Iterator[Executor]:
    # fork: workers start in milliseconds with edgelint already imported; elsewhere the default.
    methods = multiprocessing.get_all_start_methods()
    pool = ProcessPoolExecutor(max_workers=workers,
                               mp_context=multiprocessing.get_context("fork" if "fork" in methods else None))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # work nobody took any more is dropped


def ordered_map(pool: Executor, function: Callable[[Item], Outcome], items: Sequence[Item],
                cost: Callable[[Item], int]) -> List[Outcome]:
    """`function` over `items` in the pool, costliest first (so the longest one does not start
    last), results in the order of `items`."""
    futures: Dict[int, Future] = {}
    for index in sorted(range(len(items)), key=lambda i: -cost(items[i])):
        futures[index] = pool.submit(function, items[index])
    return [futures[index].result() for index in range(len(items))]


def parse_pickled(text: str) -> Optional[bytes]:
    """A worker's parse: the pickled tree, or None when anything goes wrong (the parent then parses
    the file itself and reports exactly what a serial run reports)."""
    try:
        return pickle.dumps(cst.parse_module(text), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - syntax errors, recursion, memory: all left to the parent
        return None


class SharedWork:
    """Work on one project's files that the parent shares with the pool.

    Either side takes a file whose work has not started: `Future.cancel()` succeeds only for work
    no worker has picked up, so the parent never waits for queued work; it does it itself.
    """

    def __init__(self, pool: Executor):
        self.pool = pool
        self.trees: Dict[str, Future] = {}
        self.calls: Dict[str, Future] = {}

    def start(self, texts: Mapping[str, str]) -> None:
        """Queue parsing in the order of `texts` (the parent takes them from the end), then positions."""
        for path, text in texts.items():
            self.trees[path] = self.pool.submit(parse_pickled, text)
        for path, text in texts.items():
            self.calls[path] = self.pool.submit(ast_calls, text)

    def tree(self, path: str) -> Optional[cst.Module]:
        """The tree a worker parsed, or None: the parent parses this file itself."""
        data = _claim(self.trees.pop(path, None))
        if not isinstance(data, bytes):
            return None
        try:
            return pickle.loads(data)
        except RecursionError:
            return None

    def positions(self, path: str) -> object:
        """`ast_calls` of the file from a worker, or COMPUTE: the parent computes them itself (also
        when `ast` failed in the worker, whose recursion limit is lower than the parent's)."""
        calls = _claim(self.calls.pop(path, None))
        return COMPUTE if calls is _PARENT or calls is None else calls


_PARENT = object()  # the parent does this piece of work itself


def _claim(future: Optional[Future]) -> object:
    if future is None or future.cancel():
        return _PARENT
    try:
        return future.result()
    except BrokenExecutor:  # a worker died (killed, out of memory): the parent goes on alone
        return _PARENT
