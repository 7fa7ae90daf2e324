"""The `edgelint` command: `check` (the default), `rule`, `clean`, `model` and `server`."""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NoReturn, Optional, Sequence, Set, Tuple, Union

from edgelint import __version__, argtypes
from edgelint.cache import CACHE_DIR, remove_cache
from edgelint.config import Resolver, check_codes, load_settings, parse_settings, read_table
from edgelint.costmodel.command import add_parser as add_model_parser, run as run_model
from edgelint.discovery import DEFAULT_EXCLUDES, Governing, discover
from edgelint.errors import ConfigError, missing_package
from edgelint.projects import load_source, project_files_of, project_root
from edgelint.registry import KNOWN_CODES, RULE_OPTIONS
from edgelint.report import REPORTERS, WITH_NOTIFICATIONS, text
from edgelint.textio import NEWLINE
from edgelint.wrangler import WRANGLER_FILES, find_wrangler_config

if TYPE_CHECKING:
    from edgelint.linting import LintResult
    from edgelint.findings import Finding

# The engine, the rules, fixes, baselines and all but the requested reporter are imported where they
# are used: a run the cache answers needs none of them, and importing them would be most of its time.

SUBCOMMANDS = ("check", "rule", "clean", "model", "server")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
TEXT_FORMATS = ("text", "concise", "full")  # ruff's names: concise is text, full adds the source
CHECK_EPILOG = """\
examples:
  edgelint check                          lint the current directory (edgelint . does the same)
  edgelint check src/ --select EDG1       only the KV rules
  edgelint check --output-format full     with each finding's source line and related places
  edgelint check --format sarif -o x.sarif
  edgelint check --stdin-filename src/entry.py < buffer.py
  edgelint check --show-settings src/entry.py

exit codes:
  0  no findings (or all fixed; always with --exit-zero, --show-files, --show-settings)
  1  findings (a file that does not parse or decode is the finding EDG999)
  2  a usage, configuration or internal error, or a path or file that cannot be read
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgelint", description="Lint Cloudflare Python Workers state handling.")
    parser.add_argument("--version", action="version", version=f"edgelint {__version__}")
    commands = parser.add_subparsers(dest="command")

    check = commands.add_parser("check", help="lint files and directories (the default command)",
                                epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("paths", nargs="*", help="files or directories (default: ., or stdin with --stdin-filename); "
                                                "- reads stdin")
    check.add_argument("--format", "--output-format", choices=sorted([*REPORTERS, *TEXT_FORMATS[1:]]),
                       default="text", help="text (or concise), full, json, sarif, github or junit")
    check.add_argument("--show-source", action="store_true", help="with the text format: as --output-format full")
    check.add_argument("--quiet", "-q", action="store_true", help="print the findings only: no summary or warnings")
    check.add_argument("--color", "--colour", choices=("auto", "always", "never"), default="auto",
                       help="colour the text formats (auto: on a terminal, unless NO_COLOR is set)")
    check.add_argument("--output", "-o", help="write the report to this file")
    check.add_argument("--select", type=argtypes.codes, help="comma-separated codes or prefixes to enable")
    check.add_argument("--extend-select", type=argtypes.codes, help="codes to enable in addition")
    check.add_argument("--ignore", type=argtypes.codes, help="comma-separated codes or prefixes to disable")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when problems are found")
    check.add_argument("--statistics", action="store_true", help="print a count per rule")
    check.add_argument("--stdin-filename", help="file name for code read from stdin (read when no path is given)")
    check.add_argument("--config", help="read settings from this TOML file")
    check.add_argument("--exclude", type=argtypes.patterns, metavar="PATTERNS",
                       help="comma-separated patterns to skip, replacing the configured `exclude`")
    check.add_argument("--extend-exclude", type=argtypes.patterns, metavar="PATTERNS",
                       help="comma-separated patterns to skip in addition")
    check.add_argument("--force-exclude", action="store_true",
                       help="apply the excludes to files named on the command line too (pre-commit names every file)")
    check.add_argument("--show-settings", metavar="FILE", help="print the settings that govern FILE, and exit")
    check.add_argument("--show-files", action="store_true", help="list the files that would be linted, and exit")
    check.add_argument("--no-filter", action="store_true", help=argparse.SUPPRESS)
    check.add_argument("--jobs", "-j", type=_jobs, default=None, metavar="N",
                       help="lint on N processes (default, 0 or auto: the number of CPUs)")
    check.add_argument("--no-cache", action="store_true", help=f"neither read nor write {CACHE_DIR}/")
    check.add_argument("--fix", action="store_true", help="apply safe fixes, then report what remains")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff, also apply unsafe fixes")
    check.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    check.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in this baseline")
    adopt = check.add_mutually_exclusive_group()
    adopt.add_argument("--add-noqa", action="store_true", help="add `# noqa: CODE` comments for every finding")
    adopt.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")

    check.set_defaults(parser=check)  # whose usage an unknown option shows

    rule = commands.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code", nargs="?", help="a rule code or name, such as EDG101 or kv-read-modify-write")
    rule.add_argument("--all", action="store_true", help="list every rule")
    rule.add_argument("--format", choices=("text", "json"), default="text")
    rule.set_defaults(parser=rule)

    clean = commands.add_parser("clean", help=f"remove the {CACHE_DIR}/ result caches")
    clean.add_argument("paths", nargs="*", default=["."], help="projects or directories (default: .)")
    clean.set_defaults(parser=clean)

    add_model_parser(commands)
    server = commands.add_parser("server", help="run the language server on stdin and stdout (edgelint[lsp])")
    server.set_defaults(parser=server)
    return parser


def _jobs(text: str) -> Optional[int]:
    """A number of processes; 0 and auto: one per CPU (None, the default)."""
    return None if text.strip().lower() == "auto" else _processes(text) or None


_processes = argtypes.at_least_zero(int, "a number of processes or auto")


def command() -> NoReturn:
    """The `edgelint` command (the console script, `python -m edgelint`): `main` in a process that
    ends with it. The cycle collector runs seldom (the model is millions of objects with few
    cycles). The process leaves once its output is flushed, without freeing what the run built
    object by object (as mypy does): that teardown is a few ms for a small project, more for a
    large one, and nothing in it is for the user."""
    gc.set_threshold(50_000, 20, 100)
    code = main()
    for stream in (sys.stdout, sys.stderr):  # in the order Python's own exit flushes them
        try:
            stream.flush()
        except OSError:  # the reader stopped early (as in `main`), a full disk
            code = EXIT_ERROR
    os._exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in SUBCOMMANDS and args_list[0] not in ("-h", "--help", "--version"):
        args_list.insert(0, "check")
    if not args_list:
        args_list = ["check"]
    parser = build_parser()
    args, unknown = parser.parse_known_args(args_list)
    if unknown:  # shown with the usage of the command they were given to, not the top-level one
        getattr(args, "parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command == "rule":
            return _rule(args)
        if args.command == "clean":
            return _clean(args)
        if args.command == "model":
            return _model(args)
        if args.command == "server":
            return _server()
        return _check(args)
    except ConfigError as exc:
        print(f"edgelint: error: {exc}", file=sys.stderr)
        if args.command in (None, "check") and args.format in WITH_NOTIFICATIONS:
            _report_problem(args, str(exc))
        return EXIT_ERROR
    except ModuleNotFoundError as exc:  # a dependency the environment lacks: one line, not a traceback
        if not exc.name or exc.name.split(".")[0] == "edgelint":
            raise  # a broken edgelint, not a missing dependency
        print(f"edgelint: error: {missing_package(exc.name)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader stopped early (`| head`): the rest of the output goes nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR


def _governing(args: argparse.Namespace) -> Governing:
    """What gives each file its settings: its nearest config file, or --config for every file,
    with the command line's flags over them."""
    overrides: Dict[str, Any] = {}
    for flag in ("select", "extend_select", "ignore"):
        codes = getattr(args, flag)
        if codes is not None:
            _validate_codes(codes, f"--{flag.replace('_', '-')}")
            overrides[flag] = codes
    if args.exclude is not None:
        overrides["exclude"] = []  # like ruff: --exclude replaces the configured `exclude`
    overrides["cli_exclude"] = (args.exclude or []) + (args.extend_exclude or [])
    if args.config:
        table = read_table(Path(args.config)) or {}
        return dataclasses.replace(parse_settings(table, args.config, KNOWN_CODES, RULE_OPTIONS), **overrides)
    return Resolver(KNOWN_CODES, RULE_OPTIONS, overrides)


