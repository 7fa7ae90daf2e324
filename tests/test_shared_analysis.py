"""A cold analysis shared by several processes (each analyses a slice of the entry points, the last
pass replays them) reports exactly what one process reports: on every fixture project, the labeled
examples and a generated corpus, with the size threshold lowered so that every project shares."""
from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

from edgelint import engine
from tests.helpers import FIXTURE_PROJECTS, findings_at, write_project

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import write_corpus, write_monolith  # noqa: E402 - the bench's generator of Workers projects

# Shares run on several processes only where they can be forked; one process takes them in turn anywhere.
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="shares are analysed in forked workers")
JOBS_1_AND_2 = [1, pytest.param(2, marks=needs_fork)]


@pytest.fixture
def shared_runs(monkeypatch):
    """Every analysis shares, whatever its size; counts the runs that did."""
    monkeypatch.setattr(engine, "MIN_SHARED_TEXT", 0)
    monkeypatch.setattr(engine, "MIN_SHARED_ENTRIES", 0)
    shared: List[int] = []
    original = engine.ProjectRun._analysed_in_shares

    def counted(run, project):
        memory = original(run, project)
        shared.append(memory is not None)
        return memory

    monkeypatch.setattr(engine.ProjectRun, "_analysed_in_shares", counted)
    return shared


@needs_fork
@pytest.mark.parametrize("jobs", [2, 3])
def test_shared_analysis_reports_what_one_process_reports_on_every_fixture(shared_runs, jobs):
    shared = []
    for project in FIXTURE_PROJECTS:
        alone = findings_at(project, jobs=1)
        shared_runs.clear()
        assert findings_at(project, jobs=jobs) == alone, project.name
        shared.extend(shared_runs)
    # Shared, then replayed: all but the projects that set module globals at runtime (their roots
    # depend on each other: analysed in one process).
    assert len(shared) == len(FIXTURE_PROJECTS) and sum(shared) > 0.8 * len(FIXTURE_PROJECTS), shared


@needs_fork
def test_shared_analysis_of_a_generated_corpus(shared_runs, tmp_path, monkeypatch):
    write_corpus(tmp_path, 60)
    alone = findings_at(tmp_path, jobs=1)
    shared_runs.clear()
    last_passes: List[Tuple[int, int]] = []  # (roots run again, roots replayed) by the pass after the shares
    check = engine.ProjectRun._analyse_and_check

    def counted(run, project, shared):
        found = check(run, project, shared)
        last_passes.append((len(project.runs), len(project.replayed)))
        return found

    monkeypatch.setattr(engine.ProjectRun, "_analyse_and_check", counted)
    assert findings_at(tmp_path, jobs=2) == alone and len(alone) > 20
    assert shared_runs == [True]
    [(run_again, replayed)] = last_passes
    assert replayed > 100 and run_again < replayed / 20, (run_again, replayed)  # replayed, not analysed twice


@needs_fork
def test_a_project_of_few_entry_points_is_analysed_in_one_process(shared_runs, tmp_path, monkeypatch):
    """One `fetch` that reaches every route is one root: a share would leave the work in one
    process while the others add theirs (bench/corpus.py's single-module Worker)."""
    monkeypatch.setattr(engine, "MIN_SHARED_ENTRIES", 8)
    write_monolith(tmp_path, routes=20)
    alone = findings_at(tmp_path, jobs=1)
    shared_runs.clear()
    assert findings_at(tmp_path, jobs=2) == alone and alone
    assert shared_runs == [False]


@pytest.fixture
def shares_in_turn(shared_runs, monkeypatch):
    """Every entry point a share of its own, whatever the processes (as a project far larger than
    `SHARE_TEXT` is analysed); checks that a process lets go of a share's trees before its next."""
    monkeypatch.setattr(engine, "SHARE_TEXT", 1)
    taken: List[Tuple[int, int]] = []  # (share, count) in the order this process took them
    original = engine.ProjectRun._share

    def counted(run, project, index, count):
        if taken and taken[-1][1] == count:  # a share after another in this process
            assert not any(chunk.tree is not None for module in project.modules.values()  # constants stay
                           for chunk in module.chunks if not chunk.eager and chunk.owner is not None), \
                "trees kept from the last share"
        taken.append((index, count))
        return original(run, project, index, count)

    monkeypatch.setattr(engine.ProjectRun, "_share", counted)
    return taken


@pytest.mark.parametrize("jobs", JOBS_1_AND_2)
def test_shares_taken_in_turn_report_what_one_pass_reports_on_every_fixture(shared_runs, monkeypatch, jobs):
    alone = {project: findings_at(project, jobs=1) for project in FIXTURE_PROJECTS}
    monkeypatch.setattr(engine, "SHARE_TEXT", 1)
    taken: List[int] = []
    original = engine.ProjectRun._share
    monkeypatch.setattr(engine.ProjectRun, "_share",
                        lambda run, project, index, count: taken.append(count) or original(run, project, index, count))
    shared_runs.clear()
    for project in FIXTURE_PROJECTS:
        assert findings_at(project, jobs=jobs) == alone[project], project.name
    # A project of one entry point is one share (at -j1: analysed in one pass); the others shared.
    assert sum(shared_runs) > len(FIXTURE_PROJECTS) / 4, shared_runs
    assert max(taken) > jobs  # more shares than processes: some process took several in turn


