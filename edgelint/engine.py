"""The engine: files -> projects -> one parse each -> model -> rules -> findings.

The CLI and the flake8 plugin both call into here; neither re-implements any step. Grouping files
into projects, reading them and the result cache are in `edgelint.projects`, which a run answered
from the cache uses without importing this module.
"""
from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ContextManager,
    Dict,
    FrozenSet,
    Iterable,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    Union,
)

import libcst as cst

from edgelint.cache import Pickled
from edgelint.deepstack import call_with_deep_stack
from edgelint.discovery import is_relevant
from edgelint.errors import Cancelled
from edgelint.candidates import Item, Positions, combine, place, respelled, respelled_finding
from edgelint.findings import Choice, Finding, Fix, Report
from edgelint.fixes import fix_for
from edgelint.model.bindings import BindingTable, WranglerConfig
from edgelint.model.deployment import deployed_by, imported_names
from edgelint.model.chunks import Chunk, chunks_of, whole_module
from edgelint.model.outline import Import, imports_of, outline
from edgelint.model.parsing import parse_elsewhere, parse_module
from edgelint.model.project import (
    Layout,
    LazyModules,
    ModuleIndex,
    ModuleInfo,
    Project,
    RootKey,
    RootMemory,
    absolute_import,
    class_root,
    clues_of,
    index_module,
    is_test_path,
    module_interface,
)
from edgelint.parallel import COMPUTE, SharedWork, process_pool, worker_count
from edgelint.paths import absolute
from edgelint.positions import PositionIndex, Span
from edgelint.projects import (  # noqa: F401 - re-exported: the engine's API for the CLI and tests
    CachedProject,
    fewer_collections,
    ProjectInput,
    Source,
    binding_table,
    filter_findings,
    source_of,
    group_projects,
    load_source,
    project_files_of,
    project_root,
    read_source,
)
from edgelint.linting import (  # noqa: F401 - re-exported: the engine's API for the CLI and tests
    LintResult,
    engine_finding,
    lint_files,
    lint_project,
)
from edgelint.rules import ALL_RULES, INTERNAL_ERROR, RULES_BY_CODE, SYNTAX_ERROR
from edgelint.textio import expand, syntax_error

if TYPE_CHECKING:
    from edgelint.tree_bytes import TreeStore


@dataclass
class Memory:
    """What an analysis of a project leaves for the next one (the cache keeps it beside the
    findings): each module's outline by content, and each root's replayable memory and candidates.
    A later analysis runs again only the roots whose modules changed (or whose assumptions about
    other roots did), and replays the rest."""

    index: Tuple[Any, ...]  # what every root's analysis may depend on beyond its modules: see `_index_of`
    outlines: Pickled  # path -> outline or None, of the text whose digest `relevance` records
    roots: Dict[RootKey, Tuple[RootMemory, List[Item]]]
    classes: Dict[RootKey, Tuple[FrozenSet[str], List[Item]]]  # a class's own findings, by its modules
    errors: Dict[str, Tuple[str, List[Finding]]]  # path -> (digest, syntax errors of its statements)
    clues: Pickled  # path -> what the relevance check found in its statements (model.project.Clues)
    replayable: bool  # False when module globals are set at runtime: roots then depend on each other
    relevance: Dict[str, Tuple[str, bool]] = dataclasses.field(default_factory=dict)  # path -> (digest, skipped)
    shape: Optional["Shape"] = None  # for a run that replays most of the project (None: index it all)

    def digest(self, path: str) -> str:
        """The digest of the module's text the analysis read ("": not a module of it)."""
        return self.relevance.get(path, ("",))[0] if path in self.outlines else ""

    def spelled(self, spell: Callable[[str], str]) -> "Memory":
        """The same memory with every path passed through `spell` (kept absolute; a run spells paths
        as its arguments did), but for the candidates, which stay absolute (a run spells the
        findings it combines of them: `ProjectRun._run_rules`)."""
        roots = {key: (dataclasses.replace(memory, errors=tuple((spell(path), text) for path, text in memory.errors)),
                       items) if memory.errors else (memory, items) for key, (memory, items) in self.roots.items()}
        return Memory(
            self.index, self.outlines.respelled(spell), roots, self.classes,
            {spell(path): (digest, [respelled_finding(found, spell) for found in found_list])
             for path, (digest, found_list) in self.errors.items()},
            self.clues.respelled(spell), self.replayable,
            {spell(path): value for path, value in self.relevance.items()},
            self.shape.spelled(spell) if self.shape is not None else None)