def _validate_codes(codes: Sequence[str], flag: str) -> None:
    check_codes(codes, "command line", flag, KNOWN_CODES)


def _check(args: argparse.Namespace) -> int:
    if not args.paths:  # like ruff: a file name for stdin and no path mean stdin
        args.paths = ["-"] if args.stdin_filename else ["."]
    # A wrangler config (pre-commit passes it when it changed) stands for the project it governs.
    args.paths = [os.path.dirname(path) or "." if os.path.basename(path) in WRANGLER_FILES else path
                  for path in args.paths]
    governing = _governing(args)
    if args.show_settings:
        print(_show_settings(governing, args.show_settings), end="")
        return EXIT_CLEAN
    errors: List = []
    overrides: Dict[str, Union[str, bytes]] = {}
    warnings: List[Tuple[str, str]] = []
    targets, lint = _prepare(args, governing, overrides, errors, warnings)
    problems = [f"{path}: {problem}" for path, problem in errors]
    if args.show_files:
        print("".join(f"{target}\n" for target in targets), end="")
        _tell(args, warnings, problems)
        return EXIT_CLEAN
    if not targets:
        warnings.append(("", "No Python files found under the given paths"))
    result = lint()
    diff = ""
    if args.fix or args.diff:
        result, diff = _fix(args, result, lint, overrides, problems)
    result.findings = _adopt(args, result.findings)
    problems += result.errors + [str(error) for error in result.config_errors]
    output: Union[str, bytes] = _report(args, result, problems)
    if args.diff:
        output = diff  # the diff alone, so that it can be piped to `patch`
    elif args.fix and overrides:
        sys.stderr.write(output)  # stdin is fixed to stdout, like ruff: the report moves to stderr
        output = next(iter(overrides.values()))
    _write(output, args.output)
    _tell(args, warnings, problems)
    if result.findings and not args.quiet:
        fixable = sum(1 for f in result.findings if f.fix is not None and f.fix.applies(args.unsafe_fixes))
        noun = "problem" if len(result.findings) == 1 else "problems"
        print(f"Found {len(result.findings)} {noun} ({fixable} fixable with --fix).", file=sys.stderr)
    if problems or any(f.code == "EDG998" for f in result.findings):
        return EXIT_ERROR
    if result.findings and not args.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _report_problem(args: argparse.Namespace, problem: str) -> None:
    """A run stopped by a configuration error still leaves a valid SARIF or JSON document naming it."""
    try:
        _write(REPORTERS[args.format]([], [problem]), args.output)
    except ConfigError:
        pass  # the report cannot be written either: the error line said what matters


