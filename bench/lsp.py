"""Benchmark `edgelint server` (issue 15) on the Workers corpus of bench/corpus.py.

    .venv/bin/python bench/lsp.py                  # 600 files, 20 edits to a leaf module
    .venv/bin/python bench/lsp.py --edits 1000     # the memory target: resident memory over a long session
    .venv/bin/python bench/lsp.py --helper         # also: edits to a helper every route uses, against a cold run

A real server process is driven over stdio by pygls's client. It opens a leaf module (one no
other module imports) with a function added whose unawaited KV call is an EDG301, then edits the
module, each edit removing the function or adding it back, so that every edit changes what is
published. Latency is the time from sending an edit to receiving the leaf's new diagnostics, less
the server's debounce (the issue's target: <= 300 ms). Resident memory is the server's VmRSS after
the first edit and after the last one (target: the last <= 1.2x the first).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus, write_monolith  # noqa: E402 - beside this script
from run import MONOLITH_ROUTES  # noqa: E402 - the single-module Worker of bench/run.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from edgelint.lsp.server import DEBOUNCE  # noqa: E402

PROBE = '\n\nasync def lsp_bench_probe(env):\n    env.CACHE.delete("probe")\n'
TIMEOUT = 600.0


class Session:
    """A client with the server started, remembering when each file's diagnostics arrived."""

    def __init__(self, probe_line: int) -> None:
        self.probe_line = probe_line  # the probe's diagnostics are on this 0-based line or below
        self.client = LanguageClient("edgelint-bench", "1")
        self.published: asyncio.Queue = asyncio.Queue()
        self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(
            lambda params: self.published.put_nowait((time.perf_counter(), params)))

    async def start(self, project: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "edgelint", "server", cwd=str(ROOT),
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(from_fs_path(str(project)), "bench")]))
        self.client.initialized(types.InitializedParams())

    async def diagnostics_of(self, uri: str, probed: bool) -> float:
        """When diagnostics of `uri` arrive that report the probe (or not)."""
        while True:
            arrived, params = await asyncio.wait_for(self.published.get(), TIMEOUT)
            if params.uri == uri and any(d.range.start.line >= self.probe_line for d in params.diagnostics) == probed:
                return arrived

    def resident_mb(self) -> float:
        status = Path(f"/proc/{self.client._server.pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")) / 1024

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


def leaf(paths: List[str]) -> Path:
    """A module no other module imports."""
    texts = [Path(path).read_text(encoding="utf-8") for path in paths]
    return next(Path(path) for path in reversed(paths) if not any(f"import {Path(path).stem}" in text for text in texts))


HELPER_LINE = 'return f"{self.prefix}{key}"'  # KVStore._k of bench/corpus.py's single-module Worker, used by every route


async def run(files: int, edits: int, helper: bool = False) -> Tuple[float, List[float], float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        target = Path(write_monolith(project, MONOLITH_ROUTES)[0]) if helper else leaf(write_corpus(project, files))
        text = target.read_text(encoding="utf-8")
        assert not helper or HELPER_LINE in text
        uri = from_fs_path(str(target))
        session = Session(probe_line=text.count("\n") + 1)
        await session.start(project)
        started = time.perf_counter()
        session.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 0, text + PROBE)))
        cold = await session.diagnostics_of(uri, probed=True) - started
        latencies, first_mb = [], 0.0
        for version in range(1, edits + 1):
            probed = version % 2 == 0
            edited = text.replace(HELPER_LINE, HELPER_LINE.replace("}{", "}:{")) if helper and not probed else text
            sent = time.perf_counter()
            session.client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangeWholeDocument(text=edited + PROBE if probed else edited)]))
            latencies.append(await session.diagnostics_of(uri, probed) - sent - DEBOUNCE)
            first_mb = first_mb or session.resident_mb()
        last_mb = session.resident_mb()
        await session.stop()
        return cold, latencies, first_mb, last_mb


def cold_cli_run(helper_project: Path) -> float:
    """The fastest of three cold `edgelint check` runs of the single-module Worker."""
    write_monolith(helper_project, MONOLITH_ROUTES)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "edgelint", "check", "--no-cache", "--exit-zero", "src/worker.py"],
                       cwd=helper_project, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        times.append(time.perf_counter() - started)
    return min(times)


def helper_scenario(edits: int) -> None:
    _, latencies, _, _ = asyncio.run(run(0, edits, helper=True))
    with tempfile.TemporaryDirectory() as scratch:
        cold = cold_cli_run(Path(scratch))
    median = statistics.median(latencies)
    print(f"single-module Worker ({MONOLITH_ROUTES} routes), {edits} edits to a helper every route uses")
    print(f"  edit -> diagnostics, after the debounce: median {median:.2f} s; a cold `edgelint check`: {cold:.2f} s "
          f"({median / cold:.2f}x; target <= 1.0x: {'met' if median <= cold else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=600)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--helper", action="store_true", help="also edit a helper every route uses (a cold analysis)")
    args = parser.parse_args()
    if args.helper:
        helper_scenario(min(args.edits, 20))
    cold, latencies, first_mb, last_mb = asyncio.run(run(args.files, args.edits))
    print(f"{args.files}-file project, {args.edits} edits to a leaf module")
    print(f"  open, cold (debounce included): {cold:.2f} s")
    print(f"  edit -> diagnostics, after the {DEBOUNCE * 1000:.0f} ms debounce: median {statistics.median(latencies):.2f} s, "
          f"max {max(latencies):.2f} s (target <= 0.30 s)")
    print(f"  resident memory: {first_mb:.0f} MB after the first edit, {last_mb:.0f} MB after the last "
          f"({last_mb / first_mb:.2f}x; target <= 1.2x)")


if __name__ == "__main__":
    main()
