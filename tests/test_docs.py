"""Documentation comes from the rules themselves: the README table, docs/rules.md and `edgelint rule`
agree with them, and every documentation link edgelint prints lands on its rule."""
from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import List

import pytest

from edgelint.config import Settings, parse_settings
from edgelint.docs import DOCS_PATH, REGENERATE, anchor, rules_markdown
from edgelint.errors import ConfigError
from edgelint.rules import ALL_RULES, KNOWN_CODES, RULE_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def readme_rows():
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- rules-table:start -->")[1].split("<!-- rules-table:end -->")[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return [tuple(cell.strip() for cell in row) for row in rows]


def test_readme_rule_table_matches_the_rules():
    expected = [(rule.code, rule.name, rule.severity, rule.summary) for rule in ALL_RULES]
    assert readme_rows() == expected


def test_docs_rules_md_is_generated_from_the_rules():
    committed = DOCS_PATH.read_text(encoding="utf-8") if DOCS_PATH.is_file() else ""
    assert committed == rules_markdown(), f"docs/rules.md is out of date: run `{REGENERATE}` and commit it"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_documentation_link_lands_on_the_rule(rule):
    """Rule.url() (JSON `url`, SARIF `helpUri`, `rule --format json`): a file of this repository and
    an anchor in it whose id is exactly the fragment (GitHub matches ids case-sensitively)."""
    page, _, fragment = rule.url().partition("#")
    relative = page.partition("/blob/main/")[2]
    assert relative == "docs/rules.md" and (ROOT / relative) == DOCS_PATH
    section = DOCS_PATH.read_text(encoding="utf-8").split(f'<a id="{fragment}"></a>\n\n', 1)
    assert fragment == anchor(rule.url()) and len(section) == 2, f"no anchor {fragment!r} in docs/rules.md"
    assert section[1].startswith(f"## {rule.code} {rule.name}\n")


def test_rule_all_json_lists_every_rule(run_cli):
    code, out, _ = run_cli("rule", "--all", "--format", "json")
    listed = json.loads(out)
    assert code == 0
    assert [entry["code"] for entry in listed] == [rule.code for rule in ALL_RULES]
    for entry in listed:
        assert set(entry) >= {"code", "name", "severity", "summary", "fixable"}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_metadata_is_complete(rule):
    assert re.fullmatch(r"EDG\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name)
    assert rule.severity in ("error", "warning")
    for section in (rule.what, rule.why, rule.example, rule.use_instead, rule.fix_safety):
        assert section.strip()
    assert rule.references, "every rule names the platform facts it rests on"


def accepted_config_keys() -> List[str]:
    """The `[tool.edgelint]` keys config.py accepts, asked of config.py itself: each Settings field
    (spelled with dashes) whose key parse_settings does not reject as unknown."""
    keys = []
    for key in (field.name.replace("_", "-") for field in fields(Settings)):
        try:
            parse_settings({key: 42}, "edgelint.toml", KNOWN_CODES, RULE_OPTIONS)
        except ConfigError as error:
            if "unknown key" in str(error):
                continue
        keys.append(key)
    return keys


def test_readme_configuration_explains_every_accepted_key():
    section = README.read_text(encoding="utf-8").split("### Configuration\n", 1)[1].split("\n## ", 1)[0]
    keys = accepted_config_keys()
    assert {"select", "wrangler-config", "per-file-ignores", "rules"} <= set(keys)
    options = [option for rule_options in RULE_OPTIONS.values() for option in rule_options]
    missing = [key for key in keys + options if f"`{key}`" not in section]
    assert not missing, f"README's Configuration section does not explain {missing}"


def test_every_check_option_is_documented_in_the_readme():
    from edgelint.cli import build_parser

    check_help = build_parser().parse_args(["check"]).parser.format_help()
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", check_help))
    text = README.read_text(encoding="utf-8")
    assert options and not {option for option in options if not re.search(re.escape(option) + r"\b", text)}
