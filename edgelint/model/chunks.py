"""A module as its top-level statements ("chunks"), each parsed by libcst when first needed.

`model.outline` says where the statements lie. Decorated functions, classes with bases and
module-level code other than imports, docstrings and `NAME = value` are parsed up front; any other
function or class when the analysis enters it (`ModuleInfo.parse_chunk`), a constant when its value
is asked for (`ModuleInfo.constant`). Imports and docstrings get no chunk: `ast` read what they
say, and libcst never parses them. A chunk's offsets count the units of the module's stored text
(`textio.compact`: characters, or bytes of UTF-8).

A function no entry point reaches is analysed on its own only when its chunk is *relevant*: its
text has a binding needle (`discovery.is_relevant`), or it names something relevant of its module
(a function, a class, a global, an import of relevant project code). Other functions can hold no
binding handle of their own, so analysing them could find nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, List, Optional, Sequence, Set, Union

import libcst as cst

from edgelint.model import SLOTS
from edgelint.model.outline import CODE, Outline, TopStatement
from edgelint.textio import StoredText, expand, line_starts

if TYPE_CHECKING:  # project.py builds on chunks
    from edgelint.model.project import ClassInfo, FunctionInfo

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_BYTES = re.compile(_WORD.pattern.encode())


@dataclass(eq=False, **SLOTS)
class Chunk:
    """A piece of a module parsed on its own: a top-level function, a class or other code."""

    first: int  # first and last line in the file (1-based)
    last: int
    kind: str  # outline.FUNCTION, CLASS or CODE
    name: str
    source: StoredText  # the module's text; the chunk is source[start:end] (not a copy: memory)
    start: int
    end: int
    eager: bool = True  # parsed as soon as the module is read
    tree: Optional[cst.Module] = None
    failed: bool = False  # libcst could not parse it (reported once, see ModuleInfo.chunk_errors)
    relevant: bool = True
    owner: Optional[Union[FunctionInfo, ClassInfo]] = None  # what it defines, when parsed late
    outline: Optional[TopStatement] = None  # what `ast` said of it (routes, bases, methods)
    calls: Optional[Sequence[cst.Call]] = None  # its call nodes in the order libcst built them, once parsed

    @property
    def text(self) -> str:
        return expand(self.source[self.start:self.end])

    def mentions_of(self, names: Set[str]) -> Set[str]:
        """The identifiers of the chunk that are among `names` (only those are kept: all its words
        would take, for a big project, a third of the memory the parsed trees take)."""
        if isinstance(self.source, str):
            words = _WORD.findall(self.source, self.start, self.end)
        else:  # ASCII words in UTF-8: the same words, without decoding the chunk
            words = [word.decode("ascii") for word in _WORD_BYTES.findall(self.source, self.start, self.end)]
        return names.intersection(words)


def whole_module(source: StoredText, tree: cst.Module, calls: List[cst.Call]) -> List[Chunk]:
    """One chunk for a module libcst parsed whole (when `ast` could not outline it)."""
    return [Chunk(1, len(line_starts(source)), CODE, "", source, 0, len(source), True, tree, calls=calls)]


def is_whole(chunks: List[Chunk]) -> bool:
    """Whether one chunk covers the whole module (libcst parsed it whole, or it is one statement)."""
    return len(chunks) == 1 and chunks[0].start == 0 and chunks[0].end == len(chunks[0].source)


def chunks_of(source: StoredText, outline: Outline) -> List[Chunk]:
    """The statements libcst may parse (not imports and docstrings: see `outline.imports_of`)."""
    starts = line_starts(source)
    chunks: List[Chunk] = []
    for statement in outline:
        if statement.ever_parsed:
            end = starts[statement.end] if statement.end < len(starts) else len(source)
            chunks.append(Chunk(statement.start, statement.end, statement.kind, statement.name,
                                source, starts[statement.start - 1], end, statement.eager, outline=statement))
    return chunks


def bound_names(tree: cst.Module) -> Set[str]:
    """Names a chunk of module-level code assigns or defines (imports are read from the module's
    index), also inside `if`/`try` blocks."""
    names: Set[str] = set()
    for statement in tree.body:
        _bind_statement(statement, names)
    return names


def _bind_statement(statement: cst.CSTNode, names: Set[str]) -> None:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        names.add(statement.name.value)
    elif isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else \
                [small.target] if isinstance(small, (cst.AnnAssign, cst.AugAssign)) else []
            for target in targets:
                names.update(element.value.value if isinstance(element.value, cst.Name) else ""
                             for element in getattr(target, "elements", ()))
                if isinstance(target, cst.Name):
                    names.add(target.value)
    elif isinstance(statement, cst.BaseCompoundStatement):
        orelse = getattr(statement, "orelse", None)
        if isinstance(orelse, cst.If):  # elif
            _bind_statement(orelse, names)
            orelse = None
        for part in (statement, orelse, getattr(statement, "finalbody", None), *getattr(statement, "handlers", ())):
            block = getattr(part, "body", None)
            for nested in block.body if isinstance(block, cst.IndentedBlock) else ():
                _bind_statement(nested, names)
    names.discard("")
