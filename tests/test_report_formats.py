"""The sarif, github and junit output formats, checked through the CLI as CI systems run it."""
from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import jsonschema
import pytest

from edgelint.findings import Edit, Finding, Fix, RelatedLocation
from edgelint.report import REPORTERS, github, junit, sarif
from edgelint.rules import ALL_RULES, ENGINE_CODES, INTERNAL_ERROR
from tests.helpers import write_project
from tests.test_cli import COUNTER, WRANGLER, counter_project

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-worker"
SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
WEIRD_NAME = "src/we%ird,na:me.py"


def valid_sarif(text: str) -> dict:
    log = json.loads(text)
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)
    return log


def run_format(run_cli, fmt, *args, cwd=None):
    """(exit code, output) of `edgelint check . --format FMT` plus the JSON findings of the same run."""
    code, out, _ = run_cli("check", ".", "--format", fmt, *args, cwd=cwd)
    findings = json.loads(run_cli("check", ".", "--format", "json", *args, cwd=cwd)[1])
    return code, out, findings


@pytest.fixture
def weird_project(tmp_path):
    """The counter read-modify-write in a file whose name holds every workflow-command separator."""
    write_project(tmp_path, {"wrangler.toml": WRANGLER, WEIRD_NAME: COUNTER.format(comment="")})
    return tmp_path


def finding(message="KV read-modify-write", path="src/entry.py", severity="error", **extra) -> Finding:
    return Finding("EDG101", message, path, 3, 11, 3, 51, severity, "kv-read-modify-write", **extra)


# ---- SARIF


def test_sarif_of_demo_worker_validates_with_one_result_per_finding(run_cli):
    code, out, findings = run_format(run_cli, "sarif", cwd=DEMO)
    assert code == 1 and findings
    run = valid_sarif(out)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [f["code"] for f in findings]
    for result, found in zip(results, findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == {"error": "error", "warning": "warning"}[found["severity"]]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert (DEMO / location["artifactLocation"]["uri"]).is_file()
        region = location["region"]
        assert (region["startLine"], region["startColumn"], region["endLine"], region["endColumn"]) == (
            found["line"], found["column"], found["end_line"], found["end_column"])
        assert ("fixes" in result) == (found["fix"] is not None)
    assert len({r["partialFingerprints"]["edgelint/v1"] for r in results}) == len(results)


def test_sarif_driver_lists_every_rule_with_help_and_default_level():
    driver = valid_sarif(sarif.render([]))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "edgelint" and driver["version"] and driver["informationUri"].startswith("https://")
    described = {rule["id"]: rule for rule in driver["rules"]}
    assert set(described) == {rule.code for rule in ALL_RULES} | set(ENGINE_CODES)
    for rule in ALL_RULES:
        entry = described[rule.code]
        assert entry["name"] == rule.name
        assert entry["shortDescription"]["text"] == rule.summary
        assert entry["fullDescription"]["text"].split() == rule.what.split()
        assert entry["help"]["markdown"] == rule.documentation() == entry["help"]["text"]
        assert entry["helpUri"] == rule.url()
        assert entry["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning"}[rule.severity]


def test_sarif_result_with_a_fix_carries_it_in_fixes():
    edit = Edit(3, 11, 3, 11, "await ")
    fixed = finding(fix=Fix("Await the call", "safe", (edit,)))
    [result] = valid_sarif(sarif.render([fixed]))["runs"][0]["results"]
    [fix] = result["fixes"]
    assert fix["description"]["text"] == "Await the call"
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "src/entry.py", "uriBaseId": "%SRCROOT%"}
    assert change["replacements"] == [{
        "deletedRegion": {"startLine": 3, "startColumn": 11, "endLine": 3, "endColumn": 11},
        "insertedContent": {"text": "await "},
    }]


