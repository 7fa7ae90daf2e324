"""Binding kinds and the table that maps `env` attribute names to them."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional


class BindingKind(str, enum.Enum):
    KV = "kv"
    DURABLE_OBJECT = "durable_object"
    R2 = "r2"
    D1 = "d1"
    QUEUE = "queue"
    SERVICE = "service"
    RATELIMIT = "ratelimit"
    VAR = "var"
    OTHER = "other"

    @classmethod
    def parse(cls, text: str) -> Optional["BindingKind"]:
        aliases = {"do": cls.DURABLE_OBJECT, "durable-object": cls.DURABLE_OBJECT, "durable_objects": cls.DURABLE_OBJECT}
        if text in aliases:
            return aliases[text]
        try:
            return cls(text)
        except ValueError:
            return None


# Names accepted in `[tool.edgelint.bindings]` (documented in the README).
CONFIGURABLE_KINDS = ("kv", "durable_object", "r2", "d1", "queue", "service", "ratelimit", "other")


@dataclass(frozen=True)
class Binding:
    name: str
    kind: BindingKind
    class_name: Optional[str] = None  # Durable Object class behind a DO namespace
    source: str = ""  # file that declared it, for messages


@dataclass
class BindingTable:
    """Declared bindings of one project: wrangler config(s) overlaid by `[tool.edgelint.bindings]`."""

    bindings: Dict[str, Binding] = field(default_factory=dict)
    has_wrangler: bool = False

    def declare(self, binding: Binding) -> None:
        existing = self.bindings.get(binding.name)
        # An explicit override (source "config") always wins; otherwise the first declaration stays.
        if existing is None or binding.source == "config" or (existing.class_name is None and binding.class_name):
            self.bindings[binding.name] = binding

    def get(self, name: str) -> Optional[Binding]:
        return self.bindings.get(name)

    def overlay(self, overrides: Mapping[str, BindingKind]) -> "BindingTable":
        merged = BindingTable(dict(self.bindings), self.has_wrangler)
        for name, kind in overrides.items():
            previous = merged.bindings.get(name)
            merged.bindings[name] = Binding(name, kind, previous.class_name if previous else None, "config")
        return merged

    def fingerprint(self) -> str:
        """Stable text identifying the table, for cache keys."""
        parts = sorted(f"{b.name}={b.kind.value}:{b.class_name or ''}" for b in self.bindings.values())
        return f"{self.has_wrangler}|" + ",".join(parts)
