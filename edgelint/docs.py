"""docs/rules.md, generated from the rule registry: `python -m edgelint.docs` rewrites it.

Every documentation link edgelint prints (JSON `url`, SARIF `helpUri`, `edgelint rule --format
json`) is `Rule.url()`; each rule's section starts with an anchor whose id is that URL's fragment.
tests/test_docs.py regenerates the page and fails when the committed file differs.
"""
from __future__ import annotations

from pathlib import Path

from edgelint.rules import RULES_BY_CODE

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
REGENERATE = "python -m edgelint.docs"

_INTRO = f"""\
# edgelint rules

<!-- Generated from edgelint/rules/ by `{REGENERATE}`: edit the rule modules, not this file. -->

Each rule as `edgelint rule CODE` prints it. Select or ignore rules by code or prefix
(`--select EDG1`, `ignore = ["EDG105"]`), suppress one finding with `# noqa: CODE`.
"""


def anchor(url: str) -> str:
    """The id of the anchor a documentation URL points at."""
    return url.partition("#")[2]


def rules_markdown() -> str:
    rules = list(RULES_BY_CODE.values())
    table = ["| Code | Name | Severity | What it reports |", "|---|---|---|---|"]
    table += [f"| [{rule.code}](#{anchor(rule.url())}) | {rule.name} | {rule.severity} | {rule.summary} |"
              for rule in rules]
    sections = [f'<a id="{anchor(rule.url())}"></a>\n\n{rule.documentation(level=2)}' for rule in rules]
    return "\n".join([_INTRO, "\n".join(table), "", "\n".join(sections)]).rstrip("\n") + "\n"


def main() -> None:
    DOCS_PATH.parent.mkdir(exist_ok=True)
    DOCS_PATH.write_text(rules_markdown(), encoding="utf-8", newline="\n")
    print(f"wrote {DOCS_PATH}")


if __name__ == "__main__":
    main()
