"""The labeled example Workers (fixtures/examples, see its README): edgelint reports every
`# expect:` line, may report a `# maybe:` line, and reports nothing else.

Examples edgelint does not agree with yet are strict xfails named with what is missing, so the
list shrinks as the analysis learns and a newly passing example fails until it is taken off.
"""
from __future__ import annotations

import re

import pytest

from tests.helpers import FIXTURES, expected_markers, found_markers, lint_directory

EXAMPLES = FIXTURES / "examples"
MAYBE = re.compile(r"#\s*maybe:\s*((?:EDG\d{3}[,\s]*)+)")

# Examples edgelint does not agree with yet -> why (run as strict xfails, so agreeing is noticed).
NOT_YET: dict = {}


def maybe_markers(root):
    found = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = MAYBE.search(line)
            if match:
                found.update((relative, number, code) for code in re.findall(r"EDG\d{3}", match.group(1)))
    return found


def _cases():
    for example in sorted(path for path in EXAMPLES.iterdir() if path.is_dir()):
        marks = [pytest.mark.xfail(reason=NOT_YET[example.name], strict=True)] if example.name in NOT_YET else []
        yield pytest.param(example, id=example.name, marks=marks)


@pytest.mark.parametrize("example", list(_cases()))
def test_labeled_example_agrees_with_its_labels(example):
    result = lint_directory(example)
    found = found_markers(example, result.findings)
    expected = expected_markers(example)
    missing, unexpected = expected - found, found - expected - maybe_markers(example)
    assert not missing and not unexpected, (
        f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}\n"
        + "\n".join(f"{f.path}:{f.line}: {f.code} {f.message}" for f in result.findings)
    )
