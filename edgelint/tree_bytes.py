"""libcst trees as bytes, and the trees of large modules kept between runs.

A tree travels pickled with its call nodes (in the order the parser built them): a node of a
shared class (`model.parsing`: whitespace, punctuation, identifiers, short literals) as its key,
shared again on arrival, so that a loaded tree is the tree a parse here would give. Loading one
takes about a fifth of parsing its text. `parse_ahead` sends trees this way between processes;
`TreeStore` keeps them in the result cache.
"""
from __future__ import annotations

import copyreg
import io
import pickle
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

import libcst as cst

from edgelint.model import parsing

Parsed = Tuple[cst.Module, List[cst.Call]]  # a tree and its calls in build order


def dumps(tree: cst.Module, calls: List[cst.Call]) -> bytes:
    """Pickled: the reducer is asked once for each distinct node of a shared class (pickle's memo
    answers the repeats), and never for other objects."""
    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump((tree, calls))
    return stream.getvalue()


def loads(data: bytes) -> Optional[Parsed]:
    """The tree and calls `dumps` made; None when they do not load (a full shared table: parse)."""
    try:
        tree, calls = pickle.loads(data)
    except Exception:  # noqa: BLE001 - whatever keeps a tree from loading means parsing it
        return None
    return tree, calls


def _reduce(node: cst.CSTNode) -> Tuple[object, ...]:
    """How a node of a shared class travels: a shared one as its key (the receiver shares it again,
    `parsing.shared_node`), another as any object."""
    if parsing.is_shared(node):
        return parsing.shared_node, (parsing.shared_key(node),)
    return node.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


@lru_cache(maxsize=None)
def _dispatch_table() -> Dict[type, object]:
    return {**copyreg.dispatch_table, **{cls: _reduce for cls in parsing.shared_classes()}}


class TreeStore:
    """The pickled trees of large modules' functions, by module path (absolute) and text, as the
    last run left them (edgelint.cache.Slot.load_trees): a run after an edit of such a module
    parses only the functions whose text changed."""

    def __init__(self, modules: Optional[Mapping[str, Dict[str, bytes]]] = None):
        self.modules: Dict[str, Dict[str, bytes]] = dict(modules or {})
        self._by_text = {text: data for trees in self.modules.values() for text, data in trees.items()}
        self.taken: Dict[str, bytes] = {}  # what this run loaded, by text (tests)

    def take(self, text: str) -> Optional[Parsed]:
        """The tree of `text` and its calls, when the store has them and they load."""
        data = self._by_text.get(text)
        parsed = loads(data) if data is not None else None
        if parsed is not None:
            self.taken[text] = data  # type: ignore[assignment]  # not None when parsed is not
        return parsed

    def pickled(self, text: str) -> Optional[bytes]:
        return self._by_text.get(text)

    def __contains__(self, text: str) -> bool:
        return text in self._by_text
