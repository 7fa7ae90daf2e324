"""Linting files: group them into projects, answer each from the result cache or analyse it, then
select, order and grade the findings.

A run the cache answers ends here: it imports neither the engine (`edgelint.engine`: parsing, the
model, the rules) nor libcst. `lint_project` imports the engine when a project has to be analysed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from edgelint.cache import Stats, stat_of, unchanged
from edgelint.discovery import Governing
from edgelint.errors import ConfigError
from edgelint.findings import SYNTAX_ERROR, Finding
from edgelint.parallel import ordered_map, process_pool, worker_count
from edgelint.projects import (
    CachedProject,
    HostIgnores,
    ProjectInput,
    Source,
    binding_table,
    fewer_collections,
    filter_findings,
    group_projects,
    load_source,
    source_of,
)
from edgelint.textio import python_syntax_error


REWRITE_MEMORY_AFTER_ROOTS = 16  # roots analysed again since the cache's memory was written


@dataclass
class LintResult:
    """What a lint run found: its findings, its errors (exit 2) and the files it read."""

    findings: List[Finding] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # one-line problems that make the run exit 2
    files: int = 0
    sources: Dict[str, Source] = field(default_factory=dict)
    # Projects left out because their wrangler config cannot be read (the others are linted).
    config_errors: List[ConfigError] = field(default_factory=list)

    def raise_config_error(self) -> None:
        """For a caller that lints one project (flake8, the language server): its configuration
        error, raised as reading it would have."""
        if self.config_errors:
            raise self.config_errors[0]


def lint_project(group: ProjectInput, use_filter: bool = True, use_cache: bool = False,
                 helpers: int = 0, stats: Optional[Stats] = None) -> List[Finding]:
    """One project's findings before selection and noqa, from the cache when nothing changed;
    up to `helpers` worker processes outline its files when it has to be analysed and enough of
    them pass the relevance filter, and share a cold analysis of a large project. The engine (the parser, the model, the rules) is imported only
    for an analysis."""
    if not use_cache:
        from edgelint import engine

        return engine.ProjectRun(group, use_filter, helpers).run()
    with fewer_collections():  # reading and writing the cache builds many objects, as an analysis does
        cached = CachedProject(group, use_filter, stats)
        findings = cached.findings()
        if findings is None:
            from edgelint import engine

            # Writing the memory costs about what analysing a dozen roots does: a run that replayed
            # nearly everything (an edit to a leaf module) leaves the last one, which still answers
            # for every module but those edited since.
            run = engine.ProjectRun(group, use_filter, helpers, cached.analysis(), remember=True,
                                    remember_after=REWRITE_MEMORY_AFTER_ROOTS, trees=cached.trees())
            findings = run.run()
            cached.store(findings, run.memory, run.kept_trees)
            cached.load_for_report(findings)
    return findings


class AnalysisMemories:
    """What each project's last analysis left (`engine.Memory`, and the trees of its large modules),
    kept in the process by a long-running host (the language server) instead of on disk: an edit,
    saved or not, is analysed again only where it can change the findings, and unsaved text never
    reaches the cache (a project's first analysis here starts from the one the disk cache holds,
    if any). Forget them when settings or bindings change."""

    def __init__(self) -> None:
        self._by_project: Dict[Tuple[str, bool], Any] = {}
        self._trees: Dict[Tuple[str, bool], Any] = {}  # the trees of large modules (tree_bytes.TreeStore)
        self._read: Dict[str, Tuple[List[Any], Source]] = {}  # path -> its record (edgelint.cache.Stats) and text

    def lint(self, group: ProjectInput, use_filter: bool, stop: Optional[Callable[[], bool]] = None) -> List[Finding]:
        """The project's findings; `stop()` true ends the analysis with errors.Cancelled (the last
        memory stays as it was)."""
        from edgelint import engine
        from edgelint.tree_bytes import TreeStore

        self._reuse_texts(group)
        key = (str(group.root), use_filter)
        memory, trees = self._by_project.get(key), self._trees.get(key)
        if memory is None or trees is None:  # the project's first lint here: from the disk cache's
            cached = CachedProject(group, use_filter)
            memory, trees = memory or cached.analysis(), trees or cached.trees()
        run = engine.ProjectRun(group, use_filter, memory=memory, remember=True, stop=stop, trees=trees)
        findings = run.run()
        self._by_project[key] = run.memory
        self._trees[key] = trees if run.kept_trees is None else TreeStore(run.kept_trees)
        return findings

    def clear(self) -> None:
        self._by_project.clear()
        self._trees.clear()
        self._read.clear()

    def _reuse_texts(self, group: ProjectInput) -> None:
        """Files read by an earlier lint, unchanged since (same size and mtime, old enough to
        trust: see edgelint.cache.Stats), are not read again."""
        stats = Stats()
        for path, source in group.sources.items():
            if source.loaded:
                continue  # an editor's buffer
            known = self._read.get(path)
            if known is not None and unchanged(known[0], stat_of(path)):
                group.sources[path] = known[1]
                continue
            record = stats.record(path)  # taken before the file is read
            load_source(source)
            self._read[path] = (record, source)


def _lint_in_worker(group: ProjectInput, use_filter: bool,
                    use_cache: bool) -> Tuple[List[Finding], Dict[str, Source]]:
    findings = lint_project(group, use_filter, use_cache)
    return findings, group.sources


def _run_projects(groups: Sequence[ProjectInput], use_filter: bool, jobs: int, use_cache: bool,
                  memories: Optional[AnalysisMemories], stop: Optional[Callable[[], bool]],
                  stats: Optional[Stats]) -> List[List[Finding]]:
    """Each project's findings on up to `jobs` processes: the same findings, in the same order, as on one."""
    if memories is not None:
        return [memories.lint(group, use_filter, stop) for group in groups]
    if len(groups) == 1:  # one project: workers outline its files and share a large analysis
        return [lint_project(groups[0], use_filter, use_cache, helpers=max(jobs, 1) - 1, stats=stats)]
    workers = worker_count(jobs, sum(len(group.sources) for group in groups))
    if workers <= 1:
        return [lint_project(group, use_filter, use_cache) for group in groups]
    run = partial(_lint_in_worker, use_filter=use_filter, use_cache=use_cache)
    with process_pool(workers) as pool:
        outcomes = ordered_map(pool, run, groups, cost=lambda group: len(group.sources))
    for group, (_, sources) in zip(groups, outcomes):
        group.sources.update(sources)
    return [findings for findings, _ in outcomes]


