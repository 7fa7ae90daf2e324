"""Read wrangler.toml / wrangler.jsonc / wrangler.json: what each environment declares under the
binding sections of model.bindings.SECTIONS, and which files `main` names. A section of the wrong
shape is a configuration error."""
from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from edgelint.errors import ConfigError, line_of
from edgelint.model.bindings import (
    ARRAY,
    NAMES,
    SECTIONS,
    Binding,
    BindingKind,
    BindingTable,
    Environment,
    Section,
    WranglerConfig,
    deployed_environments,
)
from edgelint.tomlcompat import load_toml

WRANGLER_FILES = ("wrangler.toml", "wrangler.jsonc", "wrangler.json")


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
    table = BindingTable()
    configs = []
    for path in paths:
        config, bindings = _load(Path(path))
        configs.append(config)
        for binding in bindings:
            table.declare(binding)
    table.configs = tuple(configs)
    return table


def forget_configs() -> None:
    """Look for wrangler configs and read them afresh: a long-running process (the language
    server) calls this when one changes."""
    _find_in_parents.cache_clear()
    load_bindings.cache_clear()


def _load(path: Path) -> Tuple[WranglerConfig, List[Binding]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read wrangler config: {exc}") from None
    reader = _Reader(path, text)
    bindings: List[Binding] = []
    environments: List[Environment] = []
    mains: List[str] = []
    for name, settings in reader.environments(_parse(path, text)):
        declared = list(reader.bindings(name, settings))
        bindings.extend(declared)
        environments.append(Environment(name, frozenset(binding.name for binding in declared),
                                        any(binding.kind is not BindingKind.VAR for binding in declared)))
        main = reader.main(name, settings)
        if main is not None:
            mains.append(main)
    config = WranglerConfig(str(path), tuple(dict.fromkeys(mains)), deployed_environments(environments[0], environments[1:]))
    return config, bindings


def _parse(path: Path, text: str) -> Dict[str, Any]:
    if path.suffix == ".toml":
        return load_toml(text, str(path))
    try:
        data = _load_jsonc(text)
    except ValueError as exc:
        raise ConfigError(str(path), f"invalid JSONC: {str(exc).replace('<string>', 'line')}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "wrangler config must be an object")
    return data


def _load_jsonc(text: str) -> Any:
    """JSONC (JSON with comments and trailing commas: wrangler's format) read by json5 when it is
    installed, else by `json` once `jsonc_as_json` has blanked what JSON lacks: a Python that has
    edgelint's source but not all its dependencies (a checkout run with another interpreter) still
    reads the config. json5 is imported only here: most runs find a wrangler.toml or nothing."""
    try:
        import json5
    except ImportError:
        import json

        return json.loads(jsonc_as_json(text))
    return json5.loads(text)


def jsonc_as_json(text: str) -> str:
    """`text` with its comments and trailing commas replaced by spaces (line breaks kept), so that
    the lines and columns of an error are those of the file."""
    out = list(text)
    for start, end in _outside_strings(text, r"//[^\n]*|/\*(?:.|\n)*?(?:\*/|$)"):
        out[start:end] = [char if char == "\n" else " " for char in text[start:end]]
    blanked = "".join(out)
    for start, _ in _outside_strings(blanked, r",(?=\s*[\]}])"):
        out[start] = " "
    return "".join(out)


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _outside_strings(text: str, pattern: str) -> Iterator[Tuple[int, int]]:
    """The spans of `pattern` in `text` that are not inside a JSON string."""
    for match in re.finditer(rf"{_JSON_STRING.pattern}|(?P<found>{pattern})", text):
        if match.group("found") is not None:
            yield match.span()


class _Reader:
    """Reads one config's environments and sections, naming the key and its line when one has the
    wrong shape (an object where wrangler wants an array, a binding without a string name)."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.text = text
        self.table, self.tables = ("a table", "tables") if path.suffix == ".toml" else ("an object", "objects")

    def environments(self, data: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
        """("", the top level), then each `[env.X]`."""
        yield "", data
        named = data.get("env", {})
        if not isinstance(named, dict) or not all(isinstance(settings, dict) for settings in named.values()):
            raise self.error("", "env", f"{self.table} of environments, each {self.table}")
        yield from named.items()

    def main(self, environment: str, settings: Dict[str, Any]) -> Optional[str]:
        main = settings.get("main")
        if main is not None and not isinstance(main, str):
            raise self.error(environment, "main", "a string")
        return os.path.normpath(os.path.join(self.path.parent, main)) if main else None

    def bindings(self, environment: str, settings: Dict[str, Any]) -> Iterator[Binding]:
        for section in SECTIONS:
            value = self._lookup(environment, settings, section.key)
            if value is not None:
                yield from self._section(environment, section, value)

    def _lookup(self, environment: str, settings: Dict[str, Any], key: str) -> Any:
        """The value at a dotted key (`durable_objects.bindings`), None when it is absent."""
        parts = key.split(".")
        value: Any = settings
        for depth, part in enumerate(parts):
            if value is None:
                return None
            if not isinstance(value, dict):
                raise self.error(environment, ".".join(parts[:depth]), self.table)
            value = value.get(part)
        return value

    def _section(self, environment: str, section: Section, value: Any) -> Iterable[Binding]:
        source = str(self.path)
        if section.shape == NAMES:
            if not isinstance(value, dict):
                raise self.error(environment, section.key, f"{self.table} of names")
            return [Binding(name, section.kind, None, source) for name in value]
        entries = value if section.shape == ARRAY else [value]
        if (section.shape == ARRAY and not isinstance(value, list)) or not all(
                isinstance(entry, dict) and _names_binding(entry, section) for entry in entries):
            wanted = f"an array of {self.tables}" if section.shape == ARRAY else self.table
            name = f'with a string "{section.field}"' if section.required else f'whose "{section.field}", if any, is a string'
            raise self.error(environment, section.key, f"{wanted} {name}")
        return [Binding(entry[section.field], section.kind, _class_name(section, entry), source)
                for entry in entries if section.field in entry]

    def error(self, environment: str, key: str, expected: str) -> ConfigError:
        # Searched from the environment's own table: `[env.staging]`, `[[env.staging.kv_namespaces]]`, `"staging": {`.
        start = re.compile(rf'^\s*\[+\s*"?env"?\s*\.\s*"?{re.escape(environment)}\b|"{re.escape(environment)}"\s*:',
                           re.M) if environment else None
        label = f"env.{environment}.{key}" if environment else key
        return ConfigError(f"{self.path}:{line_of(self.text, key.split('.')[0], start)}", f"{label}: expected {expected}")


def _names_binding(entry: Dict[str, Any], section: Section) -> bool:
    return isinstance(entry.get(section.field), str) or (not section.required and section.field not in entry)


def _class_name(section: Section, entry: Dict[str, Any]) -> Optional[str]:
    """The Durable Object class behind a namespace, when it lives in this Worker (no `script_name`)."""
    if section.kind is not BindingKind.DURABLE_OBJECT or entry.get("script_name"):
        return None
    class_name = entry.get("class_name")
    return class_name if isinstance(class_name, str) else None