def _tell(args: argparse.Namespace, warnings: List[Tuple[str, str]], problems: List[str]) -> None:
    """Warnings (unless --quiet) and errors, one stderr line each."""
    for warning in [] if args.quiet else warnings:
        print(f"edgelint: warning: {': '.join(part for part in warning if part)}", file=sys.stderr)
    for problem in problems:
        print(f"edgelint: error: {problem}", file=sys.stderr)


def _report(args: argparse.Namespace, result: LintResult, problems: Sequence[str]) -> str:
    """The findings in the requested format (with the problems where the format carries them);
    with --statistics, the counts."""
    if args.statistics and args.format in TEXT_FORMATS:
        return _statistics(result.findings)  # like ruff: the counts replace the list
    if args.statistics:
        sys.stderr.write(_statistics(result.findings))  # keep machine-readable output valid
    if args.format in WITH_NOTIFICATIONS:
        return REPORTERS[args.format](result.findings, problems)
    if args.format not in TEXT_FORMATS:
        return REPORTERS[args.format](result.findings)
    full = args.format == "full" or args.show_source
    return text.render(result.findings, full, _colour(args), _source_lines(result) if full else None)


def _colour(args: argparse.Namespace) -> bool:
    """ANSI colours: as --color says; by default on a terminal unless NO_COLOR is set (FORCE_COLOR: always)."""
    if args.color != "auto":
        return args.color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (not args.output and sys.stdout.isatty())


