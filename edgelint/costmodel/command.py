"""`edgelint model`: the arguments and the run."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import List, Tuple

from edgelint.argtypes import at_least_zero, patterns
from edgelint.discovery import Governing, discover

FORMATS = ("text", "json", "markdown", "mermaid", "html")
PLANS = ("paid", "free")
EPILOG = """\
examples:
  edgelint model                          each route's KV and Durable Object operations per request
  edgelint model src/ --traffic 100       ... and the monthly cost at 100 requests/s to the Worker

exit codes: 0 the model was printed; 2 a usage, configuration or internal error
"""


def add_parser(commands) -> argparse.ArgumentParser:
    """The `model` subcommand."""
    model = commands.add_parser("model", help="each route's KV and Durable Object traffic and its cost",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    model.add_argument("paths", nargs="*", default=["."], help="files or directories (default: .)")
    model.add_argument("--config", help="read settings from this TOML file")
    model.add_argument("--exclude", type=patterns, metavar="PATTERNS", help="comma-separated patterns to skip")
    model.add_argument("--extend-exclude", type=patterns, metavar="PATTERNS", help="more patterns to skip")
    model.add_argument("--traffic", action="append", default=[], metavar="RATE",
                       help="requests per second to the Worker (100, 3000000/month) or to a route "
                            "(\"GET /views/*=200\"); repeatable")
    model.add_argument("--traffic-file", metavar="FILE",
                       help="a TOML file: [traffic] \"GET /views/*\" = 200, worker = 100")
    model.add_argument("--plan", choices=PLANS, default="paid", help="the Workers plan whose allowances apply")
    model.add_argument("--items-per-loop", type=_positive, default=1.0, metavar="N",
                       help="items a loop runs over, for the cost (default 1)")
    model.add_argument("--connection-seconds", type=_positive, default=300.0, metavar="S",
                       help="how long a WebSocket stays open, for keep-alive duration (default 300)")
    model.add_argument("--format", choices=FORMATS, default="text",
                       help="text (default), json, markdown, mermaid or html (one self-contained page)")
    model.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    model.add_argument("--output", "-o", help="write the model to this file")
    model.set_defaults(parser=model, select=None, extend_select=None, ignore=None, quiet=False)
    return model


_positive = at_least_zero(float, "a number of at least 0")


def run(args: argparse.Namespace, governing: Governing) -> Tuple[str, List[Tuple[str, str]], List[str]]:
    """The rendered model, the warnings (no file; a file that does not parse is left out of the
    model) and the problems (files that could not be read) to report."""
    # Imported here: building the parser must not load the engine (`check` answered from the cache).
    from edgelint.costmodel import render_html, render_json, render_markdown, render_mermaid, render_text
    from edgelint.costmodel.analysis import model_projects
    from edgelint.costmodel.costs import Assumptions
    from edgelint.costmodel.report import reports_of
    from edgelint.costmodel.traffic import parse_traffic

    errors: List = []
    warnings: List[Tuple[str, str]] = []
    files = discover(args.paths, governing, errors, warnings, False)
    if not files:
        warnings.append(("", "No Python files found under the given paths"))
    traffic = parse_traffic(args.traffic, args.traffic_file)
    models = model_projects(files, governing, Path(os.getcwd()), use_cache=not args.no_cache)
    reports = reports_of(models, traffic, args.plan, Assumptions(args.items_per_loop, args.connection_seconds))
    renderer = {"text": render_text.render, "json": render_json.render, "markdown": render_markdown.render,
                "mermaid": render_mermaid.render, "html": render_html.render}[args.format]
    warnings += [(f"{finding.path}:{finding.line}", f"{finding.code} {finding.message} (left out of the model)")
                 for model in models for finding in model.unmodelled]
    return renderer(reports), warnings, [f"{path}: {problem}" for path, problem in errors]
