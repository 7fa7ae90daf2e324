"""Run analysis with room for the recursion that deeply nested code needs.

libcst nests one node per operand of a chain (`a + b + c ...`, implicitly concatenated strings,
`x.a.b.c`, `f()()()`), and libcst's code generator and visitors, like edgelint's model, walk trees
recursively. Python's default limit of 1,000 frames is reached by ordinary generated code: the
stdlib's `pydoc_data/topics.py` holds string concatenations of hundreds of parts. Raising the limit
on the main thread could overflow its C stack (8 MB by default, and before Python 3.11 every Python
call also uses C stack), so the work runs on a thread whose stack is sized for the raised limit.
"""
from __future__ import annotations

import sys
import threading
from typing import Callable, List, Optional, TypeVar

Result = TypeVar("Result")

RECURSION_LIMIT = 30_000
# Virtual memory: only the pages a deep recursion actually touches are ever used.
STACK_BYTES = 512 * 1024 * 1024


def call_with_deep_stack(function: Callable[[], Result]) -> Result:
    """`function()` on a thread with a deep stack and a raised recursion limit; its result or its
    exception, as if called directly."""
    outcome: List[Result] = []
    failure: List[BaseException] = []

    def target() -> None:
        _raise_limit()
        try:
            outcome.append(function())
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            failure.append(exc)
        finally:
            _restore_limit()

    thread = _start(target)
    if thread is None:  # no thread of that size on this platform: the default stack must do
        return function()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


# The limit is per process: it is raised while any deep-stack thread runs (several may, in a
# server linting on threads) and restored when the last one ends.
_LIMIT_LOCK = threading.Lock()
_deep_threads = 0
_previous_limit = 0


def _raise_limit() -> None:
    global _deep_threads, _previous_limit
    with _LIMIT_LOCK:
        if _deep_threads == 0:
            _previous_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_previous_limit, RECURSION_LIMIT))
        _deep_threads += 1


def _restore_limit() -> None:
    global _deep_threads
    with _LIMIT_LOCK:
        _deep_threads -= 1
        if _deep_threads == 0:
            sys.setrecursionlimit(_previous_limit)


def _start(target: Callable[[], None]) -> Optional[threading.Thread]:
    try:
        previous = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):
        return None
    try:
        # A daemon, so that an interrupted run (Ctrl-C while joining) can still exit.
        thread = threading.Thread(target=target, name="edgelint-deep-stack", daemon=True)
        thread.start()
    except RuntimeError:
        return None
    finally:
        threading.stack_size(previous)
    return thread
