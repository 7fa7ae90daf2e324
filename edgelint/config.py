"""`[tool.edgelint]` settings: found from the linted paths upward, validated strictly."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from edgelint.errors import ConfigError, line_of
from edgelint.model.bindings import CONFIGURABLE_KINDS, BindingKind
from edgelint.model import DEFAULT_ADMIN_WORDS
from edgelint.paths import absolute
from edgelint.tomlcompat import load_toml

CONFIG_FILES = ("edgelint.toml", ".edgelint.toml", "pyproject.toml")
SEVERITIES = ("error", "warning", "info")
CODE_PATTERN = re.compile(r"^(ALL|EDG\d{0,3})$")


@dataclass
class Settings:
    """The settings that govern a file: which rules run, what is excluded, the rules' options."""

    select: List[str] = field(default_factory=lambda: ["EDG"])
    extend_select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    per_file_ignores: Dict[str, List[str]] = field(default_factory=dict)
    exclude: List[str] = field(default_factory=list)
    extend_exclude: List[str] = field(default_factory=list)
    wrangler_config: List[str] = field(default_factory=list)
    bindings: Dict[str, BindingKind] = field(default_factory=dict)
    severity: Dict[str, str] = field(default_factory=dict)
    admin_markers: Tuple[str, ...] = DEFAULT_ADMIN_WORDS
    rules: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    model: Dict[str, Any] = field(default_factory=dict)  # `edgelint model`'s options: checked by edgelint.costmodel
    path: Optional[str] = None  # the file these settings came from
    root: Optional[Path] = None  # its directory: globs and relative paths are resolved from here
    cli_exclude: List[str] = field(default_factory=list)  # --exclude/--extend-exclude: from the current directory

    def is_selected(self, code: str, path: Optional[str] = None) -> bool:
        selected = _longest_match(code, self.select + self.extend_select)
        ignored = _longest_match(code, self.ignore + self._file_ignores(path))
        if selected is None:
            return False
        return ignored is None or len(ignored) < len(selected)

    def _file_ignores(self, path: Optional[str]) -> List[str]:
        if not path or not self.per_file_ignores:
            return []
        from edgelint.discovery import matches_glob

        codes: List[str] = []
        for pattern, pattern_codes in self.per_file_ignores.items():
            if matches_glob(path, pattern, self.root):
                codes.extend(pattern_codes)
        return codes

    def settings_for(self, path: str) -> "Settings":
        """Settings applied alone (`--config`, tests) govern every file: see `Resolver`."""
        return self

    def is_excluded(self, path: str, base: Path) -> bool:
        """Whether discovery skips `path`: the default excludes and `exclude`/`extend-exclude`,
        relative to the config's directory (`base` without one), and the command line's relative to
        the current directory."""
        from edgelint.discovery import DEFAULT_EXCLUDES, is_excluded

        return is_excluded(path, [*DEFAULT_EXCLUDES, *self.exclude, *self.extend_exclude], self.root or base) or \
            bool(self.cli_exclude) and is_excluded(path, self.cli_exclude, Path(os.getcwd()))

    def name_excludes(self) -> Optional[Tuple[FrozenSet[str], Tuple[str, ...]]]:
        """When every exclude pattern matches a single path component (`.venv`, `*.egg-info`: the
        defaults), the exact names and the globs: a file of a directory that is not excluded is
        excluded exactly when its name matches one. None when a pattern holds a `/`."""
        from edgelint.discovery import DEFAULT_EXCLUDES, component_patterns

        return component_patterns((*DEFAULT_EXCLUDES, *self.exclude, *self.extend_exclude, *self.cli_exclude))

    def fingerprint(self) -> str:
        return repr((self.select, self.extend_select, self.ignore, sorted(self.per_file_ignores.items()),
                     sorted((k, v.value) for k, v in self.bindings.items()), sorted(self.severity.items()),
                     self.admin_markers, sorted((k, sorted(v.items())) for k, v in self.rules.items()),
                     self.wrangler_config))