def _source_lines(result: LintResult) -> text.SourceLine:
    """A file's lines as Python numbers them, read when a finding first needs them."""
    lines: Dict[str, List[str]] = {}

    def line_of(path: str, number: int) -> Optional[str]:
        if path not in lines:
            source = result.sources.get(path)
            if source is not None:
                load_source(source)
            lines[path] = NEWLINE.split(source.text or "") if source is not None else []
        return lines[path][number - 1] if 0 < number <= len(lines[path]) else None

    return line_of


def _show_settings(governing: Governing, path: str) -> str:
    """The settings that govern `path`, as TOML lines under comments naming where they come from."""
    settings = governing.settings_for(path)
    directory = Path(os.path.abspath(path)).parent
    project = governing.settings_for(str(project_root(directory, settings, Path(os.getcwd())) / "_"))
    lines = [f"# settings of {path}: {settings.path or 'the defaults (no configuration file found)'}",
             f"# its project's admin-markers and rules: {project.path or 'the defaults'}"]
    if settings.cli_exclude:
        lines.append(f"# excluded by the command line: {json.dumps(settings.cli_exclude)}")
    shown = dataclasses.asdict(settings)
    for key in ("path", "root", "cli_exclude"):
        del shown[key]
    lines += [f"{key.replace('_', '-')} = {json.dumps(value, default=lambda kind: kind.value)}"
              for key, value in shown.items()]
    return "\n".join(lines) + "\n"


def _prepare(args: argparse.Namespace, governing: Governing, overrides: Dict[str, Union[str, bytes]], errors: List,
             warnings: List[Tuple[str, str]]) -> Tuple[List[str], Callable[[], LintResult]]:
    """Discover the files of the paths: the targets, and how to lint them (again after --fix)."""
    targets = []
    if "-" in args.paths:
        name = args.stdin_filename or "stdin.py"
        overrides[name] = _read_stdin(name)
        if not (args.force_exclude and governing.settings_for(name).is_excluded(name, Path(os.getcwd()))):
            targets.append(name)
    targets += discover([p for p in args.paths if p != "-"], governing, errors, warnings, args.force_exclude)
    files = targets + _project_companions(targets, governing)
    # Files named on the command line (not found in a directory): checked whole for syntax errors.
    named = {*overrides, *(os.path.normpath(path) for path in args.paths if path != "-" and not os.path.isdir(path))}

    def lint() -> LintResult:
        """The targets' findings: companions are only context for them."""
        from edgelint.linting import lint_files
        from edgelint.parallel import default_jobs

        result = lint_files(files, governing, Path(os.getcwd()), use_filter=not args.no_filter, overrides=overrides,
                            jobs=args.jobs or default_jobs(), use_cache=not args.no_cache, named=named)
        if len(files) > len(targets):
            wanted = set(targets)
            result.findings = [finding for finding in result.findings if finding.path in wanted]
            # A companion that cannot be read was only context: the user did not ask about it.
            result.errors = [error for error in result.errors if error.split(": ", 1)[0] in wanted]
        return result

    return targets, lint


