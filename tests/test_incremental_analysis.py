"""Incremental analysis is exact: after every edit of a random sequence (a key changed, a bug added
or removed, a call added, a module deleted or created, the wrangler config or a setting changed),
a run that replays what the cache kept reports exactly what a cold run reports — for the CLI's
engine and for the flake8 plugin."""
from __future__ import annotations

import random
import re
import shutil
import sys
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import pytest

from edgelint import engine, flake8_plugin, linting
from edgelint.cache import ANALYSIS_SUFFIX, CACHE_DIR
from edgelint.config import Resolver
from edgelint.discovery import discover
from edgelint.engine import lint_files
from edgelint.linting import AnalysisMemories
from edgelint.rules import KNOWN_CODES, RULE_OPTIONS
from tests.helpers import FIXTURES

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import write_corpus  # noqa: E402 - the bench's generator of Workers projects


def _lint(root: Path, use_cache: bool, memories: Optional[AnalysisMemories] = None) -> List[Tuple]:
    resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
    files = discover([str(root)], resolver, [])
    result = lint_files(files, resolver, root, use_cache=use_cache, memories=memories)
    return [(f.path, f.line, f.column, f.code, f.message, f.related, f.fix) for f in result.findings]


def _modules(root: Path) -> List[Path]:
    return sorted(path for path in root.rglob("*.py") if ".edgelint_cache" not in path.parts)


def _change_a_key(root: Path, rng: random.Random) -> None:
    path = rng.choice(_modules(root))
    text = path.read_text(encoding="utf-8")
    keys = list(re.finditer(r'"([a-z_]+):', text))
    if keys:
        match = rng.choice(keys)
        path.write_text(text[:match.start(1)] + match.group(1) + "x" + text[match.end(1):], encoding="utf-8")


def _add_a_bug(root: Path, rng: random.Random) -> None:
    path = rng.choice(_modules(root))
    number = rng.randrange(1000)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f'\n\nasync def bump_{number}(env):\n    n = int(await env.VIEWS.get("k{number}") or 0)\n'
                     f'    await env.VIEWS.put("k{number}", str(n + 1))\n')


def _remove_a_bug(root: Path, rng: random.Random) -> None:
    for path in rng.sample(_modules(root), len(_modules(root))):
        text = path.read_text(encoding="utf-8")
        added = list(re.finditer(r"\n\nasync def bump_\d+\(env\):\n(    .*\n)+", text))
        if added:
            match = rng.choice(added)
            path.write_text(text[:match.start()] + text[match.end():], encoding="utf-8")
            return


def _add_a_call(root: Path, rng: random.Random) -> None:
    path = rng.choice(_modules(root))
    text = path.read_text(encoding="utf-8")
    if "from app import" in text and "    async def fetch(self, request):\n" in text:
        path.write_text(text.replace("    async def fetch(self, request):\n",
                                     "    async def fetch(self, request):\n"
                                     "        await peer.save_record(self.env, \"last\", {})\n", 1), encoding="utf-8")


def _break_or_mend_the_syntax(root: Path, rng: random.Random) -> None:
    broken = "\n\ndef broken(:\n    pass\n"
    for path in _modules(root):
        text = path.read_text(encoding="utf-8")
        if broken in text:
            path.write_text(text.replace(broken, ""), encoding="utf-8")
            return
    path = rng.choice(_modules(root))
    path.write_text(path.read_text(encoding="utf-8") + broken, encoding="utf-8")


def _delete_or_create_a_module(root: Path, rng: random.Random) -> None:
    spare = root / "src" / "app" / "spare.py"
    if spare.exists():
        spare.unlink()
    else:
        spare.write_text('from workers import WorkerEntrypoint\n\n\nclass Spare(WorkerEntrypoint):\n'
                         '    async def fetch(self, request):\n        await self.env.CACHE.put("spare", "1")\n',
                         encoding="utf-8")


