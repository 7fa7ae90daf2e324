"""The trees of large modules kept between runs (edgelint.tree_bytes.TreeStore) change nothing but
the time: after every edit of a random sequence, with every module's trees kept, a run reports
what a cold run reports; after an edit of one function of a large module, only that function is
parsed, and every tree the store holds is the tree a parse gives; a corrupt or foreign file of
trees means parsing."""
from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import libcst as cst
import pytest

from edgelint import engine, tree_bytes
from edgelint.cache import CACHE_DIR, TREES_SUFFIX
from edgelint.linting import AnalysisMemories
from tests.helpers import assert_same_as_parsed_here, write_project
from tests.test_incremental_analysis import _add_a_bug, _add_a_call, _lint, _remove_a_bug, edit_and_compare

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import write_corpus, write_monolith  # noqa: E402 - the bench's generator of Workers projects


@pytest.fixture
def taken(monkeypatch):
    """The trees each run took from the store (by text), in a list of runs."""
    runs = []
    keep = engine.ProjectRun._keep_trees

    def recorded(run):
        runs.append(dict(run.trees.taken) if run.trees is not None else {})
        keep(run)

    monkeypatch.setattr(engine.ProjectRun, "_keep_trees", recorded)
    return runs


def _trees_file(root: Path) -> Path:
    [found] = (root / CACHE_DIR).glob(f"*{TREES_SUFFIX}")
    return found


@pytest.mark.parametrize("seed", [6, 7])
def test_random_edits_with_every_module_kept_give_what_a_cold_run_gives(tmp_path, seed, monkeypatch, taken):
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 0)
    root = tmp_path / "worker"
    write_corpus(root, 10, seed=seed)
    edit_and_compare(root, random.Random(seed), 10, lambda root: _lint(root, use_cache=True))
    assert sum(len(trees) for trees in taken) > 20


def test_an_analysis_kept_in_the_process_keeps_its_trees_too(tmp_path, monkeypatch, taken):
    """The language server's path (no disk cache): the trees stay in the process with the memory."""
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 0)
    root = tmp_path / "worker"
    write_corpus(root, 10, seed=8)
    memories = AnalysisMemories()
    edit_and_compare(root, random.Random(8), 8, lambda root: _lint(root, False, memories),
                     edits=[_add_a_bug, _remove_a_bug, _add_a_call])
    assert sum(len(trees) for trees in taken) > 10


def test_an_edit_of_a_large_module_parses_only_what_changed(tmp_path, monkeypatch, taken):
    write_monolith(tmp_path, routes=60)
    assert _lint(tmp_path, use_cache=True) == _lint(tmp_path, use_cache=False)
    kept = tree_bytes.TreeStore(_stored(tmp_path))
    assert len(kept._by_text) > 60  # every route's function, and the helpers
    _edit_the_helper_every_route_uses(tmp_path)
    parsed = []
    parse = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda text: parsed.append(text) or parse(text))
    taken.clear()
    edited = _lint(tmp_path, use_cache=True)
    assert len(parsed) == 1 and "v2:" in parsed[0]  # the class holding the edited helper
    assert len(taken[0]) == len(kept._by_text) - 1
    monkeypatch.setattr(cst, "parse_module", parse)
    assert edited == _lint(tmp_path, use_cache=False)
    for text, data in tree_bytes.TreeStore(_stored(tmp_path))._by_text.items():
        assert_same_as_parsed_here(text, *tree_bytes.loads(data))


def _edit_the_helper_every_route_uses(root: Path) -> None:
    worker = root / "src" / "worker.py"
    worker.write_text(re.sub(r'return f"\{self\.prefix\}\{key\}"', 'return f"{self.prefix}v2:{key}"',
                             worker.read_text(encoding="utf-8"), count=1), encoding="utf-8")


def _stored(root: Path):
    from edgelint.cache import Slot  # the file's own reader: the header, the compression

    slot = Slot.__new__(Slot)
    slot.trees_file = _trees_file(root)
    return slot.load_trees()


