"""`edgelint server`: the language server (pygls), over stdio.

Every open, change or save of a Python file marks its project for linting; after a quiet period
(DEBOUNCE) one worker thread lints the marked projects with the open buffers over the files on
disk and the server publishes diagnostics for every file of those projects that has findings or
had some. An edit that arrives while a lint runs stops it (the engine asks between files and
between analysis roots) or, if it was done, drops its result, and the projects are linted again
with the newer text. The message loop never waits for a lint.
"""
from __future__ import annotations

import asyncio
import gc
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterable, List, Optional, Set, Tuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from edgelint import __version__
from edgelint.errors import Cancelled
from edgelint.lsp.actions import LintedFile, code_actions, hover
from edgelint.lsp.protocol import FIX_ALL_KIND, Positions, diagnostic, uri_of
from edgelint.lsp.workspace import SETTINGS_FILES, Outcome, Workspace, is_settings_file
from edgelint.projects import read_source

DEBOUNCE = 0.3  # seconds without an edit before linting
Buffers = Dict[str, Tuple[str, Optional[int]]]  # path -> (text, version) of each open Python file
Published = Tuple[LintedFile, List[types.Diagnostic]]


class EdgelintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("edgelint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.project = Workspace()
        self.linted: Dict[str, LintedFile] = {}  # each file's findings (if any), as linted
        self._changed: Set[str] = set()  # Python files whose projects wait for a lint
        self._shown: Dict[str, List[types.Diagnostic]] = {}  # what the client was last sent, by file
        self._reload = False  # settings or bindings changed: read them again before the next lint
        self._edited: Optional[asyncio.Event] = None  # created on the message loop, with the lint task
        self._last_edit = 0.0  # when the latest mark came (the loop's clock)
        self._garbage = False  # a lint ran since the cycle collector last did
        self._told: Set[str] = set()  # configuration errors the user was shown, while they last
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgelint-lint")

    def mark(self, paths: Iterable[str], reload: bool = False) -> None:
        """Lint the projects of `paths` after the quiet period."""
        self._changed.update(paths)
        self._reload = self._reload or reload
        self._last_edit = asyncio.get_running_loop().time()
        if self._edited is None:
            self._edited = asyncio.Event()
            asyncio.ensure_future(self._lint_forever(self._edited))
        self._edited.set()

    def mark_everything(self) -> None:
        """Settings changed: every open file and every file with diagnostics is linted again."""
        self.mark([*self._buffers(), *self._shown], reload=True)

    async def _lint_forever(self, edited: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await edited.wait()
            edited.clear()
            if self._garbage:  # what the last lint left is collected during the quiet period
                self._garbage = False
                loop.run_in_executor(self._worker, gc.collect)  # the lint below queues behind it
            # A quiet period after the latest edit (counted from the edit, which may have come
            # while the last lint was being published).
            while (quiet := self._last_edit + DEBOUNCE - loop.time()) > 0:
                await asyncio.sleep(quiet)
            edited.clear()
            changed, reload, buffers = self._changed, self._reload, self._buffers()
            self._changed, self._reload = set(), False
            try:
                outcome = await loop.run_in_executor(self._worker, self._analyse, changed, reload, buffers,
                                                     set(self._shown))
            except Cancelled:  # a newer edit came: lint again with it
                self._changed |= changed
                continue
            except Exception as exc:  # noqa: BLE001 - a bug: logged, and the next edit is linted again
                self.log(f"internal error: {type(exc).__name__}: {exc}")
                continue
            finally:
                self._garbage = True
            if edited.is_set():  # a newer edit: this result is stale, lint again with it
                self._changed |= changed
                continue
            self._publish(*outcome)

    def _analyse(self, changed: Set[str], reload: bool, buffers: Buffers,
                 shown: Set[str]) -> Tuple[List[Published], List[str], List[str]]:
        """On the worker thread: lint, and turn the findings into diagnostics for every file that
        has findings or was `shown` some."""
        if reload:
            self.project.reload_settings()
        edited = self._edited
        outcome = self.project.lint(changed, {path: text for path, (text, _) in buffers.items()},
                                    stop=edited.is_set if edited is not None else None)
        positions = Positions(self.workspace.position_codec, _texts(outcome, buffers))
        published = []
        for path, result in outcome.files.items():
            if not result.findings and path not in shown:
                continue
            try:
                diagnostics = [diagnostic(finding, positions) for finding in result.findings]
            except Exception as exc:  # noqa: BLE001 - one file's failure leaves it without diagnostics
                outcome.problems.append(f"{path}: cannot report its findings: {type(exc).__name__}: {exc}")
                diagnostics, result.findings = [], []
            version = buffers[path][1] if path in buffers else None
            published.append((LintedFile(path, result.text or "", version, result.findings), diagnostics))
        return published, outcome.problems, outcome.config_errors

    def _publish(self, published: List[Published], problems: List[str], config_errors: List[str]) -> None:
        for problem in problems:
            self.log(problem)
        for error in config_errors:  # shown once while it lasts, as `edgelint check` would print it
            self.log(error)
            if error not in self._told:
                self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"edgelint: {error}"))
        self._told = set(config_errors)
        for linted, diagnostics in published:
            if linted.findings:
                self.linted[linted.path] = linted
            else:
                self.linted.pop(linted.path, None)
            if self._shown.get(linted.path) == diagnostics:
                continue
            if diagnostics:
                self._shown[linted.path] = diagnostics
            else:
                self._shown.pop(linted.path, None)
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri_of(linted.path), diagnostics, version=linted.version))

    def _buffers(self) -> Buffers:
        buffers = {}
        for document in list(self.workspace.text_documents.values()):
            path = to_fs_path(document.uri)
            if path and path.endswith(".py"):
                buffers[path] = (document.source, document.version)
        return buffers

    def current(self, uri: str) -> Optional[LintedFile]:
        """The file's findings, if they were found in the text the editor has now."""
        linted = self.linted.get(to_fs_path(uri) or "")
        document = self.workspace.text_documents.get(uri)
        if linted is None or (document is not None and document.version != linted.version):
            return None
        return linted

    def positions(self, linted: LintedFile) -> Positions:
        return Positions(self.workspace.position_codec, lambda path: linted.text if path == linted.path else None)

    def log(self, message: str) -> None:
        self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"edgelint: {message}"))


