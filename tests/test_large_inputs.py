"""Inputs that are large but hold nothing edgelint looks at cost little."""
from __future__ import annotations

from edgelint.model import analysis
from edgelint.model.project import MAX_CONSTANT_SIZE
from tests.helpers import lint_directory, write_project


def test_a_data_table_a_handler_mentions_is_not_parsed(tmp_path, monkeypatch):
    projects = []
    original = analysis.analyse

    def analyse(project, *args, **kwargs):
        projects.append(project)
        return original(project, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyse", analyse)
    rows = ", ".join(f'({index}, "v{index}")' for index in range(5000))
    assert len(rows) > MAX_CONSTANT_SIZE
    write_project(tmp_path, {
        "wrangler.toml": 'kv_namespaces = [{ binding = "KV", id = "1" }]\n',
        "src/table.py": f"TABLE = [{rows}]\nSMALL = 'k'\n",
        "src/entry.py": "from src.table import SMALL, TABLE\n\n\nasync def on_fetch(request, env):\n"
                        "    await env.KV.put(SMALL, str(len(TABLE)))\n",
    })
    findings = lint_directory(tmp_path).findings
    assert [(f.path.endswith("entry.py"), f.line, f.code) for f in findings] == [(True, 5, "EDG105")]
    [project] = projects
    table = project.modules["src.table"]
    assert [chunk.tree is None for chunk in table.chunks] == [True, False]  # the table never parsed
