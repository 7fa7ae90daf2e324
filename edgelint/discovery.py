"""Finding the Python files to lint, and the cheap check that skips files without bindings."""
from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path, PurePath
from typing import (TYPE_CHECKING, Callable, FrozenSet, Iterable, Iterator, List, Optional, Protocol, Sequence, Set,
                    Tuple)

if TYPE_CHECKING:
    from edgelint.config import Settings

DEFAULT_EXCLUDES = (".venv", "venv", ".git", "node_modules", ".wrangler", "__pycache__", ".tox", ".nox",
                    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".edgelint_cache", "build", "dist",
                    "site-packages", ".eggs", "*.egg-info", ".hg", ".svn")

# Files without any of these cannot hold a binding handle of their own; the project view adds back
# modules imported by relevant ones (a helper that only receives `kv` as a parameter). The needles
# are tight on purpose: a bare `env` matches local environment dicts (`env["PATH"]`, `env=env`) and
# would send 1 stdlib file in 14 to the parser; bindings are `env.UPPER`, lower-case binding names
# are caught by the wrangler names below, and `on_fetch(request, env)` entry modules by name.
# Each needle is (a substring, the expression around it or None when the substring is the needle):
# substring search is many times faster than a regular expression, which runs only on the texts
# that hold its substring (a fifth of the standard library has a `getattr(`).
NEEDLES = (
    ("env.", re.compile(r"\benv\.[A-Z]")),
    ("getattr(", re.compile(r"getattr\(\s*env\b")),
    *((f"on_{name}", re.compile(rf"\bon_{name}\b")) for name in ("fetch", "scheduled", "queue")),
    (".storage", re.compile(r"\.storage\b")),
    ("DurableObject", None), ("WorkerEntrypoint", None), ("WorkflowEntrypoint", None), ("idFromName", None),
    ("idFromString", None), ("newUniqueId", None), ("getByName", None),
)


def matches_glob(path: str, pattern: str, root: Optional[Path] = None) -> bool:
    """gitignore-style: a bare name matches any path component, otherwise match the relative path."""
    return _matches(_relative(path, root), pattern)


def _relative(path: str, root: Optional[Path]) -> PurePath:
    return PurePath(_relative_text(path, root))


def _relative_text(path: str, root: Optional[Path]) -> str:
    if root is not None:
        try:
            return os.path.relpath(path, root)
        except ValueError:  # another drive (Windows)
            pass
    return path


