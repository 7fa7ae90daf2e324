"""Finding the Python files to lint, and the cheap check that skips files without bindings."""
from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path, PurePath
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

DEFAULT_EXCLUDES = (".venv", "venv", ".git", "node_modules", ".wrangler", "__pycache__", ".tox", ".nox",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".edgelint_cache", "build", "dist",
                    "site-packages", ".eggs", "*.egg-info", ".hg", ".svn")

# Files without any of these cannot hold a binding handle of their own; the project view adds back
# modules imported by relevant ones (a helper that only receives `kv` as a parameter).
RELEVANCE = re.compile(
    rb"\benv\b|DurableObject|WorkerEntrypoint|idFromName|idFromString|newUniqueId|getByName|\.storage\b"
)


def matches_glob(path: str, pattern: str, root: Optional[Path] = None) -> bool:
    """gitignore-style: a bare name matches any path component, otherwise match the relative path."""
    pure = PurePath(path)
    relative = pure
    if root is not None:
        try:
            relative = PurePath(os.path.relpath(path, root))
        except ValueError:
            relative = pure
    text = relative.as_posix()
    pattern = pattern.rstrip("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts)
    return fnmatch.fnmatchcase(text, pattern) or fnmatch.fnmatchcase(text, pattern.lstrip("/")) or \
        fnmatch.fnmatchcase(text, pattern + "/*") or text.startswith(pattern.lstrip("./") + "/")


def discover(paths: Sequence[str], excludes: Sequence[str], root: Optional[Path],
             errors: List[Tuple[str, str]]) -> List[str]:
    """Python files under `paths` (explicit files are always kept), sorted and de-duplicated."""
    found: List[str] = []
    seen: Set[str] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append((raw, "no such file or directory"))
            continue
        if path.is_file():
            candidates: Iterable[str] = [raw]
        else:
            candidates = _walk(path, excludes, root, errors)
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(os.path.normpath(candidate))
    return found


def _walk(directory: Path, excludes: Sequence[str], root: Optional[Path],
          errors: List[Tuple[str, str]]) -> Iterator[str]:
    visited: Set[str] = set()

    def on_error(exc: OSError) -> None:
        errors.append((exc.filename or str(directory), exc.strerror or str(exc)))

    for current, dirnames, filenames in os.walk(directory, onerror=on_error, followlinks=True):
        real = os.path.realpath(current)
        if real in visited:  # a symlink loop: walked this directory already
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not _excluded(os.path.join(current, d), excludes, root))
        for name in sorted(filenames):
            full = os.path.join(current, name)
            if name.endswith((".py", ".pyi")) and not _excluded(full, excludes, root):
                yield full


def _excluded(path: str, excludes: Sequence[str], root: Optional[Path]) -> bool:
    return any(matches_glob(path, pattern, root) for pattern in excludes)


def is_relevant(data: bytes, binding_names: Iterable[str] = ()) -> bool:
    """Cheap byte-level check run before parsing."""
    if RELEVANCE.search(data):
        return True
    return any(name.encode() in data for name in binding_names if len(name) > 2)
