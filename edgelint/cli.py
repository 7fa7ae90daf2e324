"""The `edgelint` command: `check` (the default) and `rule`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional, Sequence

from edgelint import __version__
from edgelint.config import Settings, load_settings
from edgelint.discovery import DEFAULT_EXCLUDES, discover
from edgelint.engine import lint_files
from edgelint.errors import ConfigError
from edgelint.report import REPORTERS
from edgelint.rules import ALL_RULES, KNOWN_CODES, RULE_OPTIONS, RULES_BY_CODE

SUBCOMMANDS = ("check", "rule")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgelint", description="Lint Cloudflare Python Workers state handling.")
    parser.add_argument("--version", action="version", version=f"edgelint {__version__}")
    commands = parser.add_subparsers(dest="command")

    check = commands.add_parser("check", help="lint files and directories (the default command)")
    check.add_argument("paths", nargs="*", default=["."], help="files or directories; - reads stdin")
    check.add_argument("--format", choices=sorted(REPORTERS), default="text")
    check.add_argument("--output", "-o", help="write the report to this file")
    check.add_argument("--select", type=_codes, help="comma-separated codes or prefixes to enable")
    check.add_argument("--extend-select", type=_codes, help="codes to enable in addition")
    check.add_argument("--ignore", type=_codes, help="comma-separated codes or prefixes to disable")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    check.add_argument("--statistics", action="store_true", help="print a count per rule")
    check.add_argument("--stdin-filename", help="file name for code read from stdin")
    check.add_argument("--config", help="read settings from this TOML file")
    check.add_argument("--no-filter", action="store_true", help=argparse.SUPPRESS)

    rule = commands.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code", nargs="?", help="a rule code such as EDG101")
    rule.add_argument("--all", action="store_true", help="list every rule")
    rule.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _codes(text: str) -> List[str]:
    return [code.strip().upper() for code in text.split(",") if code.strip()]


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in SUBCOMMANDS and args_list[0] not in ("-h", "--help", "--version"):
        args_list.insert(0, "check")
    if not args_list:
        args_list = ["check"]
    args = build_parser().parse_args(args_list)
    try:
        if args.command == "rule":
            return _rule(args)
        return _check(args)
    except ConfigError as exc:
        print(f"edgelint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    start = Path(args.stdin_filename or (args.paths[0] if args.paths and args.paths[0] != "-" else "."))
    if args.config:
        from edgelint.config import _read_table, parse_settings

        table = _read_table(Path(args.config)) or {}
        settings = parse_settings(table, args.config, KNOWN_CODES, RULE_OPTIONS)
    else:
        settings = load_settings(start if start.exists() else Path("."), KNOWN_CODES, RULE_OPTIONS)
    for flag, attribute in (("select", "select"), ("extend_select", "extend_select"), ("ignore", "ignore")):
        codes = getattr(args, flag)
        if codes is not None:
            _validate_codes(codes, f"--{flag.replace('_', '-')}")
            setattr(settings, attribute, codes)
    return settings


def _validate_codes(codes: Sequence[str], flag: str) -> None:
    from edgelint.config import _check_codes

    _check_codes(codes, "command line", flag, KNOWN_CODES)


def _check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    errors: List = []
    overrides = {}
    paths = [p for p in args.paths if p != "-"]
    if "-" in args.paths:
        name = args.stdin_filename or "stdin.py"
        overrides[name] = sys.stdin.read()
        paths_found = [name]
    else:
        paths_found = []
    excludes = list(DEFAULT_EXCLUDES) + settings.exclude + settings.extend_exclude
    files = paths_found + discover(paths, excludes, settings.root, errors)
    result = lint_files(files, settings, Path(os.getcwd()), use_filter=not args.no_filter, overrides=overrides)
    problems = [f"{path}: {problem}" for path, problem in errors] + result.errors
    output = REPORTERS[args.format](result.findings)
    if args.statistics:
        output += _statistics(result.findings)
    _write(output, args.output)
    for problem in problems:
        print(f"edgelint: error: {problem}", file=sys.stderr)
    if result.findings:
        fixable = sum(1 for f in result.findings if f.fix is not None)
        noun = "problem" if len(result.findings) == 1 else "problems"
        print(f"Found {len(result.findings)} {noun} ({fixable} fixable with --fix).", file=sys.stderr)
    if problems or any(f.code == "EDG998" for f in result.findings):
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _statistics(findings) -> str:
    counts = Counter(f.code for f in findings)
    lines = []
    for code, count in sorted(counts.items()):
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule else ""
        fix = "fixable" if rule is not None and rule.fixable else ""
        lines.append(f"{count:5d}\t{code}\t{name}\t{fix}".rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def _write(text: str, output: Optional[str]) -> None:
    if not output:
        sys.stdout.write(text)
        return
    temporary = f"{output}.edgelint-tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, output)


def _rule(args: argparse.Namespace) -> int:
    if args.all:
        if args.format == "json":
            print(json.dumps([_rule_summary(rule) for rule in ALL_RULES], indent=2))
        else:
            for rule in ALL_RULES:
                print(f"{rule.code}  {rule.name:<28} {rule.severity:<8} {rule.summary}")
        return EXIT_CLEAN
    code = (args.code or "").upper()
    rule = RULES_BY_CODE.get(code)
    if rule is None:
        print(f"edgelint: error: unknown rule code '{args.code}'", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        print(json.dumps(dict(_rule_summary(rule), documentation=rule.documentation()), indent=2))
    else:
        print(rule.documentation(), end="")
    return EXIT_CLEAN


def _rule_summary(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "summary": rule.summary,
            "fixable": rule.fixable, "url": rule.url()}
