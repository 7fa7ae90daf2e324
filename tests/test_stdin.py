"""`edgelint check - --stdin-filename PATH`: config and wrangler config found from PATH, reported as PATH."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import write_project
from tests.test_cli import COUNTER, WRANGLER

CODE = COUNTER.format(comment="")
ROOT = Path(__file__).resolve().parent.parent


def test_stdin_uses_the_wrangler_config_of_the_given_name(tmp_path, run_cli):
    # The file does not exist on disk (an unsaved editor buffer): only the name places it.
    write_project(tmp_path, {"worker/wrangler.toml": WRANGLER})
    code, out, err = run_cli("check", "-", "--stdin-filename", "worker/src/entry.py", stdin=CODE)
    assert code == 1
    assert out.startswith('worker/src/entry.py:3:11: EDG101 KV read-modify-write of constant key "views" on binding VIEWS')
    assert "Found 1 problem" in err


def test_stdin_without_a_wrangler_config_knows_no_binding(tmp_path, run_cli):
    # The counterpart of the test above: VIEWS is only a KV namespace because wrangler.toml says so.
    assert run_cli("check", "-", "--stdin-filename", "worker/src/entry.py", stdin=CODE)[0] == 0


def test_stdin_reads_the_config_found_from_the_given_name(tmp_path, run_cli):
    write_project(tmp_path, {
        "worker/wrangler.toml": WRANGLER,
        "worker/pyproject.toml": '[tool.edgelint]\nper-file-ignores = { "src/entry.py" = ["EDG1"] }\n',
    })
    assert run_cli("check", "-", "--stdin-filename", "worker/src/entry.py", stdin=CODE) == (0, "", "")
    assert run_cli("check", "-", "--stdin-filename", "worker/src/other.py", stdin=CODE)[0] == 1
    code, _, err = run_cli("check", "-", "--stdin-filename", "src/entry.py", stdin=CODE, cwd=tmp_path / "worker")
    assert code == 0, err


def test_stdin_is_analysed_with_the_rest_of_its_project(tmp_path, run_cli):
    # The read happens in a helper module on disk; only the write is in the piped buffer.
    write_project(tmp_path, {
        "wrangler.toml": WRANGLER,
        "src/stats.py": "import json\n\n\nasync def load(kv):\n    return json.loads(await kv.get('stats') or '{}')\n",
        "src/entry.py": "",
    })
    buffer = (
        "import json\nfrom stats import load\n\n\nasync def on_fetch(request, env):\n"
        "    stats = await load(env.VIEWS)\n    stats['hits'] = stats.get('hits', 0) + 1\n"
        "    await env.VIEWS.put('stats', json.dumps(stats))\n"
    )
    code, out, _ = run_cli("check", "-", "--stdin-filename", "src/entry.py", stdin=buffer)
    assert code == 1
    assert out.startswith("src/entry.py:8:11: EDG101")
    assert "src/stats.py" not in out


def run_bytes(tmp_path, data: bytes, *args: str):
    """Like run_cli, with bytes on stdin (as editors send a buffer)."""
    completed = subprocess.run([sys.executable, "-m", "edgelint", "check", "-", *args], cwd=tmp_path, input=data,
                               capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return completed.returncode, completed.stdout.decode(), completed.stderr.decode()


def test_stdin_is_decoded_as_python_decodes_a_file(tmp_path):
    write_project(tmp_path, {"worker/wrangler.toml": WRANGLER})
    latin = b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + CODE.encode()
    code, out, _ = run_bytes(tmp_path, latin, "--stdin-filename", "worker/src/entry.py")
    assert code == 1 and out.startswith("worker/src/entry.py:5:11: EDG101")
    code, out, err = run_bytes(tmp_path, b'x = "\xff"\n', "--stdin-filename", "worker/src/entry.py")
    assert (code, out) == (1, "worker/src/entry.py:1:6: EDG999 cannot decode as utf-8: invalid byte 0xff\n")
    assert "error" not in err


def test_stdin_filename_without_a_path_reads_stdin_not_the_file_on_disk(tmp_path, run_cli):
    # As ruff does: an editor passes the buffer and its name, the file on disk is the last saved one.
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": CODE})
    assert run_cli("check", "--stdin-filename", "src/entry.py", stdin="x = 1\n") == (0, "", "")
    code, out, _ = run_cli("check", "--stdin-filename", "src/other.py", stdin=CODE)
    assert code == 1 and out.startswith("src/other.py:3:11: EDG101")
