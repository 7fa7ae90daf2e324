"""Each fixture project's complete findings equal its `# expect:` markers, with and without the
pre-parse relevance filter (the filter must never drop a file that has findings)."""
from __future__ import annotations


import pytest

from tests.helpers import FIXTURES, expected_markers, found_markers, lint_directory

PROJECTS = sorted([FIXTURES / "demo-worker"] + [p for p in (FIXTURES / "projects").iterdir() if p.is_dir()]
                  if (FIXTURES / "projects").is_dir() else [FIXTURES / "demo-worker"])


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
@pytest.mark.parametrize("use_filter", [True, False], ids=["filtered", "unfiltered"])
def test_fixture_findings_match_markers(project, use_filter):
    result = lint_directory(project, use_filter=use_filter)
    found = found_markers(project, result.findings)
    expected = expected_markers(project)
    missing, unexpected = expected - found, found - expected
    assert not missing and not unexpected, (
        f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}\n"
        + "\n".join(f"{f.path}:{f.line}: {f.code} {f.message}" for f in result.findings)
    )


def test_demo_worker_shows_every_rule():
    from edgelint.rules import ALL_RULES

    codes = {code for _, _, code in expected_markers(FIXTURES / "demo-worker")}
    assert codes == {rule.code for rule in ALL_RULES}