@dataclass
class Shape:
    """How the last analysis found the project as a whole, for a run that builds only the modules
    it analyses again (`ProjectRun._run_replaying`): still true while the wrangler configs, the
    files, their order and the interface of every edited module are the same."""

    order: Tuple[RootKey, ...]  # every root, in the order they ran
    entries: int  # the first `entries` of them are entry points
    modules: Tuple[str, ...]  # the modules' paths, in the order the project holds them (model.project.Project)
    layout: Layout
    interfaces: Pickled  # path -> model.project.module_interface
    deploy_imports: Dict[str, Tuple[str, ...]]  # path -> the imports deployment read of it (model.deployment)
    configs: Tuple[WranglerConfig, ...]

    def spelled(self, spell: Callable[[str], str]) -> "Shape":
        layout = Layout({spell(path): value for path, value in self.layout.relevant.items()}, self.layout.classes,
                        self.layout.durable_objects)
        return Shape(self.order, self.entries, tuple(spell(path) for path in self.modules), layout,
                     self.interfaces.respelled(spell),
                     {spell(path): value for path, value in self.deploy_imports.items()}, self.configs)


def module_name(path: str, root: Path) -> str:
    """`src/app/views.py` -> `src.app.views`, relative to the project root (its file name alone
    outside it)."""
    absolute_path, base = absolute(path), os.path.join(str(root), "")
    relative = absolute_path[len(base):] if absolute_path.startswith(base) else os.path.basename(absolute_path)
    return os.path.splitext(relative)[0].replace(os.sep, ".") or "__main__"