def _matches(relative: PurePath, pattern: str) -> bool:
    text = relative.as_posix()
    pattern = pattern.rstrip("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts)
    return fnmatch.fnmatchcase(text, pattern) or fnmatch.fnmatchcase(text, pattern.lstrip("/")) or \
        fnmatch.fnmatchcase(text, pattern + "/*") or text.startswith(pattern.lstrip("./") + "/")


class Governing(Protocol):
    """What says which settings govern a file: a Settings alone, or a config.Resolver."""

    def settings_for(self, path: str) -> "Settings": ...


def discover(paths: Sequence[str], governing: Governing, errors: List[Tuple[str, str]],
             warnings: Optional[List[Tuple[str, str]]] = None, force_exclude: bool = False) -> List[str]:
    """Python files under `paths`, sorted and de-duplicated. Each file or directory found is
    skipped when the settings that govern it exclude it; a file named explicitly is kept unless
    `force_exclude` (pre-commit names every file: excludes must apply to it too).

    `errors` collects paths that cannot be walked, `warnings` symbolic link loops (not followed:
    every file below them is linted once).
    """
    found: List[str] = []
    seen: Set[str] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append((raw, "no such file or directory"))
            continue
        if path.is_dir():
            candidates: Iterable[Tuple[str, str]] = _walk(path, governing, errors, warnings)
        elif force_exclude and governing.settings_for(raw).is_excluded(raw, Path(os.getcwd())):
            continue
        else:  # a file, or a FIFO or device that reading then reports
            candidates = [(raw, os.path.realpath(raw))]
        for candidate, key in candidates:
            if key not in seen:
                seen.add(key)
                found.append(os.path.normpath(candidate))
    return found


def _walk(directory: Path, governing: Governing, errors: List[Tuple[str, str]],
          warnings: Optional[List[Tuple[str, str]]]) -> Iterator[Tuple[str, str]]:
    """The Python files below `directory`, each with its real path (what tells two spellings of
    one file apart): its directory's, unless the file itself is a symbolic link."""
    visited: Set[str] = set()

    def excluded(path: str) -> bool:
        # Without a configured root, excludes apply below the directory named: a checkout under
        # ~/build/ or a project named on the command line is not excluded by where it lives.
        return governing.settings_for(path).is_excluded(path, directory)

    def on_error(exc: OSError) -> None:
        errors.append((exc.filename or str(directory), exc.strerror or str(exc)))

    for current, dirnames, filenames in os.walk(directory, onerror=on_error, followlinks=True):
        real = os.path.realpath(current)
        if real in visited:  # reached again through a symbolic link: walked already
            if warnings is not None and _is_loop(current, real):
                warnings.append((os.path.normpath(current), "symbolic link loop (links to an ancestor), not followed"))
            dirnames[:] = []
            continue
        visited.add(real)
        dirnames[:] = sorted(d for d in dirnames if not excluded(os.path.join(current, d)))
        file_excluded = _file_excludes(current, governing.settings_for(os.path.join(current, "_")), directory)
        for name in sorted(filenames):
            full = os.path.join(current, name)
            if name.endswith((".py", ".pyi")) and not file_excluded(name, full):
                yield full, os.path.realpath(full) if os.path.islink(full) else os.path.join(real, name)


def _file_excludes(current: str, settings: "Settings", base: Path) -> Callable[[str, str], bool]:
    """Whether a file (name, path) of directory `current`, governed by `settings`, is excluded:
    by its name alone when the patterns match single components (the directory is asked once)."""
    patterns = settings.name_excludes()
    if patterns is None:
        return lambda name, full: settings.is_excluded(full, base)
    if settings.is_excluded(current, base):
        return lambda name, full: True
    names, globs = patterns
    return lambda name, full: name in names or any(fnmatch.fnmatchcase(name, glob.rstrip("/")) for glob in globs)


def component_patterns(patterns: Tuple[str, ...]) -> Optional[Tuple[FrozenSet[str], Tuple[str, ...]]]:
    """`patterns` as (exact names, single-component globs), or None when one holds a `/`."""
    if any("/" in pattern.rstrip("/") for pattern in patterns):
        return None
    return _split_patterns(patterns)


def _is_loop(link: str, target: str) -> bool:
    """Whether the directory `link` leads to `target`, which contains the link itself."""
    parent = os.path.realpath(os.path.dirname(link))
    return parent == target or parent.startswith(target.rstrip(os.sep) + os.sep)


def is_excluded(path: str, excludes: Sequence[str], root: Optional[Path]) -> bool:
    names, globs = _split_patterns(tuple(excludes))
    if not globs:  # plain names only (the defaults): no PurePath, asked for every file of a project
        text = _relative_text(path, root)
        if os.altsep:
            text = text.replace(os.altsep, os.sep)
        return not names.isdisjoint(part for part in text.split(os.sep) if part not in ("", "."))  # PurePath's parts
    relative = _relative(path, root)
    return not names.isdisjoint(relative.parts) or any(_matches(relative, pattern) for pattern in globs)


@lru_cache(maxsize=16)
def _split_patterns(excludes: Tuple[str, ...]) -> Tuple[FrozenSet[str], Tuple[str, ...]]:
    """Plain names (`.venv`, `node_modules`: most excludes) match a path component exactly, which
    a set answers at once; the rest are globs."""
    names = frozenset(pattern.rstrip("/") for pattern in excludes
                      if "/" not in pattern.rstrip("/") and not any(char in pattern for char in "*?["))
    return names, tuple(pattern for pattern in excludes if pattern.rstrip("/") not in names)


def is_relevant(text: str, binding_names: Iterable[str] = ()) -> bool:
    """Cheap check run before parsing a file, or a statement of it, with libcst."""
    for literal, around in NEEDLES:
        if literal in text and (around is None or around.search(text)):
            return True
    return any(name in text for name in binding_names if len(name) > 2)
