"""Importing libcst, and edgelint, in about half the time.

libcst's node classes are dataclasses: creating them compiles some 600 generated methods
(`__init__`, `__repr__`, `__eq__`, ...) from source text, half of what `import libcst` costs, in
every process that parses; edgelint's own dataclasses add some 150. That is most of the start-up
of a run after a one-line edit, of flake8 in an editor, of a small project. edgelint keeps the
compiled code of those methods (one marshal file per Python bytecode version, in the user's cache
directory: see `code_cache_path`) and, while libcst or one of edgelint's modules is imported,
hands dataclasses the code compiled from the very same text in place of the text: the classes are
the same.

libcst's package also imports, for its users, metadata providers, helpers and a batched visitor
that edgelint never uses (a fifth of the import). Its `__init__` is run with those imports
deferred: the first use of a name the package does not hold yet (`libcst.MetadataWrapper`,
`dir(libcst)`) runs them all, so another plugin in the same flake8 process sees exactly the names
a plain import gives.

`install()` (run when edgelint is imported) puts a finder in `sys.meta_path` that acts on
edgelint's modules and on the first import of libcst; libcst imported before that is left as it
is, and so is any other module. Anything unexpected (no cache directory, an unwritable, corrupt or
foreign file) means compiling, as without edgelint. The file holds what the installed libcst and
edgelint need (at most a few MB). `EDGELINT_CACHE_DIR` names another directory; set to the empty
string, nothing is kept.
"""
from __future__ import annotations

import builtins
import marshal
import os
import sys
from importlib.machinery import ModuleSpec
from importlib.util import MAGIC_NUMBER
from types import CodeType, ModuleType
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

CACHE_DIR_VARIABLE = "EDGELINT_CACHE_DIR"


def user_cache_directory() -> Optional[str]:
    """edgelint's directory in the user's cache: `$EDGELINT_CACHE_DIR`, else the platform's user
    cache directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS,
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
    return directory or None


def code_cache_path(family: str = "libcst") -> Optional[str]:
    """Where the compiled methods of `family` (libcst's, or edgelint's) are kept, in the
    `user_cache_directory()`. None: keep nothing."""
    directory = user_cache_directory()
    if directory is None:
        return None
    return os.path.join(directory, f"{family}-methods.{sys.implementation.cache_tag}.marshal")


class CompiledMethods:
    """Compiled code by source text, as read from and written back to `path`."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self.code: Dict[str, CodeType] = self._read()
        self.used: Dict[str, CodeType] = {}
        self.compiled = 0  # texts not in the file (since it was last written)
        self.compiled_in_process = 0

    def _read(self) -> Dict[str, CodeType]:
        if self.path is None:
            return {}
        try:
            with open(self.path, "rb") as stream:
                magic, code = marshal.loads(stream.read())  # marshal.load reads a file in small pieces: 5x slower
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        return code if magic == MAGIC_NUMBER and isinstance(code, dict) else {}

    def exec(self, source: Any, globals: Optional[dict] = None, locals: Optional[dict] = None) -> None:  # noqa: A002
        """`exec` as dataclasses calls it, with the text replaced by its compiled code."""
        if isinstance(source, str):
            source = self.compiled_code(source, lambda: compile(source, "<string>", "exec"))
        builtins.exec(source, globals, locals)

    def compiled_code(self, key: str, make: Callable[[], CodeType]) -> CodeType:
        """The code kept under `key`, or made and kept now."""
        code = self.code.get(key)
        if code is None:
            code = make()
            self.compiled += 1
            self.compiled_in_process += 1
        self.used[key] = code
        return code

    def save(self) -> None:
        """Keep what the file held and what was compiled since, when something was (what no
        import needs any more goes once the file grows past `MAX_KEPT` texts)."""
        if self.path is None or not self.compiled:
            return
        kept = {**self.code, **self.used} if len(self.code) + self.compiled <= MAX_KEPT else dict(self.used)
        self.code, self.compiled = kept, 0  # before the import below, which is served too
        from edgelint.atomic import write_atomic  # rarely needed: imported then

        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomic(self.path, marshal.dumps((MAGIC_NUMBER, kept)))
        except OSError:
            pass  # a read-only home: compile again next time


MAX_KEPT = 20_000  # compiled methods in a file (libcst needs about 1,000, edgelint 150)
# The process's, by family, each read when a class of the family is first made: a run answered
# from a memo makes few of edgelint's classes and none of libcst's.
_methods: Dict[str, CompiledMethods] = {}
_active: List[bool] = []  # one entry per import running inside `_serving` (it nests)


def _served_exec(source: Any, globals: Optional[dict] = None, locals: Optional[dict] = None) -> None:  # noqa: A002
    """dataclasses' `exec`, served from the methods of the family of the module being made."""
    family = "libcst" if str((globals or {}).get("__name__", "")).startswith("libcst") else "edgelint"
    _family_methods(family).exec(source, globals, locals)