class ProjectRun:
    """Parse what is relevant in one project, build the model, run the rules."""

    def __init__(self, group: ProjectInput, use_filter: bool = True, helpers: int = 0,
                 memory: Optional[Memory] = None, remember: bool = False, keep_project: bool = False,
                 remember_after: int = -1, stop: Optional[Callable[[], bool]] = None,
                 trees: Optional[TreeStore] = None):
        self.group = group
        self.settings = group.settings  # the analysis's options; selection is the files' own
        self.use_filter = use_filter
        self.helpers = helpers  # worker processes that may outline the files
        self._spelling = {absolute(path): path for path in group.sources}
        # What the last analysis left (None: analyse every root), with paths as this run spells them
        # (a language server spells them as the memory does: absolute).
        same = all(full == path for full, path in self._spelling.items())
        self.previous = memory if memory is None or same else memory.spelled(self._spelled)
        self.remember = remember  # leave a memory for the next analysis (`memory`)
        # ... unless it replayed roots from `memory` along the project's shape (an edit inside
        # functions) and ran no more than this many again (an edit to a leaf module): the memory
        # it started from still answers for the rest (the result cache's choice; -1: always).
        self.remember_after = remember_after
        self.stop = stop  # asked between files and roots: True ends the run with errors.Cancelled
        self.memory: Optional[Memory] = None  # what this one leaves
        self._outlines: Dict[str, Any] = {}
        self._clues: Dict[str, Any] = {}  # what the relevance check found, for the next analysis
        self._module_names: Dict[str, str] = {}  # by path
        self._tables: Dict[int, BindingTable] = {}  # by id of the settings whose `bindings` apply
        self.shared: Optional[SharedWork] = None  # the outlines they compute, while the files are parsed
        self.findings: List[Finding] = []
        self.modules: Dict[str, ModuleInfo] = {}
        self.items: Dict[Tuple[str, str], List[Item]] = {}  # candidates by analysis root (model.project.RootKey)
        self.deployed: Dict[str, Tuple[WranglerConfig, ...]] = {}  # path -> the configs that deploy it
        self._deploy_imports: Dict[str, Tuple[str, ...]] = {}  # path -> what deployment read of it
        self.keep_project = keep_project  # `edgelint model` reads the analysed project; `check` lets it go
        self.project: Optional[Project] = None
        # The last run's trees of large modules (the result cache's), and what this run leaves of
        # them for the next (None: nothing to keep, or no store to keep it in).
        self.trees = trees
        self.kept_trees: Optional[Dict[str, Dict[str, bytes]]] = None
        self._ahead_taken: Dict[str, bytes] = {}  # trees the process parsing ahead sent, by text

    def run(self) -> List[Finding]:
        with fewer_collections():
            replaying = self._run_replaying()
            if replaying is not None:
                return replaying
        pending = [path for path in self.group.sources if self._wanted(path)]
        # Worker processes start here, on the main thread (forking from another thread is unsafe);
        # deeply nested code needs more than Python's default 1,000 frames: see edgelint.deepstack.
        with fewer_collections():
            with self._outline_helpers([path for path in pending if self._known_outline(path) is COMPUTE]):
                project = call_with_deep_stack(partial(self._index, pending))
            shared = self._analysed_in_shares(project)
            cold = shared is None and self.previous is None  # an analysis in one pass
            with self._trees_elsewhere(project.modules.values() if cold else ()):
                findings = call_with_deep_stack(partial(self._analyse_and_check, project, shared))
            self._keep_trees()
            return findings

    @contextmanager
    def _trees_elsewhere(self, modules: Iterable[ModuleInfo]) -> Iterator[None]:
        """While the analysis runs, it takes a tree from the tree store (a function of a large
        module unchanged since the last run) or from a process parsing ahead, before parsing."""
        with self._parsed_ahead(modules) as ahead:
            sources = [source for source in (self.trees, ahead) if source is not None]
            if sources:
                parse_elsewhere(partial(_taken_from, sources))
            try:
                yield
            finally:
                parse_elsewhere(None)
                if ahead is not None and self.trees is not None:
                    self._ahead_taken = ahead.taken  # the trees it sent: the store keeps them as they came

    def _keep_trees(self) -> None:
        """What the next run may take (`trees`): for each large module this run built, the tree of
        every function parsed late (parsed here, pickled; or as the store or the process parsing
        ahead had it), and the store's trees of its functions not entered this time; the store's
        other modules as they were. Nothing to write when that is what the store holds."""
        if self.trees is None:
            return
        from edgelint.paths import absolute

        built = {absolute(path): module for path, module in self.modules.items()}
        project = {absolute(path) for path in self.group.sources}
        kept = {path: trees for path, trees in self.trees.modules.items() if path not in built and path in project}
        for path, module in built.items():
            # Eager chunks are parsed with the index, before the store is asked: parsed every run.
            late = [chunk for chunk in module.chunks if not chunk.eager]
            if sum(chunk.end - chunk.start for chunk in late) >= MIN_STORED_TEXT:
                kept[path] = call_with_deep_stack(partial(self._pickled_trees, late))
        self.kept_trees = None if kept == self.trees.modules else kept

    def _pickled_trees(self, chunks: Sequence[Chunk]) -> Dict[str, bytes]:
        from edgelint.tree_bytes import dumps

        trees: Dict[str, bytes] = {}
        for chunk in chunks:
            text = chunk.text
            data = self.trees.pickled(text) or self._ahead_taken.get(text)  # type: ignore[union-attr]
            if data is None and chunk.tree is not None and chunk.calls is not None:
                try:
                    data = dumps(chunk.tree, list(chunk.calls))
                except Exception:  # noqa: BLE001 - RecursionError (a tree deeper than pickle goes): parsed next time
                    continue
            if data is not None:
                trees[text] = data
        return trees

    def _parsed_ahead(self, modules: Iterable[ModuleInfo]) -> ContextManager[Any]:
        """While the analysis runs, another process parses ahead of it (edgelint.parse_ahead) the
        relevant functions and classes of `modules` not parsed yet, in source order; none when no
        other process may run, or when there is too little to pay for one."""
        if self.helpers < 1:
            return nullcontext()
        chunks = [chunk for module in modules for chunk in module.chunks
                  if chunk.tree is None and not chunk.failed and chunk.owner is not None and chunk.relevant]
        if sum(chunk.end - chunk.start for chunk in chunks) < MIN_AHEAD_TEXT:
            return nullcontext()
        from edgelint.parse_ahead import parsing_ahead  # pickle and the rest: only when it runs

        texts = [chunk.text for chunk in chunks]
        return parsing_ahead([text for text in texts if self.trees is None or text not in self.trees])

    def _index(self, pending: List[str]) -> Project:
        """Parse what the analysis needs up front (and the files it imports), and index it."""
        module_names = self._module_names = {path: module_name(path, self.group.root) for path in self.group.sources}
        names = ModuleIndex({name: path for path, name in module_names.items()})
        configs = binding_table(self.group).configs  # settings add bindings, not configs
        self.deployed = deployed_by(configs, names, module_names, self._deploy_imports_of)
        queued: Set[str] = set(pending)
        while pending:
            self._check_stop()
            path = pending.pop()
            module = self._parse(path)
            if module is None:
                continue
            for target in imported_paths(module, names):
                if target not in queued:
                    queued.add(target)
                    pending.append(target)
        if self.shared is not None:
            self.shared.stop()  # every file is outlined: the workers are not needed for the analysis
        clues = None if self.previous is None else {
            path: self.previous.clues[path] for path in self.modules
            if path in self.previous.clues and self.previous.digest(path) == self.group.sources[path].digest}
        project = Project(self.modules.values(), self.settings.admin_markers, clues)
        if self.stop is not None:
            project.stop = self.stop
        self._clues, project.clues = (project.clues if self.remember else {}), {}  # kept for the next analysis only
        return project

    def _deploy_imports_of(self, path: str) -> Tuple[str, ...]:
        """What deployment reads of a file (model.deployment), kept for the next analysis (Shape)."""
        found = self._deploy_imports[path] = tuple(imported_names(self.group.sources[path].text or ""))
        return found

    def _analyse_and_check(self, project: Project, shared: Optional[Memory]) -> List[Finding]:
        """Analyse (replaying what the last analysis, or the processes that shared this one,
        learnt of unchanged modules) and run the rules."""
        index = _index_of(project)
        previous = shared or self.previous
        if previous is not None and (previous.index != index or not previous.replayable):
            previous = None
        changed = self._changed(previous)
        kept = self._kept(project, previous, changed)
        # Imported here: the interpreter's tables name libcst classes, and a run the cache
        # answers must not load libcst (edgelint/__init__.py).
        from edgelint.model.analysis import analyse

        if not self._analysed(project, partial(analyse, project, kept)):
            return self.findings
        # Replayed from the last analysis's memory (not from the processes that shared this one).
        replayed = len(project.replayed) if shared is None else 0
        errors = self._check(project, previous, changed, list(self.modules))
        # A run that may take the shortcut next time leaves its memory whatever it ran again: the
        # last memory's shape did not fit this run, nor would it fit the next.
        shortcut = self.use_filter and not self.keep_project
        if self.remember and (shortcut or not replayed or len(project.runs) > self.remember_after):
            self.memory = self._remember(project, index, errors, self._clues)
        return self.findings

    def _run_replaying(self) -> Optional[List[Finding]]:
        """A run after edits that leave the project's shape as the last analysis found it (the same
        files and configs, and every edited module's interface the same: most edits inside
        functions) builds only the modules that the roots it runs again read: the roots that read
        an edited module run again, the others replay. None when it cannot (the caller indexes
        the whole project); that is decided after the edited files alone are read and built."""
        previous = self.previous
        shape = previous.shape if previous is not None else None
        if shape is None or not previous.replayable or not self.use_filter or self.keep_project:
            return None
        edited = self._edited_within(previous, shape)
        if edited is None:
            self._start_over()
            return None
        from edgelint.model.analysis import Diverged

        try:
            with self._trees_elsewhere(self.modules.values()):  # the edited modules: their roots run again
                findings = call_with_deep_stack(partial(self._analyse_replaying, previous, shape, edited))
            self._keep_trees()
            return findings
        except Diverged:  # the edit changes which functions are roots: start over, indexing everything
            self._start_over()
            return None

    def _start_over(self) -> None:
        """Forget what `_run_replaying` built and found (an edited module's syntax error, too)."""
        self.findings, self.modules, self.items, self._outlines = [], {}, {}, {}

    def _edited_within(self, previous: Memory, shape: Shape) -> Optional[Dict[str, Any]]:
        """The edited modules, each with what the relevance check finds in it (model.project.Clues),
        if the project keeps its `shape` (None otherwise). Files whose stats the cache trusts are
        not read (projects.Source.trusted)."""
        sources = self.group.sources
        if previous.relevance.keys() != sources.keys():
            return None
        if tuple(binding_table(self.group).configs) != shape.configs:
            return None
        self._module_names = {path: module_name(path, self.group.root) for path in sources}
        deployed = dict(previous.index[2])  # module name -> the paths of the configs that deploy it
        configs = {config.path: config for config in shape.configs}
        if not all(config in configs for paths in deployed.values() for config in paths):
            return None
        self.deployed = {path: tuple(configs[config] for config in deployed[name])
                         for path, name in self._module_names.items() if deployed.get(name)}
        modules = set(shape.modules)
        edited: Dict[str, Any] = {}
        for path, source in sources.items():
            digest, skipped = previous.relevance[path]
            if not source.trusted:
                load_source(source)
            if source.error is not None or not skipped and path not in modules:
                return None  # a file that cannot be read, or parsed at all (its error is found again)
            if source.digest == digest:
                source.skipped = skipped
                continue
            if self._wanted(path) == skipped:
                return None  # the relevance filter decides otherwise
            imports = shape.deploy_imports.get(path)
            if imports is not None and tuple(imported_names(source.text or "")) != imports:
                return None
            if path not in modules:
                continue  # skipped, and no module imports it
            module = self._parse(path)
            clues = clues_of(module) if module is not None else None
            if module is None or module_interface(module, clues) != shape.interfaces.get(path):
                return None
            edited[path] = clues
        return edited

    def _analyse_replaying(self, previous: Memory, shape: Shape, edited: Dict[str, Any]) -> List[Finding]:
        from edgelint.model.analysis import analyse_in_order

        changed = frozenset(self._module_names[path] for path in edited)
        paths = {self._module_names[path]: path for path in shape.modules}
        modules = LazyModules(paths, lambda name: self._built(paths[name]))
        project = Project(modules, self.settings.admin_markers, layout=shape.layout)
        if self.stop is not None:
            project.stop = self.stop
        kept = self._kept(project, previous, changed)
        before = {key: memory for key, (memory, _) in previous.roots.items()}
        if not self._analysed(project, partial(analyse_in_order, project, kept, before, shape.order, shape.entries)):
            return self.findings
        errors = self._check(project, previous, changed, list(shape.modules))
        if self.remember and len(project.runs) > self.remember_after:
            self.memory = self._remember(project, previous.index, errors, edited, before=previous)
        return self.findings

    def _built(self, path: str) -> ModuleInfo:
        """A module of a project analysed by `_analyse_replaying`, built when first asked for."""
        from edgelint.model.analysis import Diverged

        module = self.modules.get(path) or self._parse(path)
        if module is None:  # it could be read and parsed before: it changed since the run began
            raise Diverged(path)
        return module

    def _kept(self, project: Project, previous: Optional[Memory], changed: FrozenSet[str]) -> Dict[RootKey, RootMemory]:
        """The roots (and the classes' own findings) of `previous` that read no `changed` module."""
        if previous is None:
            project.kept_classes = set()
            return {}
        project.kept_classes = {key[0] for key, (modules, _) in previous.classes.items() if not modules & changed}
        return {key: memory for key, (memory, _) in previous.roots.items() if not memory.modules & changed}

    def _analysed(self, project: Project, analyse: Callable[[], Any]) -> bool:
        """Run `analyse` and run again the replayed roots whose assumptions no longer hold; False
        when the analysis failed (reported as an internal error)."""
        from edgelint.model.analysis import Diverged

        try:
            analyse()
            self._run_again_what_changed_under(project)
        except (Cancelled, Diverged):
            raise
        except (RecursionError, Exception) as exc:  # noqa: BLE001 - never a traceback: report and go on
            self._internal_error(next(iter(self.modules), ""), exc)
            return False
        return True

    def _check(self, project: Project, previous: Optional[Memory], changed: FrozenSet[str],
               paths: List[str]) -> Dict[str, Tuple[str, List[Finding]]]:
        """Run the rules on the analysed `project`; the syntax errors of the modules at `paths`."""
        for run in project.runs:
            for message in run.errors or ():
                self.findings.append(engine_finding(INTERNAL_ERROR, run.function.module.path, 1, 0, message))
        for memory in project.replayed.values():
            for path, message in memory.errors:
                self.findings.append(engine_finding(INTERNAL_ERROR, path, 1, 0, message))
        if self.keep_project:
            self.project = project
        self._run_rules(project, previous)
        errors = self._chunk_errors(previous, changed, paths)
        for found in errors.values():
            self.findings.extend(found[1])
        return errors

    def _analysed_in_shares(self, project: Project) -> Optional[Memory]:
        """A cold analysis of a large project in shares: each analyses a slice of the entry points
        and runs the rules on them; what they learnt comes back as a `Memory`, which the last pass
        (`_analyse_and_check`) replays as it replays an unchanged project's, running again any root
        whose assumptions about other roots do not hold. None: analyse in one pass (a small or
        incremental run, a share that failed).

        The shares run on `helpers + 1` processes, each taking its shares one after the other and
        letting go of one's trees before the next: a project too large for one pass to hold within
        bounds has more shares than processes (`SHARE_TEXT`). Workers are forked here, on the main
        thread, after the parse: they inherit the trees."""
        processes, count = self._share_plan(project)
        if count <= 1:
            return None
        known = len(self.findings)  # what the parse found (syntax errors): the last pass reports them
        global _FORKED_RUN
        _FORKED_RUN = (self, project, processes, count)
        try:
            if processes > 1:
                with process_pool(processes - 1) as pool:
                    futures = [pool.submit(_analyse_shares, index) for index in range(1, processes)]
                    memories = self._shares(project, 0, processes, count)
                    for future in futures:
                        memories.extend(future.result())
            else:
                memories = self._shares(project, 0, processes, count)
        except Cancelled:
            raise
        except Exception:  # noqa: BLE001 - a worker died or failed: analyse in one pass
            memories = [None]
        finally:
            _FORKED_RUN = None
        self._forget_analysis(project)
        if any(memory is None or not memory.replayable for memory in memories):
            del self.findings[known:]  # a rule's failure in a share: the one pass reports it again
            return None
        return _merged(memories).spelled(self._spelled)

    def _share_plan(self, project: Project) -> Tuple[int, int]:
        """(processes, shares) for a cold analysis: (1, 1) analyses in one pass."""
        if self.previous is not None or self.keep_project:
            return 1, 1  # an incremental run replays; `edgelint model` reads every root's operations
        text = sum(len(module.source) for module in project.modules.values())
        if text < MIN_SHARED_TEXT:
            return 1, 1
        # Shares split the entry points: a few (one `fetch` reaching a hundred routes) would leave
        # the work in one share, and the others would only add theirs.
        entries = len(project.entry_points())
        most = entries // MIN_SHARED_ENTRIES if MIN_SHARED_ENTRIES > 0 else max(entries, self.helpers + 1)
        import multiprocessing

        processes = self.helpers + 1 if "fork" in multiprocessing.get_all_start_methods() else 1
        processes = max(1, min(processes, most))
        turns = -(-text // (SHARE_TEXT * processes))  # shares per process
        return processes, max(processes, min(most, turns * processes) // processes * processes)  # as many for each

    def _shares(self, project: Project, process: int, processes: int, count: int) -> List[Optional[Memory]]:
        """This process's shares (`process`, `process + processes`, ...), one after the other."""
        memories: List[Optional[Memory]] = []
        for index in range(process, count, processes):
            if memories:
                self._forget_analysis(project)
                project.forget_parsed()
            memories.append(call_with_deep_stack(partial(self._share, project, index, count)))
            if memories[-1] is None:
                break  # the one pass follows: the other shares would be thrown away
        return memories

    def _forget_analysis(self, project: Project) -> None:
        """Back to the index, after a share: what it learnt is in its memory."""
        project.forget_analysis()
        project.runtime_globals = {}
        self.items.clear()

    def _share(self, project: Project, index: int, count: int) -> Optional[Memory]:
        """Analyse slice `index` of `count` of the entry points and place the rules' findings on
        them: what the last pass replays. None when a rule failed (the last pass reports it)."""
        from edgelint.model.analysis import analyse

        # A class's own findings (EDG303) are the first share's.
        project.kept_classes = {cls.key for cls in project.durable_object_classes()} if index else set()
        known = len(self.findings)
        analyse(project, share=(index, count))
        self._place(project)
        if len(self.findings) > known:  # a rule failed
            return None
        errors = self._chunk_errors(None, frozenset(), list(self.modules))
        return self._remember(project, _index_of(project), errors, {}, shaped=False)

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop():
            raise Cancelled()

    def _changed(self, previous: Optional[Memory]) -> FrozenSet[str]:
        """Names of the modules whose content differs from the last analysis (all: none kept)."""
        if previous is None:
            return frozenset(module.name for module in self.modules.values())
        return frozenset(module.name for path, module in self.modules.items()
                         if previous.digest(path) != self.group.sources[path].digest)

    def _run_again_what_changed_under(self, project: Project) -> None:
        """A replayed root whose findings asked of other roots (an inferred binding kind, a method's
        storage effects) what is no longer so is run again; until nothing else changes."""
        from edgelint.model.analysis import rerun

        while True:
            stale = [key for key, memory in project.replayed.items() if not _consults_hold(project, memory)]
            if not stale:
                return
            for key in stale:
                rerun(project, key)

    @contextmanager
    def _outline_helpers(self, pending: Sequence[str]) -> Iterator[None]:
        """Worker processes outline the `pending` files while the parent parses, when there are
        enough of them to pay for the pool (the filter often leaves few: the standard library)."""
        if worker_count(self.helpers + 1, len(pending)) <= 1:
            yield
            return
        with process_pool(self.helpers) as pool:
            self.shared = SharedWork(pool)
            self.shared.start(reversed(pending))
            try:
                yield
            finally:
                self.shared = None

    def _wanted(self, path: str) -> bool:
        source = self.group.sources[path]
        load_source(source)
        if source.error is not None:
            return False
        if self.use_filter:
            known = source.known_state()  # the cache's record of this very content, under these bindings
            found = self.previous.relevance.get(path) if self.previous is not None else None
            if known is not None and known.skipped is not None:
                source.skipped = known.skipped
            elif found is not None and found[0] == source.digest:
                source.skipped = found[1]  # the last analysis's decision on this very text
            else:
                source.skipped = not is_relevant(source.text or "", self._table(path).bindings)
        return not source.skipped

    def _table(self, path: str) -> BindingTable:
        """The bindings a module sees: its settings' `bindings` over the wrangler config's."""
        settings = self.group.governed.get(path, self.group.settings)
        table = self._tables.get(id(settings))
        if table is None:
            table = self._tables[id(settings)] = binding_table(self.group, settings)
        return table

    def _parse(self, path: str) -> Optional[ModuleInfo]:
        source = self.group.sources[path]
        if source.stored is None:
            self._wanted(path)
        stored = source.stored
        if stored is None:
            return None
        shape = self._known_outline(path)  # the last analysis outlined this very text
        if shape is COMPUTE and self.shared is not None:
            shape = self.shared.outline(path, source.digest)
        if shape is COMPUTE:
            # Unfiltered runs parse every file whole and analyse every function (tests compare).
            shape = outline(expand(stored)) if self.use_filter else None
        if self.remember:
            self._outlines[path] = shape
        imports: Iterable[Tuple[int, Import]] = ()
        if isinstance(shape, tuple):
            chunks, imports = chunks_of(stored, shape), imports_of(shape)
        else:  # `ast` refused it: libcst parses it whole, and reports it if it refuses too
            calls: List[cst.Call] = []
            tree = self._parse_whole(path, expand(stored), calls)
            if tree is None:
                return None
            chunks = whole_module(stored, tree, calls)
        # Judged inside the project: a checkout under /tmp/test/ does not make every file a test.
        is_test = is_test_path(os.path.relpath(os.path.abspath(path), self.group.root))
        module = ModuleInfo(path, self._module_names[path], stored, self._table(path), chunks, is_test,
                            self.deployed.get(path, ()))
        index_module(module, imports)
        self.modules[path] = module
        return module

    def _known_outline(self, path: str) -> Any:
        """The outline (None: `ast` refused the text) the last analysis made of the file's very
        text; COMPUTE when it made none."""
        previous = self.previous
        if previous is None or previous.digest(path) != self.group.sources[path].digest:
            return COMPUTE
        return previous.outlines[path]

    def _parse_whole(self, path: str, text: str, calls: List[cst.Call]) -> Optional[cst.Module]:
        try:
            return parse_module(text, calls)
        except cst.ParserSyntaxError as exc:
            line, column, message = syntax_error(text, exc)
            self.findings.append(engine_finding(SYNTAX_ERROR, path, line, column, message))
        except (RecursionError, MemoryError, Exception) as exc:  # noqa: BLE001
            self._internal_error(path, exc)
        return None

    def _chunk_errors(self, previous: Optional[Memory], changed: FrozenSet[str],
                      paths: List[str]) -> Dict[str, Tuple[str, List[Finding]]]:
        """Statements libcst refused when they were parsed (up front or when first needed), by module
        (at `paths`); those of an unchanged module as the last analysis found them (its statements
        may not have been parsed this time, nor the module built)."""
        errors: Dict[str, Tuple[str, List[Finding]]] = {}
        for path in paths:
            digest = self.group.sources[path].digest
            module = self.modules.get(path)
            if previous is not None and path in previous.errors and (
                    module is None or module.name not in changed):
                errors[path] = previous.errors[path]
                continue
            if module is None:
                continue
            found: List[Finding] = []
            for chunk, exc in module.chunk_errors:
                if isinstance(exc, cst.ParserSyntaxError):
                    line, column, message = syntax_error(chunk.text, exc, chunk.first)
                    found.append(engine_finding(SYNTAX_ERROR, module.path, line, column, message))
                else:
                    message = f"internal error while analysing this file: {type(exc).__name__}: {exc}"
                    found.append(engine_finding(INTERNAL_ERROR, module.path, 1, 0, message.splitlines()[0]))
            errors[path] = (digest, found)
        return errors

    def _internal_error(self, path: str, exc: BaseException) -> None:
        message = f"internal error while analysing this file: {type(exc).__name__}: {exc}".splitlines()[0]
        self.findings.append(engine_finding(INTERNAL_ERROR, path, 1, 0, message))

    def _run_rules(self, project: Project, previous: Optional[Memory]) -> None:
        self._place(project)
        if previous is not None:  # what the replayed roots and the unchanged classes reported last time
            self.items.update((key, previous.roots[key][1]) for key in project.replayed)
            self.items.update((key, items) for key, (_, items) in previous.classes.items()
                              if key[0] in project.kept_classes)
        combined = combine(self._in_order(project), self._rule_of)
        self.findings.extend(respelled_finding(finding, self._spelled) for finding in combined)

    def _spelled(self, path: str) -> str:
        """An absolute path (the candidates': see `_place`) as this run spells it."""
        return self._spelling.get(path, path)

    def _place(self, project: Project) -> None:
        """The rules' reports on the roots analysed here, positioned, filed by root in `items`."""
        reports: List[Union[Report, Choice]] = []
        for rule_class in ALL_RULES:
            if not any(settings.is_selected(rule_class.code) for settings in self.group.all_settings()):
                continue  # no file selects it
            rule = rule_class()
            options = self.settings.rules.get(rule.code, {})
            try:
                reports.extend(rule.check(project, options))
            except (RecursionError, Exception) as exc:  # noqa: BLE001
                self._internal_error(next(iter(self.modules), ""), exc)
        positions = Positions(lambda path: self.position_index(self.modules[path]))
        for root, item in place(reports, positions, self._fix, self._internal_error):
            # Absolute, as the memory keeps them: the same whatever the spelling of a run.
            self.items.setdefault(root, []).extend(respelled([item], absolute))

    def _in_order(self, project: Project) -> Iterator[Item]:
        """Candidates root by root, in the order the roots run, then the classes' own: the same
        order whether a root ran now or was replayed."""
        roots = list(project.order)
        roots.extend(class_root(key) for key in project.durable_object_keys())
        for key in roots:
            yield from self.items.get(key, ())

    def _remember(self, project: Project, index: Tuple[Any, ...], errors: Dict[str, Tuple[str, List[Finding]]],
                  clues: Dict[str, Any], before: Optional[Memory] = None, shaped: bool = True) -> Memory:
        """What this analysis leaves for the next. `before`: the last analysis's memory, when this
        one built only the modules it analysed (`_analyse_replaying`): the rest is as it was.
        `shaped`: with the project's shape (a share of an analysis leaves none)."""
        roots: Dict[RootKey, Tuple[RootMemory, List[Item]]] = {}
        for run in project.runs:
            roots[run.key] = (RootMemory.of(run, project), self.items.get(run.key, []))
        for key, memory in project.replayed.items():
            roots[key] = (memory, self.items.get(key, []))
        outlines = {path: self._outlines.get(path) for path in self.modules}
        if before is None:
            classes = {class_root(cls.key): (frozenset(ancestor.module.name for ancestor in project.lineage(cls)),
                                             self.items.get(class_root(cls.key), []))
                       for cls in project.durable_object_classes(kept=True)}
            # What the last analysis kept of a module whose text is the same is kept as it is.
            last = self.previous
            unchanged: Callable[[str], bool] = (
                (lambda path: last.digest(path) == self.group.sources[path].digest) if last else (lambda path: False))
            shape = self._shape(project, clues, unchanged) if shaped else None
            kept_outlines = Pickled.reusing(last and last.outlines, outlines, unchanged, outlines.get)
            kept_clues = Pickled.reusing(last and last.clues, clues, unchanged, clues.get)
        else:
            classes = {key: (modules, self.items.get(key, [])) for key, (modules, _) in before.classes.items()}
            shape = before.shape
            kept_outlines, kept_clues = before.outlines.updated(outlines), before.clues.updated(clues)
        relevance = {path: (source.digest, source.skipped) for path, source in self.group.sources.items()
                     if source.skipped is not None and source.error is None}
        memory = Memory(index, kept_outlines, roots, classes, errors, kept_clues, not project.runtime_globals,
                        relevance, shape)
        return memory.spelled(absolute)

    def _shape(self, project: Project, clues: Dict[str, Any], unchanged: Callable[[str], bool]) -> Optional[Shape]:
        """The project's shape; the interfaces of `unchanged` modules as the last analysis kept them."""
        if not self.use_filter or project.runtime_globals:
            return None
        last = self.previous.shape if self.previous is not None else None
        paths = [module.path for module in project.modules.values()]
        interfaces = Pickled.reusing(last and last.interfaces, paths, unchanged,
                                     lambda path: module_interface(self.modules[path], clues[path]))
        return Shape(tuple(project.order), project.entries, tuple(paths), Layout.of(project), interfaces,
                     dict(self._deploy_imports), tuple(binding_table(self.group).configs))

    def _fix(self, report: Report, index: PositionIndex, span: Span) -> Optional[Fix]:
        module = self.modules[report.module_path]
        return fix_for(report.fix_edit, module.tree, index.source, report.node, span[0], span[1] + 1)

    def _rule_of(self, code: str) -> Tuple[str, str, Tuple[str, ...]]:
        rule = RULES_BY_CODE[code]
        return rule.severity, rule.name, rule.supersedes  # severity overridden per file: see `_with_severity`

    def position_index(self, module: ModuleInfo) -> PositionIndex:
        """Where the nodes of an analysed module lie (spans for findings and related places)."""
        parts = [(chunk.first, chunk.last, chunk.tree) for chunk in module.chunks if chunk.tree is not None]
        calls = {chunk.first: chunk.calls for chunk in module.chunks if chunk.calls is not None}
        return PositionIndex(parts, module.text, calls)


# Below this much module text (about 4,000 lines) a cold analysis is over before workers have started.
MIN_SHARED_TEXT = 150_000
MIN_SHARED_ENTRIES = 8  # entry points per share of a cold analysis (0: share whatever the count)
# Function text below which parsing ahead (edgelint.parse_ahead) costs more than it saves (~1,200 lines).
MIN_AHEAD_TEXT = 50_000
# Text of a module's functions and classes parsed late above which their trees are kept for the next
# run (TreeStore): below it, parsing them again costs less than storing them.
MIN_STORED_TEXT = MIN_AHEAD_TEXT
# Module text per share of a cold analysis: a pass over this much peaks at about 175 MB.
SHARE_TEXT = 8_000_000
_FORKED_RUN: Optional[Tuple[ProjectRun, Project, int, int]] = None  # what forked workers analyse shares of


def _taken_from(sources: Sequence[Any], text: str) -> Optional[Any]:
    """The tree of `text` from the first of `sources` that has it (their `take`), if any."""
    for source in sources:
        found = source.take(text)
        if found is not None:
            return found
    return None


def _analyse_shares(process: int) -> List[Optional[Memory]]:
    """A forked worker's job: its shares of the run it inherited (`ProjectRun._analysed_in_shares`)."""
    assert _FORKED_RUN is not None, "shares are analysed in workers forked from the run"
    run, project, processes, count = _FORKED_RUN
    return run._shares(project, process, processes, count)


def _merged(memories: Sequence[Memory]) -> Memory:
    """The shares' memories as one: every share's roots, the first share's classes, and each
    module's syntax errors as any share found them (each parsed the statements its roots entered)."""
    first = memories[0]
    roots = {key: value for memory in memories for key, value in memory.roots.items()}
    errors: Dict[str, Tuple[str, List[Finding]]] = {}
    for memory in memories:
        for path, (digest, found) in memory.errors.items():
            known = errors.setdefault(path, (digest, []))[1]
            known.extend(finding for finding in found if finding not in known)
    return Memory(first.index, first.outlines, roots, first.classes, errors, Pickled({}), True, first.relevance)


def _index_of(project: Project) -> Tuple[Any, ...]:
    """What any root's analysis may depend on beyond the modules it read: which modules exist (how
    imports resolve), which classes, with their bases (how base classes resolve), and which configs
    deploy each module (EDG302: an import added to `main` deploys a module nobody imported)."""
    classes = sorted((cls.key, cls.bases) for module in project.modules.values() for cls in module.classes.values())
    deployed = sorted((name, tuple(config.path for config in module.deployed_by)) for name, module in project.modules.items())
    return tuple(sorted(project.modules)), tuple(classes), tuple(deployed)


def _consults_hold(project: Project, memory: RootMemory) -> bool:
    return all(project.fact(fact) == value for fact, value in memory.consults)


def imported_paths(module: ModuleInfo, names: ModuleIndex[str]) -> Iterable[str]:
    """Files of the project that `module` imports (helpers the relevance filter may have skipped)."""
    for source, attr in module.imports.values():
        absolute = absolute_import(module, source)
        for candidate in ([absolute, f"{absolute}.{attr}" if absolute else attr] if attr else [absolute]):
            found = names.get(candidate)
            if found is not None:
                yield found
