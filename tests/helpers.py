"""Shared test helpers: write a small project to disk and lint it through the engine."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Set, Tuple

from edgelint.config import Resolver
from edgelint.discovery import discover
from edgelint.engine import lint_files
from edgelint.rules import KNOWN_CODES, RULE_OPTIONS
from edgelint.rules.base import EXPECT_MARKER

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
Marker = Tuple[str, int, str]  # (relative path, line, code)


# Every fixture project: the demo Worker, the projects and the examples.
FIXTURE_PROJECTS = sorted([FIXTURES / "demo-worker"] + [path for parent in ("projects", "examples")
                                                        for path in (FIXTURES / parent).iterdir() if path.is_dir()])


def findings_at(root: Path, jobs: int) -> List[Tuple]:
    """The findings of a cold run over `root` on `jobs` processes, as comparable tuples (positions,
    messages, related places and fixes)."""
    resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
    files = discover([str(root)], resolver, [])
    result = lint_files(files, resolver, root, jobs=jobs)
    return [(f.path, f.line, f.column, f.code, f.message, f.related, f.fix) for f in result.findings]


def assert_same_as_parsed_here(text: str, tree: Any, calls: List[Any]) -> None:
    """`tree` and `calls` (unpickled: from a process parsing ahead, from the tree store) are what
    parsing `text` here gives: the same code, the calls in the same order, and the very same
    shared nodes at the same places."""
    from edgelint.model import parsing

    here_calls: List[Any] = []
    here = parsing.parse_module(text, here_calls)
    assert tree.code == here.code
    assert [here.code_for_node(call) for call in calls] == [here.code_for_node(call) for call in here_calls]
    pairs = [(tree, here)]
    while pairs:
        taken_node, parsed_node = pairs.pop()
        assert type(taken_node) is type(parsed_node)
        assert parsing.is_shared(taken_node) == parsing.is_shared(parsed_node)
        if parsing.is_shared(parsed_node):
            assert taken_node is parsed_node
            continue
        taken_children, parsed_children = taken_node.children, parsed_node.children
        assert len(taken_children) == len(parsed_children)
        pairs.extend(zip(taken_children, parsed_children))


def write_project(root: Path, files: Dict[str, str]) -> None:
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def lint_directory(root: Path, use_filter: bool = True, use_cache: bool = False):
    resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
    errors: list = []
    files = discover([str(root)], resolver, errors)
    result = lint_files(files, resolver, root, use_filter=use_filter, use_cache=use_cache)
    assert not errors, errors
    return result


def found_markers(root: Path, findings: Iterable) -> Set[Marker]:
    return {(Path(os.path.relpath(f.path, root)).as_posix(), f.line, f.code) for f in findings}


def expected_markers(root: Path) -> Set[Marker]:
    expected: Set[Marker] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT_MARKER.search(line)
            if match:
                for code in match.group(1).replace(",", " ").split():
                    expected.add((relative, number, code))
    return expected


def git(*args: str, cwd: Path) -> str:
    identity = ("-c", "user.name=edgelint tests", "-c", "user.email=tests@edgelint.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")
    completed = subprocess.run(["git", *identity, *args], cwd=cwd, capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def pre_commit(project: Path, files: Dict[str, str], hook_repo: Tuple[str, str], home: str,
               hook: str = "edgelint", *args: str, **env: str) -> subprocess.CompletedProcess:
    """`pre-commit run` of `hook` (`args`, by default --all-files) in a new git repository of
    `files` at `project`, with `env` added to the environment."""
    path, sha = hook_repo
    config = f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n      - id: {hook}\n"
    write_project(project, dict(files, **{".pre-commit-config.yaml": config}))
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    return run_pre_commit(project, home, *args, **env)


def run_pre_commit(project: Path, home: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PRE_COMMIT_HOME": home, "PRE_COMMIT_COLOR": "never", **env}
    environment.pop("PYTHONPATH", None)  # the hook must run the edgelint pre-commit installed
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", *(args or ("--all-files",))], cwd=project,
                          capture_output=True, text=True, env=environment, timeout=600)
