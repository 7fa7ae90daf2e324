"""Every broken configuration makes the run exit 2 with one line naming the file and the problem; a
broken wrangler config leaves out only its own project.

The CLI's `main()` runs in-process (a subprocess per case would spend most of the time importing
libcst); an exception escaping it fails the test just as a traceback would. The cases of
`test_broken_config_exits_2_with_one_line` in test_cli.py (unknown key, unknown code in `ignore`,
`select` as a string, unknown binding kind, unknown rule option, malformed wrangler.toml and
wrangler.jsonc) run there through a subprocess and are not repeated here.
"""
from __future__ import annotations

import json

import pytest

from edgelint.cli import main
from tests.helpers import write_project
from tests.test_cli import COUNTER, WRANGLER

EDGELINT = "[tool.edgelint]\n"

CASES = [
    # (id, file name, its content, text the one line must contain)
    ("unknown-code-select", "pyproject.toml", EDGELINT + 'select = ["EDG1", "EDG404"]\n',
     "pyproject.toml:2: unknown rule code 'EDG404' in 'select'"),
    ("unknown-code-extend-select", "pyproject.toml", EDGELINT + 'extend-select = ["XYZ1"]\n',
     "unknown rule code 'XYZ1' in 'extend-select'"),
    ("unknown-code-per-file-ignores", "pyproject.toml", EDGELINT + 'per-file-ignores = { "tests/*" = ["EDG900"] }\n',
     "unknown rule code 'EDG900' in 'per-file-ignores.tests/*'"),
    ("unknown-code-severity", "pyproject.toml", "[tool.edgelint.severity]\nEDG100 = \"warning\"\n",
     "unknown rule code 'EDG100' in 'severity'"),
    ("unknown-code-rules", "pyproject.toml", "[tool.edgelint.rules.EDG299]\nallow-names = []\n",
     "unknown rule code 'EDG299' in 'rules'"),
    ("string-not-list-ignore", "pyproject.toml", EDGELINT + 'ignore = "EDG101"\n',
     "'ignore' must be a list of strings"),
    ("string-not-list-exclude", "pyproject.toml", EDGELINT + 'exclude = "tests"\n',
     "'exclude' must be a list of strings"),
    ("string-not-list-per-file", "pyproject.toml", EDGELINT + 'per-file-ignores = { "a.py" = "EDG101" }\n',
     "'per-file-ignores.a.py' must be a list of strings"),
    ("string-not-list-rule-option", "pyproject.toml", "[tool.edgelint.rules.EDG201]\nallow-names = \"x\"\n",
     "option 'allow-names' of EDG201 must be a list of strings"),
    ("int-severity", "pyproject.toml", "[tool.edgelint.severity]\nEDG101 = 1\n",
     "severity of EDG101 must be one of error, warning, info, not 1"),
    ("unknown-severity", "pyproject.toml", "[tool.edgelint.severity]\nEDG101 = \"fatal\"\n",
     "severity of EDG101 must be one of error, warning, info, not 'fatal'"),
    ("non-table-severity", "pyproject.toml", EDGELINT + 'severity = "error"\n', "'severity' must be a table"),
    ("non-table-bindings", "pyproject.toml", EDGELINT + 'bindings = ["VIEWS"]\n', "'bindings' must be a table"),
    ("non-string-binding-kind", "pyproject.toml", "[tool.edgelint.bindings]\nVIEWS = 1\n",
     "binding 'VIEWS' has unknown kind 1"),
    ("var-binding-kind", "pyproject.toml", "[tool.edgelint.bindings]\nVIEWS = \"var\"\n",
     "binding 'VIEWS' has unknown kind 'var'"),
    ("non-table-rules", "pyproject.toml", EDGELINT + 'rules = ["EDG201"]\n', "'rules' must be a table"),
    ("non-table-rule", "pyproject.toml", EDGELINT + 'rules = { EDG201 = ["x"] }\n', "'rules.EDG201' must be a table"),
    ("unknown-option-other-rule", "pyproject.toml", "[tool.edgelint.rules.EDG101]\nallow-names = []\n",
     "unknown option 'allow-names' for EDG101"),
    ("unknown-key-edgelint-toml", "edgelint.toml", "selectt = []\n", "edgelint.toml:1: unknown key 'selectt'"),
    ("key-after-another-tools-table", "pyproject.toml",
     '[tool.ruff]\nignore = ["E501"]\n\n' + EDGELINT + 'ignore = ["E501"]\n',
     "pyproject.toml:5: unknown rule code 'E501' in 'ignore'"),
    ("malformed-pyproject", "pyproject.toml", EDGELINT + "select = [\"EDG1\"\n", "pyproject.toml: invalid TOML"),
    ("malformed-pyproject-other-tool", "pyproject.toml", "[tool.black]\nline-length = = 88\n",
     "pyproject.toml: invalid TOML"),
    ("malformed-edgelint-toml", "edgelint.toml", "select = ['EDG1'\n", "edgelint.toml: invalid TOML"),
    ("malformed-dot-edgelint-toml", ".edgelint.toml", "[rules\n", ".edgelint.toml: invalid TOML"),
    ("malformed-wrangler-jsonc", "wrangler.jsonc", '{ "kv_namespaces": [ { binding: } ] }',
     "wrangler.jsonc: invalid JSONC"),
    ("malformed-wrangler-json", "wrangler.json", '{"name": "x",, }', "wrangler.json: invalid JSONC"),
    ("wrangler-json-not-object", "wrangler.json", '[{"kv_namespaces": []}]',
     "wrangler.json: wrangler config must be an object"),
    ("wrangler-object-not-array", "wrangler.jsonc", '{\n  "name": "x",\n  "kv_namespaces": {"binding": "X"},\n}',
     'wrangler.jsonc:3: kv_namespaces: expected an array of objects with a string "binding"'),
    ("wrangler-entry-without-name", "wrangler.jsonc", '{ "kv_namespaces": [{ "id": "a" }] }',
     'wrangler.jsonc:1: kv_namespaces: expected an array of objects with a string "binding"'),
    ("wrangler-name-not-string", "wrangler.toml", 'name = "x"\n\n[[kv_namespaces]]\nbinding = 42\nid = "a"\n',
     'wrangler.toml:3: kv_namespaces: expected an array of tables with a string "binding"'),
    ("wrangler-string-not-array", "wrangler.toml", 'name = "x"\nkv_namespaces = "X"\n',
     'wrangler.toml:2: kv_namespaces: expected an array of tables with a string "binding"'),
    ("wrangler-nested-section", "wrangler.toml", '[durable_objects]\nbindings = { name = "ROOMS" }\n',
     'wrangler.toml:1: durable_objects.bindings: expected an array of tables with a string "name"'),
    ("wrangler-singleton-not-table", "wrangler.toml", 'name = "x"\nai = ["AI"]\n',
     'wrangler.toml:2: ai: expected a table with a string "binding"'),
    ("wrangler-vars-not-table", "wrangler.jsonc", '{ "vars": ["API_URL"] }', "wrangler.jsonc:1: vars: expected an object of names"),
    ("wrangler-in-an-environment", "wrangler.toml",
     '[[kv_namespaces]]\nbinding = "A"\nid = "1"\n\n[env.staging]\nname = "s"\n\n[[env.staging.kv_namespaces]]\nid = "2"\n',
     'wrangler.toml:8: env.staging.kv_namespaces: expected an array of tables with a string "binding"'),
    ("wrangler-main-not-string", "wrangler.toml", "main = 1\n", "wrangler.toml:1: main: expected a string"),
    ("wrangler-config-missing", "pyproject.toml", EDGELINT + 'wrangler-config = "deploy/wrangler.toml"\n',
     "pyproject.toml:2: 'wrangler-config' file not found: deploy/wrangler.toml"),
    ("wrangler-config-not-string", "pyproject.toml", EDGELINT + "wrangler-config = 3\n",
     "'wrangler-config' must be a list of strings"),
]