def _longest_match(code: str, prefixes: Sequence[str]) -> Optional[str]:
    best: Optional[str] = None
    for prefix in prefixes:
        normal = "EDG" if prefix == "ALL" else prefix
        if code.startswith(normal) and (best is None or len(normal) > len(best)):
            best = normal
    return best


def find_config(start: Path) -> Optional[Tuple[Path, Dict[str, Any]]]:
    """The nearest config file above `start` that configures edgelint, with its table."""
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for folder in [directory, *directory.parents]:
        for name in CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            table = read_table(candidate)
            if table is not None:
                return candidate, table
    return None


def read_table(path: Path) -> Optional[Dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read config: {exc}") from None
    data = load_toml(text, str(path))
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("edgelint") if isinstance(tool, dict) else None
        return table if isinstance(table, dict) else None
    tool = data.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get("edgelint"), dict):
        return tool["edgelint"]
    return data


def load_settings(start: Path, known_codes: Sequence[str], rule_options: Mapping[str, Mapping[str, type]]) -> Settings:
    found = find_config(start)
    if found is None:
        return Settings()
    path, table = found
    return parse_settings(table, str(path), known_codes, rule_options)


class Resolver:
    """The settings that govern each file: those of the nearest configuration file above it, as
    ruff finds them, with the command line's `overrides` (Settings attributes) applied. One
    object per configuration file, looked up once per directory."""

    def __init__(self, known_codes: Sequence[str], rule_options: Mapping[str, Mapping[str, type]],
                 overrides: Optional[Mapping[str, Any]] = None):
        self.known_codes = known_codes
        self.rule_options = rule_options
        self.overrides = dict(overrides or {})
        self.probed: Set[str] = set()  # every candidate config path looked at (what a memo depends on)
        self._by_directory: Dict[str, Settings] = {}
        self._by_file: Dict[Optional[str], Settings] = {}

    def settings_for(self, path: str) -> Settings:
        """The settings of the file `path` (which need not exist): those of its directory."""
        return self.directory_settings(os.path.dirname(absolute(path)))

    def directory_settings(self, directory: str) -> Settings:
        found = self._by_directory.get(directory)
        if found is None:
            found = self._by_directory[directory] = self._lookup(directory)
        return found

    def _lookup(self, directory: str) -> Settings:
        for name in CONFIG_FILES:
            candidate = os.path.join(directory, name)
            self.probed.add(candidate)
            if os.path.isfile(candidate):
                table = read_table(Path(candidate))
                if table is not None:
                    return self._parsed(candidate, table)
        parent = os.path.dirname(directory)
        return self.directory_settings(parent) if parent != directory else self._parsed(None, {})

    def _parsed(self, path: Optional[str], table: Mapping[str, Any]) -> Settings:
        if path not in self._by_file:
            settings = parse_settings(table, path, self.known_codes, self.rule_options) if path else Settings()
            self._by_file[path] = dataclasses.replace(settings, **self.overrides)
        return self._by_file[path]


_LIST_KEYS = ("select", "extend-select", "ignore", "exclude", "extend-exclude", "admin-markers")


def parse_settings(table: Mapping[str, Any], path: str, known_codes: Sequence[str],
                   rule_options: Mapping[str, Mapping[str, type]]) -> Settings:
    text = _safe_text(path)
    settings = Settings(path=path, root=Path(path).parent)
    for key, value in table.items():
        where = f"{path}:{line_of(text, key, _EDGELINT_TABLE)}"
        if key in _LIST_KEYS:
            items = _string_list(value, where, key)
            if key in ("select", "extend-select", "ignore"):
                check_codes(items, where, key, known_codes)
            if key == "admin-markers":
                settings.admin_markers = tuple(word.lower() for word in items)
            else:
                setattr(settings, key.replace("-", "_"), items)
        elif key == "wrangler-config":
            items = [value] if isinstance(value, str) else _string_list(value, where, key)
            settings.wrangler_config = _existing_files(items, Path(path).parent, where, key)
        elif key == "per-file-ignores":
            settings.per_file_ignores = _per_file_ignores(value, where, known_codes)
        elif key == "bindings":
            settings.bindings = _bindings(value, where)
        elif key == "severity":
            settings.severity = _severities(value, where, known_codes)
        elif key == "rules":
            settings.rules = _rules(value, where, known_codes, rule_options)
        elif key == "model":
            if not isinstance(value, dict):
                raise ConfigError(where, "'model' must be a table")
            settings.model = value
        else:
            raise ConfigError(where, f"unknown key '{key}' in [tool.edgelint]")
    return settings