def test_sarif_engine_findings_severity_overrides_and_related_locations_stay_valid(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/broken.py": "def on_fetch(request, env):\n    return (\n"})
    [syntax] = valid_sarif(run_cli("check", ".", "--format", "sarif")[1])["runs"][0]["results"]
    assert syntax["ruleId"] == "EDG999" and syntax["level"] == "error"
    internal = Finding(INTERNAL_ERROR, "internal error: boom", "src/entry.py", 1, 1, 1, 1, "error", "internal-error")
    noted = finding(severity="info", related=(RelatedLocation("read in get_stats()", "src/stats.py", 5, 12, 5, 30),))
    run = valid_sarif(sarif.render([internal, noted]))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in run["results"]] == [INTERNAL_ERROR, "EDG101"]
    assert run["results"][1]["level"] == "note"
    [related] = run["results"][1]["relatedLocations"]
    assert related["message"] == {"text": "read in get_stats()"}
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "src/stats.py"
    assert related["physicalLocation"]["region"] == {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 30}


def test_sarif_fingerprints_survive_inserted_lines(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": COUNTER.format(comment="")})

    def results():
        return valid_sarif(run_cli("check", ".", "--format", "sarif")[1])["runs"][0]["results"]

    [before] = results()
    entry = tmp_path / "src/entry.py"
    entry.write_text("\n" * 20 + entry.read_text(encoding="utf-8"), encoding="utf-8")
    [after] = results()
    line = lambda result: result["locations"][0]["physicalLocation"]["region"]["startLine"]  # noqa: E731
    assert line(after) == line(before) + 20
    assert after["partialFingerprints"] == before["partialFingerprints"]


def test_sarif_uri_of_a_crafted_file_name_is_percent_encoded(weird_project, run_cli):
    [result] = valid_sarif(run_cli("check", ".", "--format", "sarif")[1])["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/we%25ird%2Cna%3Ame.py"
    assert (weird_project / unquote(uri)).is_file()


# ---- GitHub workflow commands

COMMAND = re.compile(r"::(error|warning|notice) ([^:]*)::(.*)")


def unescape(text: str) -> str:
    """What the Actions runner does to property values and data; '%25' last, as the runner does."""
    for escaped, plain in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, plain)
    return text


def parse_command(line: str):
    match = COMMAND.fullmatch(line)
    assert match, line
    kind, listed, data = match.groups()
    properties = dict(item.split("=", 1) for item in listed.split(","))
    return kind, {key: unescape(value) for key, value in properties.items()}, unescape(data)


def test_github_output_for_a_crafted_file_name_parses_back(weird_project, run_cli):
    code, out, findings = run_format(run_cli, "github")
    assert code == 1 and findings
    lines = out.splitlines()
    assert len(lines) == len(findings) and out.endswith("\n")
    for line, found in zip(lines, findings):
        kind, properties, message = parse_command(line)
        assert kind == "error"
        assert properties == {
            "file": WEIRD_NAME, "line": str(found["line"]), "col": str(found["column"]),
            "endLine": str(found["end_line"]), "endColumn": str(found["end_column"]),
            "title": f"{found['code']} {found['name']}",
        }
        assert message == found["message"]


@pytest.mark.parametrize("severity, kind", [("error", "error"), ("warning", "warning"), ("info", "notice")])
def test_github_message_with_newlines_cannot_inject_a_command(severity, kind):
    message = "first line\r\n::error file=evil.py::injected 100% %0A %3A, done"
    path = "src/a,b:c%25.py"
    out = github.render([finding(message, path, severity)])
    assert out.count("\n") == 1 and "\r" not in out
    parsed_kind, properties, data = parse_command(out.rstrip("\n"))
    assert (parsed_kind, properties["file"], properties["title"], data) == (
        kind, path, "EDG101 kv-read-modify-write", message)


# ---- JUnit XML


def test_junit_of_demo_worker_counts_match(run_cli):
    code, out, findings = run_format(run_cli, "junit", cwd=DEMO)
    assert code == 1 and findings
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    assert root.get("tests") == root.get("failures") == str(len(findings))
    failures = root.findall("./testsuite/testcase/failure")
    assert Counter(f.get("type") for f in failures) == Counter(f["code"] for f in findings)
    assert {f.get("message") for f in failures} == {f["message"] for f in findings}
    for suite in root.findall("testsuite"):
        assert (DEMO / suite.get("name")).is_file()
        assert suite.get("tests") == suite.get("failures") == str(len(suite.findall("testcase")))


def test_junit_of_a_clean_run_is_a_passing_document(tmp_path, run_cli):
    write_project(tmp_path, {"wrangler.toml": WRANGLER, "src/entry.py": "def on_fetch(request, env):\n    pass\n"})
    code, out, _ = run_cli("check", ".", "--format", "junit")
    root = ET.fromstring(out)
    assert code == 0
    assert root.get("failures") == "0" and root.findall(".//failure") == []
    assert int(root.get("tests")) == len(root.findall(".//testcase"))


def test_junit_escapes_markup_and_drops_characters_xml_cannot_carry():
    message = 'a <b>&"quoted"\x01\x1b]0;title\x07 end\nnext'
    root = ET.fromstring(junit.render([finding(message, "src/<&>.py")]))
    failure = root.find("./testsuite/testcase/failure")
    assert failure.get("message") == 'a <b>&"quoted"\ufffd\ufffd]0;title\ufffd end\nnext'
    assert root.find("testsuite").get("name") == "src/<&>.py"


# ---- --output


@pytest.mark.parametrize("fmt", sorted(REPORTERS))
def test_output_file_receives_the_report(weird_project, run_cli, fmt):
    _, printed, _ = run_cli("check", ".", "--format", fmt)
    code, out, err = run_cli("check", ".", "--format", fmt, "--output", "report.out")
    assert code == 1 and out == "" and "Found 1 problem" in err
    assert (weird_project / "report.out").read_text(encoding="utf-8") == printed


@pytest.mark.parametrize("target, problem", [("missing/report.out", "No such file or directory"),
                                             (".", "Is a directory")])
def test_an_unwritable_output_is_one_error_line_and_exit_2(weird_project, run_cli, target, problem):
    code, out, err = run_cli("check", ".", "--output", target)
    assert code == 2 and out == ""
    assert f"edgelint: error: {target}: cannot write the report: {problem}" in err and "Traceback" not in err


def test_output_to_a_device_is_written_in_place(weird_project, run_cli):
    _, printed, _ = run_cli("check", ".")
    code, out, _ = run_cli("check", ".", "--output", "/dev/stdout")
    assert code == 1 and out == printed


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse names that are not UTF-8")
@pytest.mark.parametrize("flags, shown", [(("--format", "sarif"), "src/b%FFd.py"),  # the URI of the raw bytes
                                          (("--write-baseline", "baseline.json"), "b\\udcffd.py")])
def test_a_file_name_that_is_not_utf8_is_reported(tmp_path, run_cli, flags, shown):
    counter_project(tmp_path)
    os.rename(tmp_path / "src" / "entry.py", os.path.join(os.fsencode(tmp_path / "src"), b"b\xffd.py"))
    code, out, err = run_cli("check", ".", *flags)
    assert code in (0, 1) and "Traceback" not in err
    assert shown in (out or (tmp_path / "baseline.json").read_text())


# ---- problems that are not findings: SARIF invocations, JSON notification items


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_file_that_cannot_be_read_is_an_invocation_notification(tmp_path, run_cli):
    counter_project(tmp_path)
    os.mkfifo(tmp_path / "src" / "pipe.py")
    code, out, err = run_cli("check", ".", "--format", "sarif")
    assert code == 2 and "edgelint: error: src/pipe.py: cannot read: not a regular file" in err
    run = valid_sarif(out)["runs"][0]
    assert [result["ruleId"] for result in run["results"]] == ["EDG101"]
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    [notification] = invocation["toolExecutionNotifications"]
    assert notification["level"] == "error" and notification["message"]["text"] == "cannot read: not a regular file"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/pipe.py"
    finding_item, notice = json.loads(run_cli("check", ".", "--format", "json")[1])
    assert finding_item["code"] == "EDG101"
    assert notice == {"code": None, "name": "notification", "severity": "error",
                      "message": "cannot read: not a regular file", "path": "src/pipe.py", "line": None,
                      "column": None, "end_line": None, "end_column": None, "fix": None, "related": [], "url": None}


def test_a_clean_invocation_is_successful_without_notifications(tmp_path, run_cli):
    counter_project(tmp_path)
    run = valid_sarif(run_cli("check", ".", "--format", "sarif")[1])["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_a_configuration_error_still_leaves_a_valid_document_naming_it(tmp_path, run_cli):
    counter_project(tmp_path, extra={"pyproject.toml": "[tool.edgelint]\nselct = ['EDG101']\n"})
    code, out, err = run_cli("check", ".", "--format", "sarif")
    assert code == 2 and err.count("\n") == 1 and "unknown key 'selct'" in err
    run = valid_sarif(out)["runs"][0]
    assert run["results"] == [] and run["invocations"][0]["executionSuccessful"] is False
    [notification] = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 2}
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("pyproject.toml")
    [notice] = json.loads(run_cli("check", ".", "--format", "json")[1])
    assert notice["code"] is None and "unknown key 'selct'" in notice["message"]