@pytest.fixture
def run_main(tmp_path, monkeypatch, capsys):
    """Run `edgelint ARGS` in `tmp_path`, returning (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def run(*args):
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.mark.parametrize("name, text, problem", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_broken_config_exits_2_with_one_line(tmp_path, run_main, name, text, problem):
    files = {"src/entry.py": COUNTER.format(comment=""), name: text}
    if not name.startswith("wrangler"):
        files["wrangler.toml"] = WRANGLER
    write_project(tmp_path, files)
    code, out, err = run_main("check", ".")
    assert (code, out) == (2, ""), err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert problem in err and "Traceback" not in err


@pytest.mark.parametrize("args, problem", [
    (["--config", "missing.toml"], "missing.toml: cannot read config"),
    (["--config", "broken.toml"], "broken.toml: invalid TOML"),
    (["--ignore", "EDG101,EDG7"], "unknown rule code 'EDG7' in '--ignore'"),
])
def test_broken_command_line_config_exits_2_with_one_line(tmp_path, run_main, args, problem):
    write_project(tmp_path, {"src/entry.py": COUNTER.format(comment=""), "wrangler.toml": WRANGLER,
                             "broken.toml": "select = [\n"})
    code, out, err = run_main("check", ".", *args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and problem in err and "Traceback" not in err


@pytest.mark.parametrize("report", ["text", "json"])
def test_a_broken_wrangler_config_leaves_its_project_out_and_the_others_are_linted(tmp_path, run_main, report):
    """One line names the broken file and the run exits 2, but the projects beside it are linted
    (their findings are printed, in a JSON report too)."""
    write_project(tmp_path, {"shop/wrangler.toml": WRANGLER, "shop/src/entry.py": COUNTER.format(comment=""),
                             "blog/wrangler.jsonc": '{ "kv_namespaces": [ { binding: } ] }',
                             "blog/src/entry.py": COUNTER.format(comment="")})
    code, out, err = run_main("check", ".", "--format", report)
    assert code == 2 and "Traceback" not in err
    [error] = [line for line in err.splitlines() if line.startswith("edgelint: error: ")]
    assert "blog/wrangler.jsonc: invalid JSONC" in error
    assert "shop/src/entry.py" in out and "blog/src" not in out
    if report == "json":
        [notification] = [item for item in json.loads(out) if item["name"] == "notification"]
        assert notification["path"].endswith("blog/wrangler.jsonc") and "invalid JSONC" in notification["message"]