def _safe_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


# Where edgelint's table starts: another tool's table may use the same key above it.
_EDGELINT_TABLE = re.compile(r"^\s*\[\s*tool\.edgelint\b", re.M)


def _string_list(value: Any, where: str, key: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(where, f"'{key}' must be a list of strings")
    return list(value)


def _existing_files(items: Sequence[str], base: Path, where: str, key: str) -> List[str]:
    """Paths relative to the config file; a missing one is the config's error, named here."""
    missing = [item for item in items if not (base / item).is_file()]
    if missing:
        raise ConfigError(where, f"'{key}' file not found: {missing[0]}")
    return [str(base / item) for item in items]


def check_codes(codes: Sequence[str], where: str, key: str, known_codes: Sequence[str]) -> None:
    for code in codes:
        if not CODE_PATTERN.match(code) or (code != "ALL" and not any(k.startswith(code) for k in known_codes)):
            raise ConfigError(where, f"unknown rule code '{code}' in '{key}'")


def _per_file_ignores(value: Any, where: str, known_codes: Sequence[str]) -> Dict[str, List[str]]:
    if not isinstance(value, dict):
        raise ConfigError(where, "'per-file-ignores' must be a table of glob = [codes]")
    result = {}
    for pattern, codes in value.items():
        items = _string_list(codes, where, f"per-file-ignores.{pattern}")
        check_codes(items, where, f"per-file-ignores.{pattern}", known_codes)
        result[pattern] = items
    return result


def _bindings(value: Any, where: str) -> Dict[str, BindingKind]:
    if not isinstance(value, dict):
        raise ConfigError(where, "'bindings' must be a table of NAME = kind")
    result = {}
    for name, kind in value.items():
        parsed = BindingKind.parse(kind) if isinstance(kind, str) else None
        if parsed is None or parsed is BindingKind.VAR:
            raise ConfigError(where, f"binding '{name}' has unknown kind {kind!r} (one of {', '.join(CONFIGURABLE_KINDS)})")
        result[name] = parsed
    return result


def _severities(value: Any, where: str, known_codes: Sequence[str]) -> Dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(where, "'severity' must be a table of CODE = level")
    for code, level in value.items():
        if code not in known_codes:
            raise ConfigError(where, f"unknown rule code '{code}' in 'severity'")
        if level not in SEVERITIES:
            raise ConfigError(where, f"severity of {code} must be one of {', '.join(SEVERITIES)}, not {level!r}")
    return dict(value)


def _rules(value: Any, where: str, known_codes: Sequence[str],
           rule_options: Mapping[str, Mapping[str, type]]) -> Dict[str, Dict[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigError(where, "'rules' must be a table of [tool.edgelint.rules.CODE] tables")
    result: Dict[str, Dict[str, Any]] = {}
    for code, options in value.items():
        if code not in known_codes:
            raise ConfigError(where, f"unknown rule code '{code}' in 'rules'")
        if not isinstance(options, dict):
            raise ConfigError(where, f"'rules.{code}' must be a table")
        accepted = rule_options.get(code, {})
        for option, option_value in options.items():
            if option not in accepted:
                raise ConfigError(where, f"unknown option '{option}' for {code}")
            expected = accepted[option]
            if not isinstance(option_value, expected) or (expected is list and not all(isinstance(i, str) for i in option_value)):
                raise ConfigError(where, f"option '{option}' of {code} must be a {expected.__name__} of strings")
        result[code] = dict(options)
    return result