def _adopt(args: argparse.Namespace, findings: List[Finding]) -> List[Finding]:
    """Baseline and --add-noqa: the findings still to report."""
    if args.write_baseline:
        from edgelint.baseline import write_baseline

        write_baseline(args.write_baseline, findings)
        print(f"Wrote {_count(len(findings), 'finding')} to baseline {args.write_baseline}.", file=sys.stderr)
        return []
    if args.baseline:
        from edgelint.baseline import new_findings

        findings = new_findings(args.baseline, findings)
    if args.add_noqa:
        if "-" in args.paths or args.diff:
            raise ConfigError("--add-noqa", "writes files: not possible with stdin or --diff")
        from edgelint.add_noqa import add_noqa

        outcome = add_noqa(findings)
        print(f"Added {_count(outcome.added, 'noqa suppression')} in {_count(outcome.files, 'file')}.", file=sys.stderr)
        return outcome.remaining
    return findings


def _fix(args: argparse.Namespace, result: LintResult, lint: Callable[[], LintResult],
         overrides: Dict[str, str], problems: List[str]) -> Tuple[LintResult, str]:
    """--fix / --diff: apply (or only show) the fixes; after writing, lint again so the report shows
    what remains. Code read from stdin is never written to a file: its fixed text goes to stdout."""
    from edgelint.fixes import plan_fixes, render_diff, write_fix

    fixed_paths = {finding.path for finding in result.findings if finding.fix is not None}
    texts = {path: result.sources[path].text for path in fixed_paths if path in result.sources}
    planned, refused = plan_fixes(result.findings, texts, args.unsafe_fixes)
    problems.extend(refused)
    if args.diff:
        print(f"Would fix {_count(sum(f.fixed for f in planned), 'problem')}.", file=sys.stderr)
        return result, render_diff(planned)
    fixed = 0
    for file_fix in planned:
        if file_fix.path in overrides:
            overrides[file_fix.path] = file_fix.after
        else:
            problem = write_fix(file_fix, result.sources[file_fix.path].digest)
            if problem is not None:
                problems.append(problem)
                continue
        fixed += file_fix.fixed
    if not fixed:
        return result, ""
    print(f"Fixed {_count(fixed, 'problem')}.", file=sys.stderr)
    return lint(), ""


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _project_companions(targets: Sequence[str], governing: Governing) -> List[str]:
    """Other files of the Workers projects the targets belong to: a named file (or stdin) is analysed
    with its helpers and reported alone, as the flake8 plugin does. Only projects with a wrangler
    config have a known extent."""
    present = {os.path.abspath(path) for path in targets}
    roots: Set[Path] = set()
    companions: List[str] = []
    for directory in sorted({Path(os.path.abspath(path)).parent for path in targets}):
        settings = governing.settings_for(str(directory / "_"))
        if not settings.wrangler_config and find_wrangler_config(directory) is None:
            continue
        root = project_root(directory, settings, directory)
        if root in roots:
            continue
        roots.add(root)
        for path in project_files_of(str(directory / "_"), governing)[1]:
            if path not in present:
                present.add(path)
                companions.append(path)
    return companions


def _statistics(findings) -> str:
    from edgelint.rules import RULES_BY_CODE

    counts = Counter(f.code for f in findings)
    lines = []
    for code, count in sorted(counts.items()):
        rule = RULES_BY_CODE.get(code)
        name = rule.name if rule else ""
        fix = "fixable" if rule is not None and rule.fixable else ""
        lines.append(f"{count:5d}\t{code}\t{name}\t{fix}".rstrip())
    return "\n".join(lines) + ("\n" if lines else "")


