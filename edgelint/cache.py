"""The result cache: a project's findings, stored under `.edgelint_cache/` at the project root.

Findings depend on the whole project (a helper in one module changes what is reported in another),
so there is one entry per project, keyed by the content of every file in it, the resolved
settings, the binding table, edgelint's version, rule set and code. An entry is replaced whenever the
key changes, so the directory holds one small file per project and settings variant. Entries are
written to a temporary file and renamed, so concurrent runs never see half an entry; an entry that
cannot be read or does not match is a miss, never an error.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

from edgelint import __version__
from edgelint.findings import Edit, Finding, Fix, RelatedLocation

CACHE_DIR = ".edgelint_cache"
FORMAT = "2"
FileState = Tuple[str, str, Optional[str]]  # path, content digest, why it could not be read


def cache_key(root: Path, identity: Iterable[str], files: Iterable[FileState]) -> Tuple[str, str]:
    """(entry name, key) of a project: `identity` holds settings, bindings and rule set fingerprints."""
    files = sorted(files)
    name = _digest([FORMAT, str(root), *identity, *(path for path, _, _ in files)])
    contents = (f"{path}\0{error if error is not None else digest}"
                for path, digest, error in files)
    return name, _digest([name, __version__, _code_stamp(), *contents])


def load_findings(root: Path, name: str, key: str) -> Optional[List[Finding]]:
    try:
        with open(root / CACHE_DIR / f"{name}.json", encoding="utf-8") as handle:
            entry = json.load(handle)
        if entry["key"] != key:
            return None
        return [_finding(item) for item in entry["findings"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, stale or corrupt: lint again


def store_findings(root: Path, name: str, key: str, findings: List[Finding]) -> None:
    directory = root / CACHE_DIR
    entry = {"key": key, "findings": [dataclasses.asdict(finding) for finding in findings]}
    try:
        _prepare(directory)
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, suffix=".tmp", delete=False)
        with handle:
            json.dump(entry, handle)
        os.replace(handle.name, directory / f"{name}.json")
    except OSError:
        return  # a read-only or full disk costs speed, not correctness


def remove_cache(root: Path) -> bool:
    """Delete `root/.edgelint_cache`; True when there was one."""
    directory = root / CACHE_DIR
    if not directory.is_dir():
        return False
    shutil.rmtree(directory, ignore_errors=True)
    return True


def _prepare(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    # Keep the cache out of version control and backups, as ruff and pytest do.
    (directory / ".gitignore").write_text("# Created by edgelint.\n*\n", encoding="utf-8")
    (directory / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8")


def _finding(item: Dict[str, Any]) -> Finding:
    fix = item["fix"]
    if fix is not None:
        fix = Fix(fix["message"], fix["applicability"], tuple(Edit(**edit) for edit in fix["edits"]))
    return Finding(**dict(item, fix=fix, related=tuple(RelatedLocation(**place) for place in item["related"])))


def _digest(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:40]


@functools.lru_cache(maxsize=None)
def _code_stamp() -> str:
    """Size and mtime of edgelint's own modules: a changed rule must not be answered from the cache,
    even before the version number moves (a development checkout)."""
    package = Path(__file__).resolve().parent
    stamps = []
    for path in sorted(package.rglob("*.py")):
        status = path.stat()
        stamps.append(f"{path.relative_to(package)}:{status.st_size}:{status.st_mtime_ns}")
    return _digest(stamps)
