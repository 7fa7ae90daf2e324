"""`LazyValues`: a mapping over known keys whose values are computed when first asked for.

The analysis memory's pickled values (`cache.Pickled`, unpickled one by one) and a project's
modules (`model.project.LazyModules`, built one by one) are both such mappings: asking whether a
key is there, iterating or counting computes nothing.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Mapping, Optional, TypeVar

Key = TypeVar("Key")
Val = TypeVar("Val")


class LazyValues(Mapping[Key, Val]):
    """Values over the keys of `sources` (what each value is computed from, if anything), each
    computed by `_compute` when first asked for and kept."""

    def __init__(self, sources: Mapping[Key, Any], values: Optional[Dict[Key, Val]] = None):
        self._sources = sources
        self._values: Dict[Key, Val] = values if values is not None else {}

    def _compute(self, key: Key) -> Val:
        raise NotImplementedError

    def __getitem__(self, key: Key) -> Val:
        try:
            return self._values[key]
        except KeyError:
            if key not in self._sources:
                raise
            value = self._values[key] = self._compute(key)
            return value

    def __contains__(self, key: object) -> bool:
        return key in self._sources

    def __iter__(self) -> Iterator[Key]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)
