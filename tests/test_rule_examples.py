"""Every rule's own examples and documentation snippets, run through the whole engine.

Bad examples must produce exactly the findings their `# expect:` markers name (no more, no less),
with the messages they pin (`messages`) and, for a fixable rule, the code `--fix --unsafe-fixes`
leaves (`fixed`); good examples must produce no finding of their rule and nothing unmarked. The
documented `example` must report its rule and `use_instead` must not, and tests/snapshots/CODE.txt
is what `edgelint check` prints for the `example` (stdout, then the summary on stderr).

After a deliberate change of wording or fixes, `EDGELINT_UPDATE_SNAPSHOTS=1 pytest
tests/test_rule_examples.py` rewrites the snapshots and the `messages=`/`fixed=` of the rule
modules' examples (tests/pinning.py); review the result with `git diff`.
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Optional, Tuple

import pytest

from edgelint.fixes import plan_fixes
from edgelint.rules import ALL_RULES
from edgelint.rules.base import Example
from tests.helpers import expected_markers, found_markers, lint_directory, write_project
from tests.pinning import HOW_TO_UPDATE, UPDATE, check_snapshot, pin_example

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
CASES = [
    pytest.param(rule, kind, index, example, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid))
    for index, example in enumerate(examples)
]


@pytest.mark.parametrize("rule, kind, index, example", CASES)
def test_rule_example(tmp_path, rule, kind, index, example):
    write_project(tmp_path, example.project_files())
    result = lint_directory(tmp_path)
    found = found_markers(tmp_path, result.findings)
    expected = expected_markers(tmp_path)
    assert found == expected, "\n".join(f"{f.path}:{f.line}: {f.code} {f.message}" for f in result.findings)
    own = {marker for marker in expected if marker[2] == rule.code}
    if kind == "valid":
        assert not own, f"valid example of {rule.code} expects {rule.code}"
        assert not example.messages and example.fixed is None, "only invalid examples pin messages and fixes"
        return
    assert own, f"invalid example of {rule.code} has no {rule.code} marker"
    messages, fixed = seen_by_users(tmp_path, rule.code, example, result)
    pinned = None if example.fixed is None else textwrap.dedent(example.fixed)
    if UPDATE and (messages, fixed) != (example.messages, pinned):
        pin_example(rule, index, messages, fixed)
        return
    assert example.messages == messages, f"{rule.code} invalid[{index}]: other messages; {HOW_TO_UPDATE}"
    assert pinned == fixed, f"{rule.code} invalid[{index}]: another fix; {HOW_TO_UPDATE}"


def seen_by_users(root: Path, code: str, example: Example, result) -> Tuple[Tuple[str, ...], Optional[str]]:
    """The messages of `code`'s findings in line order, and `example.path` after all their fixes
    (None when they change nothing)."""
    own = sorted((finding for finding in result.findings if finding.code == code), key=lambda f: f.sort_key)
    texts = {path: source.text for path, source in result.sources.items()}
    planned, refused = plan_fixes(own, texts, unsafe=True)
    assert not refused
    changed = {Path(fix.path).resolve().relative_to(root.resolve()).as_posix(): fix.after for fix in planned}
    assert set(changed) <= {example.path}, f"a fix outside {example.path}: {sorted(changed)}"
    return tuple(finding.message for finding in own), changed.get(example.path)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_documented_example_reports_its_rule_and_use_instead_does_not(tmp_path, rule):
    for kind, snippet in (("example", rule.example), ("use_instead", rule.use_instead)):
        project = tmp_path / kind
        write_project(project, Example(snippet, rule.snippet_files, rule.snippet_path).project_files())
        codes = [finding.code for finding in lint_directory(project).findings]
        assert (rule.code in codes) == (kind == "example"), f"{rule.code}.{kind} reports {codes}"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_text_output_of_the_documented_example(tmp_path, run_cli, rule):
    write_project(tmp_path, Example(rule.example, rule.snippet_files, rule.snippet_path).project_files())
    _, out, err = run_cli("check", "--no-cache", ".", cwd=tmp_path)
    check_snapshot(SNAPSHOTS / f"{rule.code}.txt", out + err)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_has_enough_examples(rule):
    assert len(rule.invalid) >= 5 and len(rule.valid) >= 4
