"""Every rule's own bad/good examples, run through the whole engine.

Bad examples must produce exactly the findings their `# expect:` markers name (no more, no less);
good examples must produce no finding of their rule and nothing unmarked.
"""
from __future__ import annotations

import pytest

from edgelint.rules import ALL_RULES
from tests.helpers import expected_markers, found_markers, lint_directory, write_project

CASES = [
    pytest.param(rule, kind, example, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid))
    for index, example in enumerate(examples)
]


@pytest.mark.parametrize("rule, kind, example", CASES)
def test_rule_example(tmp_path, rule, kind, example):
    write_project(tmp_path, example.project_files())
    result = lint_directory(tmp_path)
    found = found_markers(tmp_path, result.findings)
    expected = expected_markers(tmp_path)
    assert found == expected, "\n".join(f"{f.path}:{f.line}: {f.code} {f.message}" for f in result.findings)
    own = {marker for marker in expected if marker[2] == rule.code}
    if kind == "invalid":
        assert own, f"invalid example of {rule.code} has no {rule.code} marker"
    else:
        assert not own, f"valid example of {rule.code} expects {rule.code}"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_has_enough_examples(rule):
    assert len(rule.invalid) >= 5 and len(rule.valid) >= 4