def _family_methods(family: str) -> CompiledMethods:
    methods = _methods.get(family)
    if methods is None:
        methods = _methods[family] = CompiledMethods(code_cache_path(family))
    return methods


@contextmanager
def _serving() -> Iterator[None]:
    """While the outermost of these runs, dataclasses' `exec` is `_served_exec`; what it compiled
    is kept when it ends."""
    import dataclasses

    if not _active:
        dataclasses.exec = _served_exec  # type: ignore[attr-defined]  # a module global shadows the builtin
    _active.append(True)
    try:
        yield
    finally:
        _active.pop()
        if not _active:
            del dataclasses.exec  # type: ignore[attr-defined]
            for methods in list(_methods.values()):
                methods.save()


class _Loader:
    """A module's own loader, run inside `_serving`."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> Optional[ModuleType]:
        return self.loader.create_module(spec)

    def __getattr__(self, name: str) -> Any:  # get_code, get_source, ... (`python -m`, inspect)
        return getattr(self.loader, name)

    def exec_module(self, module: ModuleType) -> None:
        try:
            with _serving():
                if not (module.__name__ == "libcst" and _exec_libcst_lazily(self.loader, module)):
                    self.loader.exec_module(module)
        finally:
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
        if module.__name__ == "libcst" and "libcst" in _methods:
            last_import.append(_methods["libcst"])


last_import: List[CompiledMethods] = []  # what served libcst's import (tests)

# What libcst's package imports for its users and a linter never needs: about a fifth of
# `import libcst` (metadata providers, the batched visitor, helpers).
LAZY_LIBCST_MODULES = ("libcst.metadata", "libcst.helpers", "libcst._batched_visitor")
LAZY_FORMAT = "2"  # of `_lazy_init_code`'s transformation: part of the compiled code's key
_DEFERRED_IMPORTS = '''
def _edgelint_import_deferred():
    import importlib
    for module, attribute, alias in list(_edgelint_deferred):
        globals()[alias] = getattr(importlib.import_module(module), attribute)
    _edgelint_deferred.clear()


def __getattr__(name):
    """A name of the imports edgelint deferred (edgelint.cstimport), or any other name a plain
    `import libcst` may give (a submodule those imports bind): the deferred imports run first."""
    _edgelint_import_deferred()
    if name in globals():
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    _edgelint_import_deferred()
    return sorted(globals())
'''


def _exec_libcst_lazily(loader: Any, module: ModuleType) -> bool:
    """Runs libcst's `__init__` with its imports from `LAZY_LIBCST_MODULES` deferred to the first
    use of a name they give. False (nothing run): the package is not as expected."""
    try:
        source = loader.get_source(module.__name__)
        key = f"{LAZY_FORMAT}{LAZY_LIBCST_MODULES}{_DEFERRED_IMPORTS}\n{source}"  # what the code is made from
        code = _family_methods("libcst").compiled_code(key, lambda: _lazy_init_code(source, module.__file__))
    except Exception:  # noqa: BLE001  # no source, an unexpected shape: imported as it is
        return False
    exec(code, module.__dict__)
    return True


def _lazy_init_code(source: str, filename: str) -> CodeType:
    import ast

    tree = ast.parse(source)
    deferred: List[Tuple[str, str, str]] = []
    kept = []
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and not statement.level and _deferred(statement.module or ""):
            deferred += [(statement.module, alias.name, alias.asname or alias.name) for alias in statement.names]
        else:
            kept.append(statement)
    names = {alias for _, _, alias in deferred}
    used = {node.id for statement in kept for node in ast.walk(statement) if isinstance(node, ast.Name)}
    if not deferred or "*" in names or names & used or "__getattr__" in source or "__dir__" in source:
        raise ValueError("libcst's __init__ is not as expected")
    tree.body = kept + ast.parse(f"_edgelint_deferred = {deferred!r}\n{_DEFERRED_IMPORTS}").body
    return compile(tree, filename, "exec")


def _deferred(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in LAZY_LIBCST_MODULES)


class _Finder:
    """Finds libcst (on its first import only) and edgelint's modules as the other finders do,
    and wraps their loaders."""

    def __init__(self) -> None:
        self.finding: Set[str] = set()  # asked of the other finders now: not ours to answer

    def find_spec(self, name: str, path: Optional[Sequence[str]] = None, target: Any = None) -> Optional[ModuleSpec]:
        if not (name == "libcst" or name.startswith("edgelint.")) or name in self.finding:
            return None
        from importlib.util import find_spec

        self.finding.add(name)
        try:
            spec = find_spec(name)
        finally:
            self.finding.discard(name)
        if spec is not None and hasattr(spec.loader, "exec_module") and hasattr(spec.loader, "create_module"):
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Import edgelint's modules, and libcst if it is not imported yet, through `CompiledMethods`."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