def engine_finding(code: str, path: str, line: int, column: int, message: str) -> Finding:
    """A finding of edgelint's own (EDG999, EDG998) at a 1-based line and 0-based column."""
    return Finding(code, message, path, max(line, 1), column + 1, max(line, 1), column + 1, "error",
                   "syntax-error" if code == SYNTAX_ERROR else "internal-error")


def lint_files(paths: Sequence[str], governing: Governing, fallback_root: Path, use_filter: bool = True,
               overrides: Optional[Mapping[str, Union[str, bytes]]] = None, apply_noqa: bool = True, jobs: int = 1,
               use_cache: bool = False, named: Collection[str] = (),
               host_ignores: Optional[HostIgnores] = None, memories: Optional[AnalysisMemories] = None,
               stop: Optional[Callable[[], bool]] = None, stats: Optional[Stats] = None) -> LintResult:
    """Lint `paths` (already discovered) as projects. `overrides` replaces file contents: a text
    (an editor's buffer) or bytes (stdin). The `named` files' syntax errors are reported even where
    the relevance filter skips them. `host_ignores`: the codes flake8 drops, before precedence.
    `memories`: analyse incrementally in the process (instead of `use_cache`, on disk); with them,
    `stop()` true ends the run with errors.Cancelled (a language server's newer edit). `stats`: of
    files, taken by the caller before it read any (the cache takes them of no file again)."""
    result = LintResult(files=len(paths))
    groups = _readable(group_projects(paths, governing, fallback_root), result.config_errors)
    for group in groups:
        for path, content in (overrides or {}).items():
            if path in group.sources:
                group.sources[path] = source_of(path, content)
    for group, findings in zip(groups, _run_projects(groups, use_filter, jobs, use_cache, memories, stop, stats)):
        result.findings.extend(findings)
        if use_filter and named:
            result.findings.extend(_skipped_syntax_errors(group, named, findings))
        for path, source in group.sources.items():
            result.sources[path] = source
            if source.error_at is not None:  # read, but not Python text: a syntax error, as Python says
                result.findings.append(engine_finding(SYNTAX_ERROR, path, source.error_at[0], source.error_at[1] - 1,
                                                      source.error or ""))
            elif source.error is not None:
                result.errors.append(f"{path}: {source.error}")
    kept = filter_findings(result.findings, governing, result.sources, apply_noqa, host_ignores)
    result.findings = _with_severity(kept, governing)
    return result


def _readable(groups: List[ProjectInput], errors: List[ConfigError]) -> List[ProjectInput]:
    """The projects whose wrangler config can be read (here, not in a worker); the errors of the
    others, which are left out."""
    readable = []
    for group in groups:
        try:
            binding_table(group)
        except ConfigError as exc:
            errors.append(exc)
        else:
            readable.append(group)
    return readable


def _skipped_syntax_errors(group: ProjectInput, named: Collection[str], findings: Sequence[Finding]) -> List[Finding]:
    """Syntax errors of the named files the relevance filter kept from the analysis (it parses
    only what can involve a binding): a file named on the command line is checked whole, as ruff
    and flake8 check it."""
    reported = {finding.path for finding in findings if finding.code == SYNTAX_ERROR}
    found: List[Finding] = []
    for path in sorted(set(named) & group.sources.keys() - reported):
        source = group.sources[path]
        if not source.skipped:
            continue  # analysed (its syntax errors are among the findings), or not Python text
        load_source(source)
        try:
            error = python_syntax_error(source.text or "")
        except ValueError:
            continue  # Python cannot say where: nothing to report on
        if error is not None:
            found.append(engine_finding(SYNTAX_ERROR, path, *error))
    return found


def _with_severity(findings: List[Finding], governing: Governing) -> List[Finding]:
    """Each finding at the severity the settings of its file give its code."""
    severities = [(finding, governing.settings_for(finding.path).severity.get(finding.code)) for finding in findings]
    return [finding if severity in (None, finding.severity) else dataclasses.replace(finding, severity=severity)
            for finding, severity in severities]
