import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
