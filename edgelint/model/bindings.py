"""Binding kinds, the wrangler sections that declare them, and the table that maps `env` attribute
names to them (per wrangler config and environment)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple


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

# How a section holds its bindings (wrangler's configuration schema).
ARRAY = "array"  # an array of tables, each naming one binding
SINGLETON = "singleton"  # one table naming one binding (`ai = { binding = "AI" }`)
NAMES = "names"  # a table whose keys are the names (`[vars]`)


@dataclass(frozen=True)
class Section:
    """A wrangler configuration key that declares bindings."""

    key: str  # dotted: `durable_objects.bindings` is the `bindings` array of the `durable_objects` table
    kind: BindingKind
    shape: str = ARRAY
    field: str = "binding"  # what names the binding in each table ("" for NAMES)
    required: bool = True  # `assets` may have no binding


# Every section that declares a binding, and only those: a name declared under any of them is
# never "not declared". Not inherited by `[env.X]` (wrangler's non-inheritable keys).
SECTIONS: Tuple[Section, ...] = (
    Section("kv_namespaces", BindingKind.KV),
    Section("durable_objects.bindings", BindingKind.DURABLE_OBJECT, field="name"),
    Section("r2_buckets", BindingKind.R2),
    Section("d1_databases", BindingKind.D1),
    Section("queues.producers", BindingKind.QUEUE),
    Section("services", BindingKind.SERVICE),
    Section("ratelimits", BindingKind.RATELIMIT, field="name"),
    Section("vars", BindingKind.VAR, NAMES, ""),
    Section("analytics_engine_datasets", BindingKind.OTHER),
    Section("vectorize", BindingKind.OTHER),
    Section("hyperdrive", BindingKind.OTHER),
    Section("workflows", BindingKind.OTHER),
    Section("secrets_store_secrets", BindingKind.OTHER),
    Section("pipelines", BindingKind.OTHER),
    Section("dispatch_namespaces", BindingKind.OTHER),
    Section("mtls_certificates", BindingKind.OTHER),
    Section("send_email", BindingKind.OTHER, field="name"),
    Section("unsafe.bindings", BindingKind.OTHER, field="name"),
    Section("ai", BindingKind.OTHER, SINGLETON),
    Section("browser", BindingKind.OTHER, SINGLETON),
    Section("images", BindingKind.OTHER, SINGLETON),
    Section("version_metadata", BindingKind.OTHER, SINGLETON),
    Section("assets", BindingKind.OTHER, SINGLETON, required=False),
)


@dataclass(frozen=True)
class Binding:
    """A binding the Worker's configuration declares: its name (`env.NAME`) and its kind."""

    name: str
    kind: BindingKind
    class_name: Optional[str] = None  # Durable Object class behind a DO namespace
    source: str = ""  # file that declared it, for messages


@dataclass(frozen=True)
class Environment:
    """One deployment a wrangler config describes: its top level (name "") or an `[env.X]`."""

    name: str
    declared: FrozenSet[str]  # the binding names it declares, vars included
    resources: bool  # it declares a binding other than a var

    @property
    def label(self) -> str:
        return f"[env.{self.name}]" if self.name else "the top level"


@dataclass(frozen=True)
class WranglerConfig:
    """What one wrangler config file deploys: the Python files reached from `mains`, with the
    bindings each of its environments declares."""

    path: str
    mains: Tuple[str, ...]  # absolute paths of `main` (top level and environments); () when it has none
    environments: Tuple[Environment, ...]  # the deployed ones, see `deployed_environments`

    def lacking(self, name: str) -> List[Environment]:
        """The deployed environments that do not declare `name`."""
        return [environment for environment in self.environments if name not in environment.declared]


def deployed_environments(top: Environment, named: List[Environment]) -> Tuple[Environment, ...]:
    """Every `[env.X]`, and the top level unless it declares no binding (vars aside) while named
    environments do: such a config is deployed only with `--env` (spec/rules.md, EDG302)."""
    if not top.resources and any(environment.resources for environment in named):
        return tuple(named)
    return (top, *named)


@dataclass
class BindingTable:
    """Declared bindings of one project: wrangler config(s) overlaid by `[tool.edgelint.bindings]`."""

    bindings: Dict[str, Binding] = field(default_factory=dict)
    configs: Tuple[WranglerConfig, ...] = ()

    def declare(self, binding: Binding) -> None:
        existing = self.bindings.get(binding.name)
        # An explicit override (source "config") always wins; otherwise the first declaration stays.
        if existing is None or binding.source == "config" or (existing.class_name is None and binding.class_name):
            self.bindings[binding.name] = binding

    def get(self, name: str) -> Optional[Binding]:
        return self.bindings.get(name)

    def lacked_somewhere(self, name: str) -> bool:
        """Whether a deployed environment of some config lacks `name` (declared in another, or an override)."""
        declared = self.bindings.get(name)
        return declared is not None and declared.source != "config" and any(config.lacking(name) for config in self.configs)

    def overlay(self, overrides: Mapping[str, BindingKind]) -> "BindingTable":
        merged = BindingTable(dict(self.bindings), self.configs)
        for name, kind in overrides.items():
            previous = merged.bindings.get(name)
            merged.bindings[name] = Binding(name, kind, previous.class_name if previous else None, "config")
        return merged

    def fingerprint(self) -> str:
        """Stable text identifying the table, for cache keys."""
        parts = sorted(f"{b.name}={b.kind.value}:{b.class_name or ''}" for b in self.bindings.values())
        configs = [(config.path, config.mains, [(env.name, sorted(env.declared)) for env in config.environments])
                   for config in self.configs]
        return f"{configs!r}|" + ",".join(parts)
