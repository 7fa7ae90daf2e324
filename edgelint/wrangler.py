"""Read bindings from wrangler.toml / wrangler.jsonc / wrangler.json, every `[env.X]` included."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from edgelint.errors import ConfigError
from edgelint.model.bindings import Binding, BindingKind, BindingTable
from edgelint.tomlcompat import load_toml

WRANGLER_FILES = ("wrangler.toml", "wrangler.jsonc", "wrangler.json")

# wrangler section -> (kind, key holding the env attribute name)
_SECTIONS = {
    "kv_namespaces": (BindingKind.KV, "binding"),
    "r2_buckets": (BindingKind.R2, "binding"),
    "d1_databases": (BindingKind.D1, "binding"),
    "services": (BindingKind.SERVICE, "binding"),
    "ratelimits": (BindingKind.RATELIMIT, "name"),
    "unsafe_bindings": (BindingKind.OTHER, "name"),
    "analytics_engine_datasets": (BindingKind.OTHER, "binding"),
    "vectorize": (BindingKind.OTHER, "binding"),
    "hyperdrive": (BindingKind.OTHER, "binding"),
    "workflows": (BindingKind.OTHER, "binding"),
    "send_email": (BindingKind.OTHER, "name"),
    "mtls_certificates": (BindingKind.OTHER, "binding"),
    "dispatch_namespaces": (BindingKind.OTHER, "binding"),
}


def find_wrangler_config(start: Path) -> Optional[Path]:
    """The nearest wrangler config in `start` or one of its parents."""
    return _find_in_parents(start.resolve())


@functools.lru_cache(maxsize=None)
def _find_in_parents(directory: Path) -> Optional[Path]:
    for name in WRANGLER_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    if directory.parent == directory:
        return None
    return _find_in_parents(directory.parent)


@functools.lru_cache(maxsize=None)
def load_bindings(paths: tuple) -> BindingTable:
    """Parse the given wrangler config files into one binding table (raises ConfigError)."""
    table = BindingTable(has_wrangler=bool(paths))
    for path in paths:
        for binding in _bindings_of(Path(path), _parse(Path(path))):
            table.declare(binding)
    return table


def _parse(path: Path) -> Dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read wrangler config: {exc}") from None
    if path.suffix == ".toml":
        return load_toml(text, str(path))
    import json5  # imported lazily: most runs find a wrangler.toml or nothing

    try:
        data = json5.loads(text)
    except ValueError as exc:
        raise ConfigError(str(path), f"invalid JSONC: {str(exc).replace('<string>', 'line')}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "wrangler config must be an object")
    return data


def _bindings_of(path: Path, data: Dict[str, Any]) -> Iterable[Binding]:
    sections: List[Dict[str, Any]] = [data]
    environments = data.get("env")
    if isinstance(environments, dict):
        sections.extend(env for env in environments.values() if isinstance(env, dict))
    for section in sections:
        yield from _section_bindings(path, section)


def _section_bindings(path: Path, section: Dict[str, Any]) -> Iterable[Binding]:
    source = str(path)
    for key, (kind, name_key) in _SECTIONS.items():
        for entry in _entries(section.get(key)):
            name = entry.get(name_key)
            if isinstance(name, str):
                yield Binding(name, kind, None, source)
    durable = section.get("durable_objects")
    if isinstance(durable, dict):
        for entry in _entries(durable.get("bindings")):
            name = entry.get("name")
            if isinstance(name, str):
                class_name = entry.get("class_name") if not entry.get("script_name") else None
                yield Binding(name, BindingKind.DURABLE_OBJECT, class_name, source)
    for key in ("vars", "secrets"):
        names = section.get(key)
        if isinstance(names, dict):
            for name in names:
                yield Binding(name, BindingKind.VAR, None, source)
    for key, kind in (("queues", BindingKind.QUEUE),):
        queues = section.get(key)
        if isinstance(queues, dict):
            for entry in _entries(queues.get("producers")):
                if isinstance(entry.get("binding"), str):
                    yield Binding(entry["binding"], kind, None, source)
    for key in ("ai", "browser", "images", "version_metadata", "assets"):
        block = section.get(key)
        if isinstance(block, dict) and isinstance(block.get("binding"), str):
            yield Binding(block["binding"], BindingKind.OTHER, None, source)


def _entries(value: Any) -> List[Dict[str, Any]]:
    if isinstance(value, list):
        return [entry for entry in value if isinstance(entry, dict)]
    return []
