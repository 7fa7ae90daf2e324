"""The analysis driver: every root of a project run (or replayed from the cache), in order.

Roots are the entry points (request and background handlers, Durable Object methods, routes), then
every function that can involve bindings and that nothing reached, analysed on its own. Each runs
through the interpreter (`model.interpreter.analyse_root`), its calls into project code through
summaries (`model.summaries`), and what it learnt is filed under it (`model.project.RootRun`), so
that a later run can replay a root whose modules did not change (`model.project.RootMemory`).
"""
from __future__ import annotations

from typing import Iterator, Mapping, Optional, Tuple

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
    for function, kind in entries:
        _run_or_replay(project, function, kind)
    project.entry_constructions = {key: list(found) for key, found in project.constructions.items()}
    entry_ids = {id(function) for function, _ in entries}
    for function in _other_roots(project):
        # A function already reached from an entry point (or an earlier root) was analysed with
        # its callers' arguments and path; on its own it would only know less.
        if id(function) not in entry_ids and function.qualname not in project.reached:
            _run_or_replay(project, function, PathKind.UNKNOWN)


def _run_or_replay(project: Project, function: FunctionInfo, kind: PathKind) -> None:
    if project.stop():
        raise Cancelled()
    key = (function.qualname, kind.value)
    memory = project.kept.get(key)
    project.order.append(key)
    if memory is not None and memory.holds(project):
        memory.replay(project)
        project.replayed[key] = memory
    else:
        _analyse_root(project, function, kind)


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
