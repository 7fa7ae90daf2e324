"""The analysis driver: every root of a project run (or replayed from the cache), in order.

Roots are the entry points (request and background handlers, Durable Object methods, routes), then
every function that can involve bindings and that nothing reached, analysed on its own. Each runs
through the interpreter (`model.interpreter.analyse_root`), its calls into project code through
summaries (`model.summaries`), and what it learnt is filed under it (`model.project.RootRun`), so
that a later run can replay a root whose modules did not change (`model.project.RootMemory`).
"""
from __future__ import annotations

from typing import Iterator, Mapping, Optional, Sequence, Tuple

from edgelint.errors import Cancelled
from edgelint.model.interpreter import analyse_root
from edgelint.model.operations import Context, PathKind
from edgelint.model.project import FunctionInfo, Project, RootKey, RootMemory, RootRun


def analyse(project: Project, kept: Optional[Mapping[RootKey, RootMemory]] = None,
            share: Optional[Tuple[int, int]] = None) -> Project:
    """Run every entry point, then every function nothing reached, in that order; twice if module
    globals are set at runtime. A root in `kept` whose assumptions still hold is not run again:
    what it learnt is replayed from there (a cache decided its modules did not change).

    `share` (index, count): run only that slice of the entry points, for a process that analyses
    a part of the project beside others; a last pass replays what they all learnt (`kept`) and
    runs the rest (engine.ProjectRun)."""
    project.kept = dict(kept or {})
    if share is not None:
        entries = project.entry_points()
        index, count = share
        for function, kind in entries[len(entries) * index // count:len(entries) * (index + 1) // count]:
            _run_or_replay(project, function, kind)
        return project
    _analyse_all(project)
    if project.runtime_globals:
        learnt = dict(project.runtime_globals)
        project.forget_analysis()
        project.kept = {}
        project.runtime_globals = learnt
        _analyse_all(project)
    project.summaries.clear()  # only calls made during the analysis reuse them: free their templates
    return project


class Diverged(Exception):
    """A root run again did not reach or construct what it did before: the roots that follow it
    may not be those of the earlier analysis (`analyse_in_order`)."""


def analyse_in_order(project: Project, kept: Mapping[RootKey, RootMemory], before: Mapping[RootKey, RootMemory],
                     order: Sequence[RootKey], entries: int) -> Project:
    """`analyse` of a project whose roots are an earlier analysis's (`order`, entry points first:
    `entries` of them; what each learnt then: `before`), without looking for them: replay those
    in `kept` whose assumptions hold and run the others again. Raises Diverged when a root run
    again reaches or constructs other functions than before, or sets module globals: which
    functions are roots, and in which order, may then differ (analyse the whole project)."""
    project.kept = dict(kept)
    project.entries = entries
    for index, key in enumerate(order):
        if index == entries:
            _entry_points_ran(project)
        if index >= entries and key[0] in project.reached:
            raise Diverged(key)  # reached by a root before it: no root of its own now
        if _replayed(project, key):
            continue
        function = project.function_named(key[0])
        if function is None:
            raise Diverged(key)
        _analyse_root(project, function, PathKind(key[1]))
        _check_same_reach(project.runs[-1], before.get(key))
    if entries == len(order):
        _entry_points_ran(project)
    if project.runtime_globals:
        raise Diverged("module globals set at runtime")
    project.summaries.clear()
    return project


def _check_same_reach(run: RootRun, before: Optional[RootMemory]) -> None:
    constructed = tuple(key for key, _ in run.constructions or ())
    if before is None or run.reached != before.reached or constructed != tuple(key for key, _ in before.constructions):
        raise Diverged(run.key)


def rerun(project: Project, key: RootKey) -> None:
    """Run a replayed root after all: what its findings asked of other roots changed."""
    del project.replayed[key]
    qualname, kind = key
    function = project.function_named(qualname)
    if function is not None:
        _analyse_root(project, function, PathKind(kind))
        project.forget_inferred_kinds()


def _analyse_all(project: Project) -> None:
    entries = project.entry_points()
    project.entries = len(entries)
    for function, kind in entries:
        _run_or_replay(project, function, kind)
    _entry_points_ran(project)
    entry_ids = {id(function) for function, _ in entries}
    for function in _other_roots(project):
        # A function already reached from an entry point (or an earlier root) was analysed with
        # its callers' arguments and path; on its own it would only know less.
        if id(function) not in entry_ids and function.qualname not in project.reached:
            _run_or_replay(project, function, PathKind.UNKNOWN)


def _entry_points_ran(project: Project) -> None:
    """What the entry points construct: what the methods nobody reaches assume (Project.constructed_binding)."""
    project.entry_constructions = {key: list(found) for key, found in project.constructions.items()}


def _run_or_replay(project: Project, function: FunctionInfo, kind: PathKind) -> None:
    if not _replayed(project, (function.qualname, kind.value)):
        _analyse_root(project, function, kind)


def _replayed(project: Project, key: RootKey) -> bool:
    """Root `key` is next: replay it if it is kept and its assumptions hold (False: run it)."""
    if project.stop():
        raise Cancelled()
    memory = project.kept.get(key)
    project.order.append(key)
    if memory is not None and memory.holds(project):
        memory.replay(project)
        project.replayed[key] = memory
        return True
    return False


def _other_roots(project: Project) -> Iterator[FunctionInfo]:
    """Functions that can involve bindings, analysed on their own unless something reached them:
    those whose text can (model.chunks), and the methods of classes the entry points construct
    (`Store(env.JOBS)` makes every method of `Store` one)."""
    for module in project.modules.values():
        yield from (function for function in module.functions.values() if function.chunk.relevant)
        for cls in module.classes.values():
            if cls.chunk.relevant or cls.key in (project.entry_constructions or {}):
                yield from cls.methods.values()


def _analyse_root(project: Project, function: FunctionInfo, kind: PathKind) -> None:
    project.current = RootRun((function.qualname, kind.value), function, {function.module.name})
    try:
        analyse_root(project, function, Context(kind, project.is_admin_name(function.name)))
    except (RecursionError, Exception) as exc:  # noqa: BLE001 - one bad function must not stop the run
        message = f"internal error analysing {function.qualname}: {type(exc).__name__}: {exc}"
        project.internal_errors.append((function.module.path, message.splitlines()[0]))
        project.current.errors = (project.current.errors or []) + [message.splitlines()[0]]
    finally:
        project.current.end()
        project.runs.append(project.current)
        project.current = None
