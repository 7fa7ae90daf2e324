"""`--write-baseline` / `--baseline` through the real CLI: old findings stay quiet when code moves."""
from __future__ import annotations

import json

import pytest

from tests.test_cli import counter_project

NEW_PITFALL = """
async def on_scheduled(event, env):
    total = int(await env.VIEWS.get("total") or 0)
    await env.VIEWS.put("total", str(total + 1))
"""


def test_baseline_survives_moved_lines_and_reports_only_new_findings(tmp_path, run_cli):
    counter_project(tmp_path)
    entry = tmp_path / "src/entry.py"
    code, out, err = run_cli("check", ".", "--write-baseline", "baseline.json")
    assert (code, out) == (0, "") and "Wrote 1 finding to baseline baseline.json" in err
    document = json.loads((tmp_path / "baseline.json").read_text())
    assert document["version"] == 1
    [entry_record] = document["entries"]
    assert set(entry_record) == {"fingerprint", "code", "path", "message"}
    assert (entry_record["code"], entry_record["path"]) == ("EDG101", "src/entry.py")

    entry.write_text("\n" * 20 + entry.read_text())
    assert run_cli("check", ".", "--baseline", "baseline.json") == (0, "", "")
    assert run_cli("check", "..", "--baseline", "../baseline.json", cwd=tmp_path / "src")[0] == 0

    entry.write_text(entry.read_text() + NEW_PITFALL)
    code, out, _ = run_cli("check", ".", "--baseline", "baseline.json")
    assert code == 1
    assert len(out.splitlines()) == 1 and 'EDG101 KV read-modify-write of constant key "total"' in out


@pytest.mark.parametrize("content, problem", [
    (None, "cannot read baseline"),
    ("{not json", "baseline is not valid JSON"),
    ('{"version": 1, "entries": {}}', "not an edgelint baseline"),
    ('[1, 2]', "not an edgelint baseline"),
    ('{"version": 1, "entries": [{"code": "EDG101"}]}', "string 'fingerprint'"),
])
def test_unusable_baseline_is_one_line_exit_2(tmp_path, run_cli, content, problem):
    counter_project(tmp_path)
    if content is not None:
        (tmp_path / "baseline.json").write_text(content)
    code, out, err = run_cli("check", ".", "--baseline", "baseline.json")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "baseline.json" in err and problem in err and "Traceback" not in err
