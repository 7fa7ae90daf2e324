"""`--write-baseline` / `--baseline`: adopt edgelint on a code base without fixing everything first.

A baseline records the fingerprints of the current findings; later runs report only findings whose
fingerprint is not recorded. Fingerprints ignore line numbers (see fingerprints.py), so code that
moves does not resurface. Paths are taken relative to the baseline file's directory, so the same
baseline works whatever directory edgelint is run from.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Sequence, Set

from edgelint.atomic import write_atomic
from edgelint.errors import ConfigError
from edgelint.findings import Finding
from edgelint.fingerprints import fingerprint_list, normalized_path

VERSION = 1


def write_baseline(path: str, findings: Sequence[Finding]) -> None:
    """Record `findings` in the baseline file `path` (replaced atomically)."""
    anchored = sorted(_anchored(path, findings), key=lambda f: f.sort_key)
    entries = [{"fingerprint": fingerprint, "code": f.code, "path": normalized_path(f.path), "message": f.message}
               for f, fingerprint in zip(anchored, fingerprint_list(anchored))]
    document = {"version": VERSION, "tool": "edgelint", "entries": entries}
    try:
        write_atomic(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ConfigError(path, f"cannot write baseline: {exc.strerror or exc}") from None


def new_findings(path: str, findings: Sequence[Finding]) -> List[Finding]:
    """The findings not recorded in the baseline file `path` (raises ConfigError if it is unusable)."""
    known = load_baseline(path)
    # _anchored keeps the order, so the i-th fingerprint belongs to the i-th finding.
    prints = fingerprint_list(_anchored(path, findings))
    return [finding for finding, fingerprint in zip(findings, prints) if fingerprint not in known]


def load_baseline(path: str) -> Set[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise ConfigError(path, f"cannot read baseline: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"baseline is not valid JSON: {exc}") from None
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(document, dict) or document.get("version") != VERSION or not isinstance(entries, list):
        raise ConfigError(path, f"not an edgelint baseline (expected an object with version {VERSION} and entries)")
    if not all(isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str) for entry in entries):
        raise ConfigError(path, "baseline entries must be objects with a string 'fingerprint'")
    return {entry["fingerprint"] for entry in entries}


def _anchored(baseline: str, findings: Sequence[Finding]) -> List[Finding]:
    """Copies of `findings` whose paths are relative to the baseline's directory, in the same order."""
    base = os.path.dirname(os.path.abspath(baseline))
    relative: Dict[str, str] = {}
    copies = []
    for finding in findings:
        if finding.path not in relative:
            relative[finding.path] = os.path.relpath(os.path.abspath(finding.path), base)
        copies.append(dataclasses.replace(finding, path=relative[finding.path]))
    return copies
