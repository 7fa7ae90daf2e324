"""A second process that parses ahead of an analysis that runs in one process.

A project of few entry points (one `fetch` reaching a hundred routes of one module) is analysed by
one process (engine.ProjectRun), which parses each function when it first enters it: libcst's
parse is half of such a run. With `--jobs` above one, a process forked after the index parses the
statements the analysis may enter (after an edit: those of the edited modules), from the last one
back, and sends each tree (pickled: plain
bytes through a pipe) while the analysis parses from the first one on. When the analysis wants a
statement the other process has sent, it unpickles the tree (about a fifth of a parse) instead of
parsing it; the two meet in the middle. The trees are the same (same text, same libcst): shared
leaf nodes travel as keys and are shared again on arrival (`model.parsing`), and the call nodes
keep the order the parser built them in.

The analysis never waits on the other process: it reads what has arrived, and parses what has not.
The other process ends with the analysis (it is killed), and a failure there only means parsing
here.
"""
from __future__ import annotations

import os
import signal
import struct
from contextlib import contextmanager
from functools import partial
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import libcst as cst

from edgelint import tree_bytes
from edgelint.deepstack import call_with_deep_stack
from edgelint.model import parsing

_HEADER = struct.Struct("!II")  # index of the text, length of the pickled tree (0: could not parse)
_READ_SIZE = 1 << 20


class ParsedAhead:
    """The parent's end: trees by text, as they arrive."""

    def __init__(self, texts: Sequence[str], pid: int, fd: int):
        self.texts = texts
        self.pid = pid
        self.fd = fd
        self._buffer = bytearray()
        self._arrived: Dict[str, bytes] = {}
        self._wanted = set(texts)
        self.taken: Dict[str, bytes] = {}  # the trees the analysis took from here, pickled, by text

    def take(self, text: str) -> Optional[Tuple[cst.Module, List[cst.Call]]]:
        """The tree of `text` and its calls in build order, if they have arrived (None: parse it)."""
        if text not in self._wanted:
            return None
        self._wanted.discard(text)  # asked once: parsed here if not arrived, and never taken later
        self._drain()
        data = self._arrived.pop(text, None)
        if not data:
            return None
        parsed = tree_bytes.loads(data)  # None: a tree that does not load (a full shared table) is parsed here
        if parsed is not None:
            self.taken[text] = data
        return parsed

    def _drain(self) -> None:
        while self.fd >= 0:
            try:
                chunk = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:  # the other process ended
                os.close(self.fd)
                self.fd = -1
                break
            self._buffer += chunk
        while len(self._buffer) >= _HEADER.size:
            index, length = _HEADER.unpack_from(self._buffer)
            if len(self._buffer) < _HEADER.size + length:
                break
            text = self.texts[index]
            if text in self._wanted:
                self._arrived[text] = bytes(self._buffer[_HEADER.size:_HEADER.size + length])
            del self._buffer[:_HEADER.size + length]

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


@contextmanager
def parsing_ahead(texts: Sequence[str]) -> Iterator[Optional[ParsedAhead]]:
    """While the block runs, a forked process parses `texts` from the last one back: the trees it
    has sent are the yielded object's to `take` (a provider of `model.parsing.parse_elsewhere`).
    Call from the main thread, before the analysis starts (forking from another thread is unsafe).
    None: no fork here."""
    if not texts or not hasattr(os, "fork"):
        yield None
        return
    read_end, write_end = os.pipe()
    # A Ctrl-C during the fork reaches the parent after it, and the child only once it is ready.
    _interrupt_mask(signal.SIG_BLOCK)
    try:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # a Ctrl-C ends the parent, and with it this
                _interrupt_mask(signal.SIG_UNBLOCK)
                os.close(read_end)
                call_with_deep_stack(partial(_parse_and_send, texts, write_end))  # deep code, as here
            finally:
                os._exit(0)
    finally:
        _interrupt_mask(signal.SIG_UNBLOCK)
    os.close(write_end)
    os.set_blocking(read_end, False)
    ahead = ParsedAhead(texts, pid, read_end)
    try:
        yield ahead
    finally:
        ahead.close()


def _interrupt_mask(how: int) -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(how, {signal.SIGINT})


def _parse_and_send(texts: Sequence[str], fd: int) -> None:
    try:
        with os.fdopen(fd, "wb", buffering=_READ_SIZE) as stream:
            for index in range(len(texts) - 1, -1, -1):
                stream.write(_framed(index, texts[index]))
                stream.flush()
    except BaseException:  # noqa: BLE001 - the parent parses whatever did not arrive
        pass


def _framed(index: int, text: str) -> bytes:
    try:
        calls: List[cst.Call] = []
        tree = parsing.parse_module(text, calls)
        payload = tree_bytes.dumps(tree, calls)
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError, any: the parent parses it (and reports it)
        payload = b""
    return _HEADER.pack(index, len(payload)) + payload