@pytest.mark.parametrize("content", [b"not a pickle", None])
def test_a_corrupt_or_foreign_file_of_trees_means_parsing(tmp_path, monkeypatch, taken, content):
    write_monolith(tmp_path, routes=30)
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 0)
    assert _lint(tmp_path, use_cache=True) == _lint(tmp_path, use_cache=False)
    trees = _trees_file(tmp_path)
    if content is None:  # made by another libcst
        monkeypatch.setattr("edgelint.cache._trees_header", lambda: ("another", "libcst"))
    else:
        trees.write_bytes(content)
    _edit_the_helper_every_route_uses(tmp_path)
    taken.clear()
    assert _lint(tmp_path, use_cache=True) == _lint(tmp_path, use_cache=False)
    assert taken == [{}, {}]  # (the cold run's store is empty: no cache)


def test_a_large_module_keeps_its_trees_when_an_edit_elsewhere_enters_few_of_them(tmp_path, monkeypatch):
    """A module of many helpers (over the threshold) of which a route calls two: after an edit of
    the route's module, the helpers' stored trees stay (taken or not, they are still the helpers')."""
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 2_000)
    helpers = "".join(f"async def helper_{index}(env, key):\n    return await env.VIEWS.get(f'h{index}:{{key}}')\n\n\n"
                      for index in range(60))
    write_project(tmp_path, {
        "wrangler.toml": '[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n',
        "src/lib.py": helpers,
        "src/entry.py": ("from lib import helper_1, helper_2\n\n\nasync def on_fetch(request, env):\n"
                         "    count = int(await helper_1(env, 'a') or 0)\n    await helper_2(env, 'b')\n"
                         "    await env.VIEWS.put('count', str(count + 1))\n"),
    })
    assert _lint(tmp_path, use_cache=True) == _lint(tmp_path, use_cache=False)
    before = _stored(tmp_path)
    [lib] = [path for path in before if path.endswith("lib.py")]
    assert len(before[lib]) >= 2
    entry = tmp_path / "src" / "entry.py"
    entry.write_text(entry.read_text(encoding="utf-8").replace("'count'", "'total'"), encoding="utf-8")
    assert _lint(tmp_path, use_cache=True) == _lint(tmp_path, use_cache=False)
    assert _stored(tmp_path)[lib] == before[lib]


def test_a_tree_that_does_not_pickle_is_parsed_next_time(tmp_path, monkeypatch):
    """Pickling recurses deeper than parsing: a tree too deep for it (RecursionError) is left out
    of the store, and the run reports as it would."""
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 0)
    write_monolith(tmp_path, routes=10)
    cold = _lint(tmp_path, use_cache=False)
    dumps = tree_bytes.dumps

    def too_deep(tree, calls):
        if "route_3" in tree.code:
            raise RecursionError("maximum recursion depth exceeded")
        return dumps(tree, calls)

    monkeypatch.setattr(tree_bytes, "dumps", too_deep)
    assert _lint(tmp_path, use_cache=True) == cold
    stored = [text for trees in _stored(tmp_path).values() for text in trees]
    assert stored and not [text for text in stored if "route_3" in text]


def test_the_language_servers_later_lints_read_nothing_from_the_disk_cache(tmp_path, monkeypatch):
    """Its memory and trees stay in the process: only a project's first lint there reads the disk's."""
    from edgelint import projects

    root = tmp_path / "worker"
    write_corpus(root, 6, seed=9)
    memories = AnalysisMemories()
    made = []
    cached_project = projects.CachedProject
    monkeypatch.setattr("edgelint.linting.CachedProject", lambda *args: made.append(args) or cached_project(*args))
    edit_and_compare(root, random.Random(9), 3, lambda root: _lint(root, False, memories),
                     edits=[_add_a_bug, _remove_a_bug, _add_a_call])
    assert len(made) == 1