def _change_the_wrangler_config(root: Path, rng: random.Random) -> None:
    config = root / "wrangler.toml"
    text = config.read_text(encoding="utf-8")
    extra = '[[kv_namespaces]]\nbinding = "EXTRA"\nid = "e"\n\n'
    config.write_text(text.replace(extra, "") if extra in text else extra + text, encoding="utf-8")


def _change_a_setting(root: Path, rng: random.Random) -> None:
    pyproject = root / "pyproject.toml"
    if pyproject.exists():
        pyproject.unlink()
    else:
        pyproject.write_text('[tool.edgelint]\nignore = ["EDG105"]\nadmin-markers = ["admin", "peer"]\n',
                             encoding="utf-8")


EDITS: List[Callable[[Path, random.Random], None]] = [
    _change_a_key, _change_a_key, _add_a_bug, _add_a_bug, _remove_a_bug, _add_a_call,
    _delete_or_create_a_module, _change_the_wrangler_config, _change_a_setting, _break_or_mend_the_syntax,
]


def edit_and_compare(root: Path, rng: random.Random, steps: int, lint: Callable[[Path], List[Tuple]],
                     edits: List[Callable[[Path, random.Random], None]] = EDITS,
                     after: Callable[[Callable], None] = lambda edit: None) -> None:
    """`steps` edits drawn from `edits`: before the first and after each (and `after(edit)`),
    `lint(root)` reports what a cold run reports."""
    assert lint(root) == _lint(root, use_cache=False)
    for step in range(steps):
        edit = rng.choice(edits)
        edit(root, rng)
        after(edit)
        assert lint(root) == _lint(root, use_cache=False), f"step {step}: {edit.__name__}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edits_give_what_a_cold_run_gives(tmp_path, seed):
    root = tmp_path / "worker"
    write_corpus(root, 14, seed=seed)
    edit_and_compare(root, random.Random(seed), 14, lambda root: _lint(root, use_cache=True))


@pytest.mark.parametrize("seed", [4, 5])
def test_an_analysis_kept_in_the_process_gives_what_a_cold_run_gives(tmp_path, seed):
    """The language server's path: no disk cache, each analysis starting from the last one's memory
    (forgotten when settings or bindings change, as the server forgets it)."""
    root = tmp_path / "worker"
    write_corpus(root, 14, seed=seed)
    memories = AnalysisMemories()

    def forget_on_new_settings(edit: Callable) -> None:
        if edit in (_change_the_wrangler_config, _change_a_setting):
            memories.clear()

    edit_and_compare(root, random.Random(seed), 14, lambda root: _lint(root, False, memories),
                     after=forget_on_new_settings)


def test_the_flake8_plugin_answers_an_edited_file_as_a_cold_run_does(tmp_path):
    root = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo-worker", root)
    _lint(root, use_cache=True)
    rng = random.Random(7)
    for _ in range(6):
        edit = rng.choice([_add_a_bug, _remove_a_bug, _change_a_key])
        edit(root, rng)
        cold = _lint(root, use_cache=False)
        for path in _modules(root):
            text = path.read_text(encoding="utf-8")
            found = flake8_plugin.lint_in_project(str(path), text)
            expected = [(line, column - 1, f"{code} {message}") for file, line, column, code, message, *_ in cold
                        if Path(file) == path]
            assert sorted(found) == sorted(expected), path


def test_a_run_spelling_paths_otherwise_replays_the_same_analysis(tmp_path, run_cli):
    """`check .`, `check /abs/file.py` and flake8 share what the cache kept, each with its own spelling."""
    root = tmp_path / "worker"
    write_corpus(root, 8, seed=4)
    target = "src/app/mod_0003.py"
    run_cli("check", ".", cwd=root)
    _add_a_bug(root, random.Random(9))
    with (root / target).open("a", encoding="utf-8") as handle:
        handle.write('\n\nasync def spelled(env):\n    n = int(await env.VIEWS.get("s") or 0)\n'
                     '    await env.VIEWS.put("s", str(n + 1))\n')
    absolute = run_cli("check", str(root / target), cwd=root)[1]
    assert absolute == run_cli("check", "--no-cache", str(root / target), cwd=root)[1]
    assert f"{root / target}:" in absolute
    relative = run_cli("check", ".", cwd=root)[1]
    assert relative == run_cli("check", "--no-cache", ".", cwd=root)[1]
    assert f"\n{target}:" in "\n" + relative and str(root) not in relative


