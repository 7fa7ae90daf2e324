"""`edgelint check - --stdin-filename PATH`: config and wrangler config found from PATH, reported as PATH."""
from __future__ import annotations

from tests.helpers import write_project
from tests.test_cli import COUNTER, WRANGLER

CODE = COUNTER.format(comment="")


def test_stdin_uses_the_wrangler_config_of_the_given_name(tmp_path, run_cli):
    # The file does not exist on disk (an unsaved editor buffer): only the name places it.
    write_project(tmp_path, {"worker/wrangler.toml": WRANGLER})
    code, out, err = run_cli("check", "-", "--stdin-filename", "worker/src/entry.py", stdin=CODE)
    assert code == 1
    assert out.startswith('worker/src/entry.py:3:11: EDG101 KV read-modify-write of key "views" on binding VIEWS')
    assert "Found 1 problem" in err


def test_stdin_without_a_wrangler_config_knows_no_binding(tmp_path, run_cli):
    # The counterpart of the test above: VIEWS is only a KV namespace because wrangler.toml says so.
    assert run_cli("check", "-", "--stdin-filename", "worker/src/entry.py", stdin=CODE)[0] == 0


def test_stdin_reads_the_config_found_from_the_given_name(tmp_path, run_cli):
    write_project(tmp_path, {
        "worker/wrangler.toml": WRANGLER,
        "worker/pyproject.toml": '[tool.edgelint]\nper-file-ignores = { "src/entry.py" = ["EDG101"] }\n',
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
