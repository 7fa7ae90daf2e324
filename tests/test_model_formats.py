"""`edgelint model --format markdown|mermaid` on the demo Worker, the diagram checked by a parser
of Mermaid's flowchart grammar."""
from __future__ import annotations

import pytest

from tests.helpers import FIXTURES
from tests.mermaid_flowchart import MermaidError, parse

DEMO = str(FIXTURES / "demo-worker")


def model(run_cli, *args):
    code, out, err = run_cli("model", DEMO, *args)
    assert code == 0, err
    return out


def test_mermaid_flowchart_of_routes_helpers_keys_and_objects(run_cli):
    chart = parse(model(run_cli, "--format", "mermaid"))
    [views] = chart.ids_labelled("/views/*")
    [bump] = chart.ids_labelled("bump_views")
    [stats] = chart.ids_labelled("VIEWS: #quot;stats:daily#quot;")
    [store] = chart.ids_labelled("store_stats")
    assert (views, bump, "") in chart.edges and (bump, store, "") in chart.edges
    assert (store, stats, "write 1") in chart.edges
    assert chart.nodes[stats][0] == "cylinder"
    hot = {chart.nodes[node][1] for node in chart.classes["hot"]}
    assert hot == {"PAGES: #quot;last-visit#quot;", "VIEWS: #quot;stats:daily#quot;",
                   "COUNTER(#quot;hits#quot;) Counter.increment",
                   "SETTINGS(SETTINGS_OBJECT) SettingsStore.get_settings"}
    assert views in chart.classes["route"]


@pytest.mark.parametrize("broken", [
    'flowchart LR\n  n0["a "quoted" label"]\n',
    'flowchart LR\n  n0["a"]\n  n0 --> n1\n',
    'flowchart LR\n  n0["a"]\n  class n0 hot\n',
    'flowchart LR\n  n0["a"\n',
])
def test_the_grammar_check_rejects_what_mermaid_would_not_render(broken):
    with pytest.raises(MermaidError):
        parse(broken)


def test_markdown_has_the_diagram_and_a_table_per_route(run_cli):
    out = model(run_cli, "--format", "markdown", "--traffic", "/hits=1500")
    diagram = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    parse(diagram)
    section = out.split("## `/hits`", 1)[1].split("\n## ", 1)[0]
    assert "| DO request -> Counter.increment | COUNTER | \"hits\" | constant | 1 |" in section
    assert "- EDG201 do-global-singleton at `" in section
    assert "single-object: one object COUNTER(\"hits\") receives 1,500 requests/s" in out


def test_readme_example_is_the_real_output(run_cli):
    readme = (FIXTURES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Cost and capacity: `edgelint model`", 1)[1].split("\n## ", 1)[0]
    command = section.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()[1]
    assert command == 'edgelint model --traffic 100 --traffic "GET /views/*=40"'
    code, out, err = run_cli("model", "--traffic", "100", "--traffic", "GET /views/*=40", cwd=DEMO)
    assert code == 0, err
    blocks = [block.split("```", 1)[0] for block in section.split("```text\n")[1:]]
    assert len(blocks) == 2 and all(block in out for block in blocks)
