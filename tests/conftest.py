import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The flake8 plugin hands files to a resident edgelint and starts one when none listens: tests that
# run flake8 observe what its own process does, and leave no process behind. tests/test_daemon.py
# turns it on.
os.environ["EDGELINT_DAEMON"] = "0"
# Never part of the hook repository: environments, caches and build output.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", "venv", ".ci-venv", "*.egg-info", "__pycache__", "build",
                                    "dist", ".pytest_cache", ".hypothesis", ".edgelint_cache", ".ruff_cache")


@pytest.fixture
def run_cli(tmp_path):
    """Run `python -m edgelint` as a user would, returning (exit code, stdout, stderr)."""
    import subprocess

    def run(*args, cwd=None, stdin=None):
        completed = subprocess.run(
            [sys.executable, "-m", "edgelint", *args], cwd=cwd or tmp_path, input=stdin,
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        return completed.returncode, completed.stdout, completed.stderr

    return run


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> tuple:
    """(path, sha) of a commit holding the current working tree: pre-commit clones the hook
    repository at a commit, so the working tree (with any uncommitted changes) is copied to a
    temporary directory and committed there."""
    from tests.helpers import git

    repo = tmp_path_factory.mktemp("hook-repo") / "edgelint"
    shutil.copytree(ROOT, repo, ignore=NOT_COPIED)
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "working tree under test", cwd=repo)
    return str(repo), git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> str:
    """Where pre-commit installs the hook's environment (pip into it, once per test session: what
    makes these tests slow)."""
    return str(tmp_path_factory.mktemp("pre-commit-home"))