def _read_stdin(name: str) -> bytes:
    """Code piped in, as bytes: it is decoded as Python decodes a file (coding cookie, BOM), not by
    the locale."""
    if sys.stdin is None:
        raise ConfigError(name, "no standard input to read")
    return sys.stdin.buffer.read()


def _write(text: Union[str, bytes], output: Optional[str]) -> None:
    """The report (or code fixed from stdin: bytes when it could not be decoded) to stdout or `output`."""
    if isinstance(text, bytes) and not output:
        sys.stdout.flush()
        sys.stdout.buffer.write(text)
        return
    if not output:
        sys.stdout.write(text)
        return
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    try:
        if os.path.exists(output) and not os.path.isfile(output) and not os.path.isdir(output):
            with open(output, "wb") as stream:  # a pipe or a device: written in place
                stream.write(data)
        else:
            from edgelint.atomic import write_atomic

            write_atomic(output, data)  # a file: replaced whole, never half-written
    except OSError as exc:
        raise ConfigError(output, f"cannot write the report: {exc.strerror or exc}") from None


def _model(args: argparse.Namespace) -> int:
    output, warnings, problems = run_model(args, _governing(args))
    _write(output, args.output)
    _tell(args, warnings, problems)
    return EXIT_ERROR if problems else EXIT_CLEAN


def _clean(args: argparse.Namespace) -> int:
    """Remove the cache of each path's project and any cache below the paths."""
    roots = set()
    for path in args.paths:
        start = Path(path)
        if not start.exists():
            raise ConfigError(path, "no such file or directory")
        directory = start if start.is_dir() else start.parent
        roots.add(project_root(directory, load_settings(start, KNOWN_CODES, RULE_OPTIONS), Path(os.getcwd())))
        for current, dirnames, _ in os.walk(start):
            if CACHE_DIR in dirnames:
                roots.add(Path(current).resolve())
            dirnames[:] = [name for name in dirnames if name not in DEFAULT_EXCLUDES]
    for root in sorted(roots):
        if remove_cache(root):
            print(f"Removed {root / CACHE_DIR}", file=sys.stderr)
    _stop_resident_edgelint()
    return EXIT_CLEAN


def _stop_resident_edgelint() -> None:
    """The resident edgelint that answers the flake8 plugin keeps findings in memory: it leaves too."""
    from edgelint import daemon

    address = daemon.address() if daemon.supported() else None
    if address is not None and daemon.stop(address):
        print("Stopped the resident edgelint (edgelint.daemon)", file=sys.stderr)


def _server() -> int:
    try:
        from edgelint.lsp.server import serve
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] not in ("pygls", "lsprotocol"):
            raise
        print("edgelint: error: the language server needs pygls: pip install 'edgelint[lsp]'", file=sys.stderr)
        return EXIT_ERROR
    serve()
    return EXIT_CLEAN


def _rule(args: argparse.Namespace) -> int:
    from edgelint.rules import ALL_RULES, DOCUMENTED

    if args.all:
        if args.format == "json":
            print(json.dumps([_rule_summary(rule) for rule in ALL_RULES], indent=2))
        else:
            for rule in ALL_RULES:
                print(f"{rule.code}  {rule.name:<28} {rule.severity:<8} {rule.summary}")
        return EXIT_CLEAN
    if not args.code:
        print("edgelint: error: name a rule code (edgelint rule EDG101) or use --all", file=sys.stderr)
        return EXIT_ERROR
    rule = DOCUMENTED.get(args.code.upper()) or DOCUMENTED.get(args.code.lower())
    if rule is None:
        print(f"edgelint: error: unknown rule code or name '{args.code}'", file=sys.stderr)
        return EXIT_ERROR
    if args.format == "json":
        print(json.dumps(dict(_rule_summary(rule), documentation=rule.documentation()), indent=2))
    else:
        print(rule.documentation(), end="")
    return EXIT_CLEAN


def _rule_summary(rule) -> dict:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity, "summary": rule.summary,
            "fixable": rule.fixable, "url": rule.url()}