def test_an_edit_to_a_leaf_module_leaves_the_memory_a_larger_one_rewrites_it(tmp_path, monkeypatch):
    """Writing the analysis's memory costs about what analysing a dozen roots does: after an edit
    inside functions whose roots are few, the last memory stays (and still answers for every other
    module)."""
    root = tmp_path / "worker"
    write_corpus(root, 14, seed=6)
    _lint(root, use_cache=True)
    [memory] = (root / CACHE_DIR).glob(f"*{ANALYSIS_SUFFIX}")
    written = memory.read_bytes()
    for seed in (1, 2):  # two edits: the second run analyses both modules again
        _change_a_key(root, random.Random(seed))
        assert _lint(root, use_cache=True) == _lint(root, use_cache=False)
        assert memory.read_bytes() == written
    monkeypatch.setattr(linting, "REWRITE_MEMORY_AFTER_ROOTS", 0)
    _change_a_key(root, random.Random(3))
    assert _lint(root, use_cache=True) == _lint(root, use_cache=False)
    assert memory.read_bytes() != written


def test_after_an_edit_that_changes_the_shape_the_next_edit_takes_the_shortcut(tmp_path, monkeypatch):
    """A function added to a leaf module changes the project's shape: that run indexes the
    project, and leaves its memory (the last one's shape would not fit the next run either), so
    that the next edit inside a function builds only the modules its roots read."""
    root = tmp_path / "worker"
    write_corpus(root, 30, seed=7)
    _lint(root, use_cache=True)
    [memory] = (root / CACHE_DIR).glob(f"*{ANALYSIS_SUFFIX}")
    written = memory.read_bytes()
    leaf = _modules(root)[-1]
    leaf.write_text(leaf.read_text(encoding="utf-8") + "\n\ndef added(x):\n    return x + 1\n", encoding="utf-8")
    assert _lint(root, use_cache=True) == _lint(root, use_cache=False)
    assert memory.read_bytes() != written
    leaf.write_text(leaf.read_text(encoding="utf-8").replace("return x + 1", "return x + 2"), encoding="utf-8")
    built = _counting_builds(monkeypatch)
    edited = _lint(root, use_cache=True)
    assert str(leaf) in built and len(set(built)) <= 3, built  # the leaf and what its roots import
    monkeypatch.undo()
    assert edited == _lint(root, use_cache=False)


def _counting_builds(monkeypatch) -> List[str]:
    """The paths of the modules each later run builds (indexes), in order."""
    built: List[str] = []
    parse = engine.ProjectRun._parse

    def counted(self, path):
        built.append(path)
        return parse(self, path)

    monkeypatch.setattr(engine.ProjectRun, "_parse", counted)
    return built


def test_an_edit_inside_a_function_builds_only_the_modules_its_roots_read(tmp_path, monkeypatch):
    """A run after an edit that keeps the project's shape (the same files, configs and module
    interfaces) replays the other roots without indexing their modules."""
    root = tmp_path / "worker"
    write_corpus(root, 30, seed=7)
    _lint(root, use_cache=True)
    texts = {path: path.read_text(encoding="utf-8") for path in _modules(root)}
    imported = set(re.findall(r"^from app import (\w+)", "".join(texts.values()), re.M))
    leaf = next(path for path, text in texts.items() if '"hits"' in text and path.stem not in imported)
    leaf.write_text(texts[leaf].replace('"hits"', '"visits"'), encoding="utf-8")
    built = _counting_builds(monkeypatch)
    edited = _lint(root, use_cache=True)
    assert 1 <= len(set(built)) <= 3 and str(leaf) in built
    assert any('"visits"' in finding[4] for finding in edited)
    monkeypatch.undo()
    assert edited == _lint(root, use_cache=False)


