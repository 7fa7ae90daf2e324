"""Importing libcst in about half the time.

libcst's node classes are dataclasses: creating them compiles some 600 generated methods
(`__init__`, `__repr__`, `__eq__`, ...) from source text, half of what `import libcst` costs, in
every process that parses. That is most of the start-up of a run after a one-line edit, of
flake8 in an editor, of a small project. edgelint keeps the compiled code of those methods (one
marshal file per Python bytecode version, in the user's cache directory: see `code_cache_path`)
and, while libcst is imported, hands dataclasses the code compiled from the very same text in
place of the text: the classes are the same.

`install()` (run when edgelint is imported) puts a finder in `sys.meta_path` that acts on the next
import of libcst only, then removes itself; libcst imported before that is left as it is.
Anything unexpected (no cache directory, an unwritable, corrupt or foreign file) means compiling,
as without edgelint. The file holds only what the installed libcst needs (at most a few MB).
`EDGELINT_CACHE_DIR` names another directory; set to the empty string, nothing is kept.
"""
from __future__ import annotations

import builtins
import marshal
import os
import sys
from importlib.machinery import ModuleSpec
from importlib.util import MAGIC_NUMBER
from types import CodeType, ModuleType
from typing import Any, Dict, List, Optional, Sequence

CACHE_DIR_VARIABLE = "EDGELINT_CACHE_DIR"


def code_cache_path() -> Optional[str]:
    """Where the compiled methods are kept: `$EDGELINT_CACHE_DIR`, else the platform's user cache
    directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
    `%LOCALAPPDATA%` on Windows) under `edgelint/`. None: keep nothing."""
    directory = os.environ.get(CACHE_DIR_VARIABLE)
    if directory is None:
        if sys.platform == "win32":
            base = os.environ.get("LOCALAPPDATA")
        elif sys.platform == "darwin":
            base = os.path.expanduser("~/Library/Caches")
        else:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        directory = os.path.join(base, "edgelint") if base and base != "~/.cache" else None
    if not directory:
        return None
    return os.path.join(directory, f"libcst-methods.{sys.implementation.cache_tag}.marshal")


class CompiledMethods:
    """Compiled code by source text, as read from and written back to `path`."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.code: Dict[str, CodeType] = self._read()
        self.used: Dict[str, CodeType] = {}
        self.compiled = 0  # texts not in the file

    def _read(self) -> Dict[str, CodeType]:
        if self.path is None:
            return {}
        try:
            with open(self.path, "rb") as stream:
                magic, code = marshal.load(stream)
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return code if magic == MAGIC_NUMBER and isinstance(code, dict) else {}

    def exec(self, source: Any, globals: Optional[dict] = None, locals: Optional[dict] = None) -> None:  # noqa: A002
        """`exec` as dataclasses calls it, with the text replaced by its compiled code."""
        if isinstance(source, str):
            code = self.code.get(source)
            if code is None:
                code = compile(source, "<string>", "exec")
                self.compiled += 1
            self.used[source] = code
            source = code
        builtins.exec(source, globals, locals)

    def save(self) -> None:
        """Keep exactly what this import used, when it differs from what the file held."""
        if self.path is None or (not self.compiled and len(self.used) == len(self.code)):
            return
        from edgelint.atomic import write_atomic  # rarely needed: imported then

        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, marshal.dumps((MAGIC_NUMBER, self.used)))
        except OSError:
            pass  # a read-only home: compile again next time


class _Loader:
    """libcst's own loader, with dataclasses' `exec` served from `CompiledMethods` while it runs."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> Optional[ModuleType]:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        import dataclasses

        methods = CompiledMethods(code_cache_path())
        dataclasses.exec = methods.exec  # type: ignore[attr-defined]  # a module global shadows the builtin
        try:
            self.loader.exec_module(module)
        finally:
            del dataclasses.exec  # type: ignore[attr-defined]
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
        methods.save()
        last_import.append(methods)


last_import: List[CompiledMethods] = []  # what the import did (tests)


class _Finder:
    """Finds libcst as the other finders do and wraps its loader; acts once, then leaves."""

    def find_spec(self, name: str, path: Optional[Sequence[str]] = None, target: Any = None) -> Optional[ModuleSpec]:
        if name != "libcst":
            return None
        _uninstall()
        from importlib.util import find_spec

        spec = find_spec(name)
        if spec is not None and hasattr(spec.loader, "exec_module") and hasattr(spec.loader, "create_module"):
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Import libcst through `CompiledMethods`, if it is not imported yet."""
    if "libcst" not in sys.modules and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def _uninstall() -> None:
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _Finder)]
