"""Fingerprints that identify a finding across unrelated edits (lines moving up or down).

Used by SARIF `partialFingerprints` and by `--baseline`. A fingerprint hashes the rule code, the
file path, the reported source line with whitespace normalized, and the finding's index among
findings with the same three values in that file, but not its line number.
"""
from __future__ import annotations

import hashlib
import os
from collections import Counter
from pathlib import PurePath
from typing import Dict, List, Sequence, Tuple

from edgelint.findings import Finding

VERSION = "edgelint/v1"


def normalized_path(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return PurePath(os.path.normpath(relative)).as_posix()


def fingerprints(findings: Sequence[Finding]) -> Dict[int, str]:
    """id(finding) -> fingerprint, for all findings of one run."""
    ordered = sorted(findings, key=lambda f: f.sort_key)
    seen: Counter = Counter()
    result: Dict[int, str] = {}
    for finding in ordered:
        identity: Tuple[str, str, str] = (finding.code, normalized_path(finding.path), " ".join(finding.context.split()))
        occurrence = seen[identity]
        seen[identity] += 1
        text = "\0".join((VERSION, *identity, str(occurrence)))
        digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()  # any file name
        result[id(finding)] = digest[:32]
    return result


def fingerprint_list(findings: Sequence[Finding]) -> List[str]:
    table = fingerprints(findings)
    return [table[id(f)] for f in findings]