def create_server() -> EdgelintServer:
    server = EdgelintServer()

    @server.feature(types.INITIALIZED)
    def initialized(ls: EdgelintServer, params: types.InitializedParams) -> None:
        ls.project = Workspace(_folders(ls))
        _watch_settings(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: EdgelintServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.project = Workspace(_folders(ls))
        ls.mark_everything()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def opened(ls: EdgelintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.mark(_paths([params.text_document.uri]))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def changed(ls: EdgelintServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.mark(_paths([params.text_document.uri]))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def saved(ls: EdgelintServer, params: types.DidSaveTextDocumentParams) -> None:
        _disk_changed(ls, _paths([params.text_document.uri]))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def closed(ls: EdgelintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.mark(_paths([params.text_document.uri]))  # its project again, as the file on disk has it

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: EdgelintServer, params: types.DidChangeWatchedFilesParams) -> None:
        _disk_changed(ls, _paths(change.uri for change in params.changes))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND]))
    def actions(ls: EdgelintServer, params: types.CodeActionParams) -> List[types.CodeAction]:
        linted = ls.current(params.text_document.uri)
        if linted is None:
            return []
        return code_actions(linted, params.range, params.context.only, ls.positions(linted))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hovered(ls: EdgelintServer, params: types.HoverParams) -> Optional[types.Hover]:
        linted = ls.current(params.text_document.uri)
        return None if linted is None else hover(linted, params.position, ls.positions(linted))

    return server


def _folders(ls: EdgelintServer) -> List[str]:
    """The workspace folders (a client without them names one root)."""
    folders = _paths(folder.uri for folder in ls.workspace.folders.values())
    return folders or [path for path in [ls.workspace.root_path] if path]


def _paths(uris: Iterable[str]) -> List[str]:
    return [path for path in (to_fs_path(uri) for uri in uris) if path]


def _disk_changed(ls: EdgelintServer, paths: List[str]) -> None:
    """Files changed on disk: a settings file changes everything, a Python file its project."""
    if any(is_settings_file(path) for path in paths):
        ls.mark_everything()
    ls.mark(path for path in paths if path.endswith(".py"))


def _watch_settings(ls: EdgelintServer) -> None:
    """Ask the client to report changes to settings files and Python files on disk, if it can."""
    capabilities = ls.client_capabilities.workspace
    watching = capabilities.did_change_watched_files if capabilities is not None else None
    if watching is None or not watching.dynamic_registration:
        return  # saves in the editor still reach the server
    names = ",".join(sorted(SETTINGS_FILES))
    watchers = [types.FileSystemWatcher(glob_pattern=f"**/{{{names}}}"), types.FileSystemWatcher(glob_pattern="**/*.py")]
    ls.client_register_capability(types.RegistrationParams([types.Registration(
        "edgelint-watched-files", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        types.DidChangeWatchedFilesRegistrationOptions(watchers))]))


def _texts(outcome: Outcome, buffers: Buffers):
    """A file's text as linted: from the lint, an open buffer, or the disk."""
    def text_of(path: str) -> Optional[str]:
        result = outcome.files.get(path)
        if result is not None and result.text is not None:
            return result.text
        if path in buffers:
            return buffers[path][0]
        return read_source(path).text

    return text_of


def serve() -> None:
    """Speak the protocol on stdin and stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING)  # pygls logs to stderr, which clients show as the server's log
    # The cycle collector runs once per lint, while the next edit's quiet period passes
    # (`_lint_forever`), and otherwise seldom: the model is millions of objects with few cycles,
    # and the full collection the default thresholds start right after a lint delays its
    # diagnostics by a third (see edgelint.projects.fewer_collections).
    gc.set_threshold(50_000, 20, 100)
    create_server().start_io()
