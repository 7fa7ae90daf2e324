"""SARIF 2.1.0 for code scanning (GitHub, Azure DevOps, IDE viewers).

The driver lists every rule whether or not it fired, so viewers can show rule help for any result,
plus the two engine codes (syntax and internal errors), which are results like any other here so
that an unparsable file shows up in code scanning instead of silently being skipped. Files that
could not be read at all are the invocation's notifications.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Sequence
from urllib.parse import quote

from edgelint import __version__
from edgelint.findings import Edit, Finding, Fix, RelatedLocation
from edgelint.fingerprints import VERSION as FINGERPRINT_KEY
from edgelint.fingerprints import fingerprints, normalized_path
from edgelint.rules import ALL_RULES, ENGINE_RULES, Documented

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/edgelint/edgelint"
SOURCE_ROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}

Json = Dict[str, Any]


def render(findings: Sequence[Finding], notifications: Sequence[str] = ()) -> str:
    """The log of one run; `notifications` are its problems that are not findings ("PATH: PROBLEM":
    a file that cannot be read, a configuration error), which make the execution unsuccessful."""
    rules = _rules()
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    prints = fingerprints(findings)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "edgelint", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            # Engine columns count characters, not the UTF-16 units SARIF consumers may assume.
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, index[f.code], prints[id(f)]) for f in findings],
            "invocations": [{"executionSuccessful": not notifications,
                             "toolExecutionNotifications": [_notification(text) for text in notifications]}],
        }],
    }
    return json.dumps(log, indent=2) + "\n"


def _notification(text: str) -> Json:
    """A problem "PATH: PROBLEM" (a configuration error's PATH is "FILE:LINE")."""
    path, _, problem = text.partition(": ")
    at_line = re.fullmatch(r"(.+):(\d+)", path)
    location: Json = {"artifactLocation": _artifact(at_line[1] if at_line else path)}
    if at_line:
        location["region"] = {"startLine": int(at_line[2])}
    return {"level": "error", "message": {"text": problem or path}, "locations": [{"physicalLocation": location}]}


def _rules() -> List[Json]:
    return [_descriptor(rule) for rule in [*ALL_RULES, *ENGINE_RULES]]


def _descriptor(rule: Documented) -> Json:
    help_text = rule.documentation()
    descriptor: Json = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _plain(rule.what)},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
    }
    if rule.url():
        descriptor["helpUri"] = rule.url()
    return descriptor


def _plain(text: str) -> str:
    """Unwrap the hard-wrapped, indented paragraphs of a rule doc: SARIF viewers show text verbatim."""
    return "\n\n".join(" ".join(part.split()) for part in re.split(r"\n\s*\n", text) if part.strip())


def _result(finding: Finding, rule_index: int, fingerprint: str) -> Json:
    result: Json = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": _artifact(finding.path),
            "region": _region(finding.line, finding.column, finding.end_line, finding.end_column),
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.fix is not None:
        result["fixes"] = [_fix(finding.path, finding.fix)]
    if finding.related:
        result["relatedLocations"] = [_related(index, place) for index, place in enumerate(finding.related, 1)]
    return result


def _related(index: int, place: RelatedLocation) -> Json:
    return {
        "id": index,
        "message": {"text": place.message},
        "physicalLocation": {
            "artifactLocation": _artifact(place.path),
            "region": _region(place.line, place.column, place.end_line, place.end_column),
        },
    }


def _artifact(path: str) -> Json:
    # Percent-encode so that names with '%', ':' or spaces stay one relative URI reference.
    return {"uri": quote(normalized_path(path), safe="/", errors="surrogateescape"), "uriBaseId": SOURCE_ROOT}


def _region(line: int, column: int, end_line: int, end_column: int) -> Json:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _fix(path: str, fix: Fix) -> Json:
    return {
        "description": {"text": fix.message},
        "artifactChanges": [{"artifactLocation": _artifact(path), "replacements": [_replacement(e) for e in fix.edits]}],
        "properties": {"applicability": fix.applicability},
    }


def _replacement(edit: Edit) -> Json:
    return {
        "deletedRegion": _region(edit.line, edit.column, edit.end_line, edit.end_column),
        "insertedContent": {"text": edit.content},
    }
