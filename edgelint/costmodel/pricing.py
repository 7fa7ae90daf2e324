"""Prices and limits: the dated data file in the package, with the configuration's overrides."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Mapping

from edgelint.errors import ConfigError
from edgelint.tomlcompat import load_toml

PRICES_FILE = Path(__file__).with_name("prices.toml")
PLANS = ("paid", "free")
# Line items in the order they are shown, with their unit and product.
ITEMS = {"kv_reads": ("KV", "reads"), "kv_writes": ("KV", "writes"), "kv_deletes": ("KV", "deletes"),
         "kv_lists": ("KV", "lists"), "do_requests": ("Durable Objects", "requests"),
         "do_duration": ("Durable Objects", "duration (GB-s)"),
         "do_rows_read": ("Durable Objects", "storage rows read"),
         "do_rows_written": ("Durable Objects", "storage rows written")}


@dataclass(frozen=True)
class Prices:
    table: Dict[str, Any]
    origin: str  # the data file, and the configuration file that overrode it

    @property
    def date(self) -> str:
        return str(self.table["date"])

    @property
    def month_seconds(self) -> int:
        return int(self.table["month_days"]) * 86_400

    def item(self, plan: str, name: str) -> Mapping[str, float]:
        return self.table[plan].get(name, {})

    def limit(self, name: str) -> float:
        return float(self.table["limits"][name])


def load_prices(overrides: Mapping[str, Any], where: str = "") -> Prices:
    """The packaged prices, with `overrides` (the configuration's `[tool.edgelint.model.prices]`)
    laid over them; a key the data file does not have is an error naming it."""
    table = load_toml(PRICES_FILE.read_text(encoding="utf-8"), str(PRICES_FILE))
    merged = copy.deepcopy(table)
    _overlay(merged, overrides, where, "prices")
    origin = str(PRICES_FILE.name) + (f", overridden in {where}" if overrides else "")
    return Prices(merged, origin)


def _same_type(value: Any, packaged: Any) -> bool:
    """An override of the packaged value's type (any number for a number)."""
    if isinstance(packaged, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(packaged))


def _overlay(target: Dict[str, Any], overrides: Mapping[str, Any], where: str, path: str) -> None:
    if not isinstance(overrides, Mapping):
        raise ConfigError(where, f"'model.{path}' must be a table")
    for key, value in overrides.items():
        if key not in target:
            raise ConfigError(where, f"unknown key 'model.{path}.{key}' (see {PRICES_FILE.name})")
        if isinstance(target[key], dict):
            _overlay(target[key], value, where, f"{path}.{key}")
        elif not _same_type(value, target[key]):
            raise ConfigError(where, f"'model.{path}.{key}' must be a {type(target[key]).__name__}")
        else:
            target[key] = value
