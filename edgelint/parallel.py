"""Worker processes for `--jobs`.

What runs where follows from measurement (bench/run.py, README "Benchmarks"). The analysis needs
the libcst trees of a project in one process, and shipping a tree between processes costs more
than parsing it (~1.2 parses to build and pickle, ~0.5 to unpickle). So whole projects go to
workers when there are several; inside one project, workers compute the files' outlines (Python's
`ast`: where the top-level statements lie, plain data that is cheap to send) while the parent
parses with libcst what the analysis needs up front; that pool stops before the analysis. A large
cold analysis is then shared by workers forked after the parse (`engine.ProjectRun`), which send
back plain data too: what their slice of the entry points learnt, as the cache keeps it. A cold
analysis that stays in one process has a forked process parse ahead of it (edgelint.parse_ahead):
there the pickling is the other process's, and only the unpickling is on the analysis's path.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, TypeVar

from edgelint.model.outline import Outline, outline
from edgelint.textio import read_text

if TYPE_CHECKING:  # imported by process_pool: a run that starts no pool does not pay for them
    from concurrent.futures import Executor, Future

# Below this many files a run is over before a pool has started.
MIN_PARALLEL_FILES = 32

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


COMPUTE = object()  # the parent computes this piece of work itself


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
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

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


def outline_file(path: str) -> Tuple[str, Optional[Outline]]:
    """A worker's job: read and outline a file, and say which content it outlined (its digest)."""
    found = read_text(path)
    return found.digest, (outline(found.text) if found.text is not None else None)


class SharedWork:
    """Work on one project's files that the parent shares with the pool: their outlines.

    Workers compute them in the order the parent reads the files, so the parent finds each one
    ready (or waits for it) while it spends its own time on libcst parsing.
    Workers read the files themselves: sending a text would leave a UTF-8 copy of it in the
    parent (pickling asks CPython for one, and a non-ASCII string keeps it). An outline is used
    only for the very content the parent read (same digest); a file changed in between, or text
    from stdin, is outlined by the parent.
    """

    def __init__(self, pool: Executor):
        self.pool = pool
        self.outlines: Dict[str, Future] = {}

    def start(self, paths: Iterable[str]) -> None:
        """Queue the outlines, in the order of `paths`."""
        for path in paths:
            try:
                self.outlines[path] = self.pool.submit(outline_file, path)
            except (OSError, RuntimeError):  # no worker could start (BrokenProcessPool is one)
                return  # the parent outlines the rest itself

    def stop(self) -> None:
        """Drop what is still queued and let the workers go (no process starts here)."""
        self.outlines.clear()
        self.pool.shutdown(wait=False, cancel_futures=True)

    def outline(self, path: str, digest: str) -> object:
        """The outline a worker computed (None: `ast` refused the file), or COMPUTE: the parent
        computes it itself (a file found later, or a worker that died)."""
        future = self.outlines.pop(path, None)
        if future is None:
            return COMPUTE
        try:
            outlined, shape = future.result()
            return shape if outlined == digest else COMPUTE
        except Exception:  # noqa: BLE001 - a worker died (killed, out of memory) or failed
            return COMPUTE
