"""Worker processes for `--jobs`.

What runs where follows from measurement (bench/run.py, README "Benchmarks"): a libcst tree costs
more to pickle and unpickle than to parse, and the analysis needs every tree of a project in one
process. So whole projects go to workers; inside a single project the parent parses and analyses,
and workers only compute what needs the text alone (the `ast` call positions reporters use), on the
cores the parent leaves idle.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Mapping, Sequence, TypeVar

from edgelint.positions import AstCalls, ast_calls

# Below this many files a run is over before a pool has started.
MIN_PARALLEL_FILES = 32

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
Prefetch = Callable[[Mapping[str, str]], Dict[str, "Future[AstCalls]"]]


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_count(jobs: int, files: int) -> int:
    """How many processes to use: 1 (no pool) for a single job or a tiny run."""
    return 1 if jobs <= 1 or files < MIN_PARALLEL_FILES else jobs


@contextmanager
def process_pool(workers: int) -> Iterator[Executor]:
    # fork: workers start in milliseconds with edgelint already imported; elsewhere the default.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def ordered_map(pool: Executor, function: Callable[[Item], Outcome], items: Sequence[Item],
                cost: Callable[[Item], int]) -> List[Outcome]:
    """`function` over `items` in the pool, costliest first (so the longest one does not start
    last), results in the order of `items`."""
    futures: Dict[int, Future] = {}
    for index in sorted(range(len(items)), key=lambda i: -cost(items[i])):
        futures[index] = pool.submit(function, items[index])
    return [futures[index].result() for index in range(len(items))]


def position_prefetcher(pool: Executor) -> Prefetch:
    """Start computing the `ast` call positions of these files (path -> text) in the pool."""
    def prefetch(texts: Mapping[str, str]) -> Dict[str, "Future[AstCalls]"]:
        return {path: pool.submit(ast_calls, text) for path, text in texts.items()}

    return prefetch
