"""A real `pre-commit run --all-files` using this checkout's `.pre-commit-hooks.yaml` (the hook
repository and PRE_COMMIT_HOME: fixtures in conftest.py).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git, pre_commit, run_pre_commit
from tests.test_cli import COUNTER, WRANGLER

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_hook_fails_on_a_finding(tmp_path, hook_repo, pre_commit_home):
    result = pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": COUNTER.format(comment="")},
                         hook_repo, pre_commit_home)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "src/entry.py:3:11: EDG101 KV read-modify-write" in result.stdout, result.stdout + result.stderr


def test_hook_passes_on_clean_code(tmp_path, hook_repo, pre_commit_home):
    clean = "async def on_fetch(request, env):\n    return await env.VIEWS.get('views')\n"
    result = pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": clean}, hook_repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "edgelint" in result.stdout and "Passed" in result.stdout


def test_fix_hook_fixes_and_then_passes(tmp_path, hook_repo, pre_commit_home):
    unawaited = "async def on_fetch(request, env):\n    env.VIEWS.put(f'seen:{request.url}', '1')\n"
    first = pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": unawaited}, hook_repo,
                        pre_commit_home, hook="edgelint-fix")
    assert first.returncode != 0 and "files were modified by this hook" in first.stdout, first.stdout + first.stderr
    assert "    await env.VIEWS.put(" in (tmp_path / "src/entry.py").read_text()
    git("add", "-A", cwd=tmp_path)
    second = run_pre_commit(tmp_path, pre_commit_home)
    assert second.returncode == 0, second.stdout + second.stderr


def test_hook_manifest_is_valid():
    manifest = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                              cwd=ROOT, capture_output=True, text=True)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr


def test_hook_honours_the_configured_excludes(tmp_path, hook_repo, pre_commit_home):
    # pre-commit names every file: the hook passes --force-exclude so that excludes still apply.
    clean = "async def on_fetch(request, env):\n    return await env.VIEWS.get('views')\n"
    result = pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": clean,
                                   "src/generated/counter.py": COUNTER.format(comment=""),
                                   "pyproject.toml": '[tool.edgelint]\nextend-exclude = ["generated"]\n'},
                        hook_repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hook_runs_when_only_the_wrangler_config_changes(tmp_path, hook_repo, pre_commit_home):
    # The binding the code uses is gone from wrangler.toml: the unchanged entry.py now has an EDG302.
    handler = "async def on_fetch(request, env):\n    return await env.VIEWS.get('views')\n"
    files = {"wrangler.toml": '[[kv_namespaces]]\nbinding = "OTHER"\nid = "1"\n', "src/entry.py": handler}
    result = pre_commit(tmp_path, files, hook_repo, pre_commit_home, "edgelint", "--files", "wrangler.toml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "src/entry.py:2:18: EDG302 binding VIEWS is not declared" in result.stdout


def test_many_files_are_one_analysis_with_one_summary(tmp_path, hook_repo, pre_commit_home):
    # pre-commit splits the files of a hook that is not serial into one batch per CPU (two at least
    # here: TRAVIS makes it assume two), each of which would analyse the project again.
    files = {f"src/route_{number:03}.py": COUNTER.format(comment="") for number in range(60)}
    result = pre_commit(tmp_path, {"wrangler.toml": WRANGLER, **files}, hook_repo, pre_commit_home, TRAVIS="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("EDG101") == 60
    assert result.stdout.count("Found ") == 1 and "Found 60 problems" in result.stdout