def test_an_edit_that_changes_what_a_root_reaches_analyses_the_whole_project_again(tmp_path, monkeypatch):
    """A function that no root reached is a root of its own; once an edited root calls it, it is
    not: which functions are roots changed, so the run starts over and indexes every module."""
    root = tmp_path / "worker"
    (root / "src").mkdir(parents=True)
    (root / "wrangler.toml").write_text('name = "w"\nmain = "src/entry.py"\n\n[[kv_namespaces]]\n'
                                        'binding = "VIEWS"\nid = "v"\n', encoding="utf-8")
    entry = root / "src" / "entry.py"
    entry.write_text("from workers import Response, WorkerEntrypoint\n\nimport other\n\n\n"
                     "async def bump(env):\n    n = int(await env.VIEWS.get(\"hits\") or 0)\n"
                     "    await env.VIEWS.put(\"hits\", str(n + 1))\n\n\n"
                     "class Default(WorkerEntrypoint):\n    async def fetch(self, request):\n"
                     "        return Response(\"ok\")\n", encoding="utf-8")
    (root / "src" / "other.py").write_text("async def peek(env):\n    return await env.VIEWS.get(\"last\")\n",
                                           encoding="utf-8")
    _lint(root, use_cache=True)
    entry.write_text(entry.read_text(encoding="utf-8").replace(
        '        return Response("ok")', '        await bump(self.env)\n        return Response("ok")'), encoding="utf-8")
    built = _counting_builds(monkeypatch)
    edited = _lint(root, use_cache=True)
    assert str(root / "src" / "other.py") in built
    monkeypatch.undo()
    assert edited == _lint(root, use_cache=False)


def test_a_syntax_error_in_an_edited_module_is_reported_once(tmp_path):
    """An edit that breaks a module's syntax changes its shape: the run indexes the project
    again, and the error found while trying the shortcut is not reported twice."""
    root = tmp_path / "worker"
    write_corpus(root, 12, seed=8)
    _lint(root, use_cache=True)
    path = _modules(root)[3]
    path.write_text(path.read_text(encoding="utf-8") + "\n\ndef broken(:\n    pass\n", encoding="utf-8")
    edited = _lint(root, use_cache=True)
    assert [finding[3] for finding in edited].count("EDG999") == 1
    assert edited == _lint(root, use_cache=False)


def test_a_string_edited_in_each_module_of_every_fixture_project_gives_what_a_cold_run_gives(tmp_path, monkeypatch):
    """Each fixture project (FastAPI routes, Durable Objects, tests with doubles, several configs...)
    analysed with the cache, then each of its modules edited in turn (a string literal changed:
    an edit that keeps the project's shape): every run reports what a cold run reports, and most
    take the shortcut that builds only what the edited roots read."""
    paths = {"shortcut": 0, "whole": 0}
    replaying = engine.ProjectRun._run_replaying

    def counted(run):
        found = replaying(run)
        if run.previous is not None and run.previous.shape is not None:
            paths["shortcut" if found is not None else "whole"] += 1
        return found

    monkeypatch.setattr(engine.ProjectRun, "_run_replaying", counted)
    projects = [FIXTURES / "demo-worker"] + [path for parent in ("projects", "examples")
                                             for path in (FIXTURES / parent).iterdir() if path.is_dir()]
    for project in sorted(projects):
        root = tmp_path / project.parent.name / project.name
        shutil.copytree(project, root, ignore=shutil.ignore_patterns(".edgelint_cache"))
        _lint(root, use_cache=True)
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            literal = re.search(r'"([A-Za-z_][\w:-]*)"', text)
            if literal:
                path.write_text(text[:literal.end(1)] + "x" + text[literal.end(1):], encoding="utf-8")
                assert _lint(root, use_cache=True) == _lint(root, use_cache=False), path
    assert paths["shortcut"] > 100 and paths["whole"] < paths["shortcut"] / 10, paths
