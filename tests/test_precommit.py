"""A real `pre-commit run --all-files` using this checkout's `.pre-commit-hooks.yaml`.

pre-commit clones the hook repository at a commit, so the working tree (with any uncommitted
changes) is copied to a temporary directory and committed there. The hook environment is installed
once per module (pip from PyPI into PRE_COMMIT_HOME), which is what makes this test slow.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import write_project
from tests.test_cli import COUNTER, WRANGLER

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

# Never part of the hook repository: environments, caches and build output.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", ".ci-venv", "*.egg-info", "__pycache__", "build",
                                    "dist", ".pytest_cache", ".hypothesis", ".edgelint_cache", ".ruff_cache")


def _git(*args: str, cwd: Path) -> str:
    identity = ("-c", "user.name=edgelint tests", "-c", "user.email=tests@edgelint.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")
    completed = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return completed.stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory) -> tuple:
    """(path, sha) of a commit holding the current working tree."""
    repo = tmp_path_factory.mktemp("hook-repo") / "edgelint"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    _git("init", "-q", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-q", "-m", "working tree under test", cwd=repo)
    return str(repo), _git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("pre-commit-home"))


def _pre_commit(project: Path, files: dict, hook_repo: tuple, home: str,
                hook: str = "edgelint") -> subprocess.CompletedProcess:
    path, sha = hook_repo
    config = f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n      - id: {hook}\n"
    write_project(project, dict(files, **{".pre-commit-config.yaml": config}))
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    return _run_pre_commit(project, home)


def _run_pre_commit(project: Path, home: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PRE_COMMIT_HOME": home, "PRE_COMMIT_COLOR": "never"}
    environment.pop("PYTHONPATH", None)  # the hook must run the edgelint pre-commit installed
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project,
                          capture_output=True, text=True, env=environment, timeout=600)


def test_hook_fails_on_a_finding(tmp_path, hook_repo, pre_commit_home):
    result = _pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": COUNTER.format(comment="")},
                         hook_repo, pre_commit_home)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "src/entry.py:3:11: EDG101 KV read-modify-write" in result.stdout, result.stdout + result.stderr


def test_hook_passes_on_clean_code(tmp_path, hook_repo, pre_commit_home):
    clean = "async def on_fetch(request, env):\n    return await env.VIEWS.get('views')\n"
    result = _pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": clean}, hook_repo, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "edgelint" in result.stdout and "Passed" in result.stdout


def test_fix_hook_fixes_and_then_passes(tmp_path, hook_repo, pre_commit_home):
    unawaited = "async def on_fetch(request, env):\n    env.VIEWS.put(f'seen:{request.url}', '1')\n"
    first = _pre_commit(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": unawaited}, hook_repo,
                        pre_commit_home, hook="edgelint-fix")
    assert first.returncode != 0 and "files were modified by this hook" in first.stdout, first.stdout + first.stderr
    assert "    await env.VIEWS.put(" in (tmp_path / "src/entry.py").read_text()
    _git("add", "-A", cwd=tmp_path)
    second = _run_pre_commit(tmp_path, pre_commit_home)
    assert second.returncode == 0, second.stdout + second.stderr


def test_hook_manifest_is_valid():
    manifest = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
                              cwd=ROOT, capture_output=True, text=True)
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
