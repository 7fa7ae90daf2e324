"""Which Python files a wrangler config deploys: the file its `main` names and every project module
that file imports, transitively. Imports inside functions count (`from app import app` inside
`fetch` is how Cloudflare's FastAPI example loads its routes), and so do files the relevance filter
does not parse: imports are read from the text. A config without `main` deploys every file of its
project; one whose `main` is not a Python file (a JavaScript Worker) deploys none."""
from __future__ import annotations

import os
import re
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Sequence, Set, Tuple

from edgelint.model.bindings import WranglerConfig
from edgelint.model.project import ModuleIndex, absolute_name, submodule_name

ImportsOf = Callable[[str], Iterable[str]]  # path -> the modules its import statements name (`imported_names`)

# An import statement at the start of a line, at any indentation: `import a.b as c, d`,
# `from .x import (y, z)` (the parenthesised names may span lines).
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n;#]*)|import[ \t]+([^\n;#]*))",
                     re.M)


def deployed_by(configs: Sequence[WranglerConfig], names: ModuleIndex[str], module_names: Mapping[str, str],
                imports_of: ImportsOf) -> Dict[str, Tuple[WranglerConfig, ...]]:
    """The configs that deploy each file of a project, by path; `module_names` maps each path to
    its module name, which `names` maps back. `imports_of` is asked only of the files that the
    configs' `main` files import, transitively."""
    found: Dict[str, Tuple[WranglerConfig, ...]] = {}
    for config in configs:
        for path in _deployed(config, names, module_names, imports_of):
            found[path] = found.get(path, ()) + (config,)
    return found


def _deployed(config: WranglerConfig, names: ModuleIndex[str], module_names: Mapping[str, str],
              imports_of: ImportsOf) -> Iterable[str]:
    if not config.mains:
        return module_names
    by_real_path = {os.path.realpath(path): path for path in module_names}
    mains = [by_real_path.get(os.path.realpath(main)) for main in config.mains if main.endswith(".py")]
    if None in mains:
        return module_names  # a Python `main` that is not linted (excluded, missing): what it imports is unknown
    return _imported_from([main for main in mains if main is not None], names, module_names, imports_of)


def _imported_from(mains: List[str], names: ModuleIndex[str], module_names: Mapping[str, str],
                   imports_of: ImportsOf) -> Set[str]:
    reached, pending = set(mains), list(mains)
    while pending:
        path = pending.pop()
        is_package = os.path.basename(path) == "__init__.py"
        for written in imports_of(path):
            target = names.get(absolute_name(module_names[path], is_package, written))
            if target is not None and target not in reached:
                reached.add(target)
                pending.append(target)
    return reached


def imported_names(text: str) -> Iterator[str]:
    """The modules the import statements of `text` may load, as written: `from a.b import c` ->
    `a`, `a.b`, `a.b.c` (`c` may be a submodule; a package runs its `__init__`)."""
    for match in _IMPORT.finditer(text):
        source, names, modules = match.groups()
        for written in [submodule_name(source, name) for name in _names(names)] if source is not None else _names(modules):
            yield from _with_packages(written)
        if source is not None:
            yield from _with_packages(source)


def _names(listed: str) -> Iterator[str]:
    """`a.b as c, d` or `(x,\n y as z)` -> the dotted names, without aliases."""
    for part in listed.strip("()").split(","):
        words = part.split()
        if words and words[0].replace(".", "").isidentifier():
            yield words[0]


def _with_packages(written: str) -> Iterator[str]:
    """`a.b.c` -> `a`, `a.b`, `a.b.c`; a relative name (`..x.y`) only as written."""
    if written.startswith("."):
        yield written
        return
    parts = written.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])