@pytest.mark.parametrize("jobs", JOBS_1_AND_2)
def test_shares_taken_in_turn_let_go_of_the_trees_of_the_last(shares_in_turn, shared_runs, tmp_path, jobs):
    write_corpus(tmp_path, 40)
    shared_runs.clear()
    taken_before = len(shares_in_turn)
    assert findings_at(tmp_path, jobs=jobs)
    assert shared_runs == [True]
    counts = {count for _, count in shares_in_turn[taken_before:]}
    assert len(counts) == 1 and counts.pop() > 20  # one share per entry point
    assert len(shares_in_turn) - taken_before > 1  # this process took several (the workers' are not seen here)


def test_a_large_project_is_analysed_in_shares_also_by_one_process(tmp_path, monkeypatch):
    """A cold analysis at -j1 of more module text than `SHARE_TEXT` runs in shares one after the
    other: each pass holds the trees of its share only (peak memory); findings as one pass."""
    write_corpus(tmp_path, 60)
    alone = findings_at(tmp_path, jobs=1)
    text = sum(path.stat().st_size for path in tmp_path.rglob("*.py"))
    monkeypatch.setattr(engine, "SHARE_TEXT", text // 3)
    plans: List[Tuple[int, int]] = []
    original = engine.ProjectRun._share_plan
    monkeypatch.setattr(engine.ProjectRun, "_share_plan", lambda run, project: plans.append(original(run, project)) or plans[-1])
    assert findings_at(tmp_path, jobs=1) == alone
    [(processes, count)] = plans
    assert processes == 1 and count >= 2, plans


def test_a_stop_during_shares_ends_the_run_there(shares_in_turn, tmp_path, monkeypatch):
    """A language server's first analysis of a large project runs in shares; a newer edit that
    stops it ends the run (errors.Cancelled) rather than a one-pass analysis after the shares."""
    from edgelint.errors import Cancelled
    from edgelint.lsp.workspace import Workspace

    write_corpus(tmp_path, 30)
    last_passes: List[int] = []
    check = engine.ProjectRun._analyse_and_check
    monkeypatch.setattr(engine.ProjectRun, "_analyse_and_check",
                        lambda run, project, shared: last_passes.append(1) or check(run, project, shared))
    asked: List[int] = []
    entry = str(next(tmp_path.rglob("mod_0001.py")))
    with pytest.raises(Cancelled):
        Workspace([str(tmp_path)]).lint([entry], {}, stop=lambda: asked.append(1) or len(shares_in_turn) > 2)
    assert len(shares_in_turn) == 3 and last_passes == []


# Four entry classes that share a helper module: an options dict held in a module constant (reported
# by EDG106 where it is written, in a module no share re-parses), and a file no parser accepts.
SHARED_HELPER_PROJECT = {
    "wrangler.toml": 'name = "w"\nmain = "src/entry.py"\n\n[[kv_namespaces]]\nbinding = "KV"\nid = "a"\n',
    "src/consts.py": 'OPTS = {"expiration_ttl": 120}\nBAD = {"expirationTtl": 5}\n\n\n'
                     'async def save(kv, key):\n    await kv.put(key, "v", OPTS)\n    await kv.put(key + ":b", "v", BAD)\n',
    "src/broken.py": "async def broken(env:\n    await env.KV.get('x')\n",
    "src/entry.py": "from workers import WorkerEntrypoint\n" + "".join(f"from h{n} import H{n}\n" for n in range(1, 5)) +
                    "\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n"
                    "        return await H1().fetch(request)\n",
    **{f"src/h{n}.py": "from workers import WorkerEntrypoint\nfrom consts import save\n\n\n"
                       f"class H{n}(WorkerEntrypoint):\n    async def fetch(self, request):\n"
                       "        user = request.headers.get('x-user')\n"
                       f"        await save(self.env.KV, f'k{n}:{{user}}')\n        return 'ok'\n" for n in range(1, 5)},
}


@pytest.mark.parametrize("jobs", JOBS_1_AND_2)
def test_shares_in_turn_keep_constants_and_the_parse_s_syntax_errors(shared_runs, tmp_path, monkeypatch, jobs):
    """A constant's value stays where the index put it when a share's trees go (a finding on it keeps
    its place), and a syntax error found by the parse, before the shares, fails none of them."""
    write_project(tmp_path, SHARED_HELPER_PROJECT)
    alone = findings_at(tmp_path, jobs=1)
    assert shared_runs == [False] and {finding[3] for finding in alone} == {"EDG106", "EDG999"}
    monkeypatch.setattr(engine, "SHARE_TEXT", 1)
    shared_runs.clear()
    assert findings_at(tmp_path, jobs=jobs) == alone
    assert shared_runs == [True]


def test_a_rule_that_fails_in_a_share_is_reported_once(shares_in_turn, shared_runs, tmp_path, monkeypatch):
    """The first share whose rule fails ends the shares (the one pass that follows reports it)."""
    from edgelint.rules import ALL_RULES

    write_project(tmp_path, SHARED_HELPER_PROJECT)
    rule = next(rule for rule in ALL_RULES if rule.code == "EDG106")
    monkeypatch.setattr(rule, "check", lambda self, project, options: iter([1 / 0]))
    found = findings_at(tmp_path, jobs=1)
    assert shared_runs == [False] and len(shares_in_turn) == 1
    assert [finding[3] for finding in found].count("EDG998") == 1
