"""`edgelint server` end to end: pytest-lsp drives the real server process over stdio on a small
project written to a temporary directory."""
import asyncio
import os
import sys
from pathlib import Path
from typing import Callable, List

import pytest

from tests.conftest import ROOT
from tests.helpers import write_project
from tests.lsp_project import ENTRY, HELPER, PROJECT, WRANGLER

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the language server tests need the lsp and test extras")
from lsprotocol import types  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

pytestmark = pytest.mark.asyncio

TIMEOUT = 60  # seconds: a cold analysis on a busy machine


@pytest_lsp.fixture(config=pytest_lsp.ClientServerConfig(
    server_command=[sys.executable, "-m", "edgelint", "server"],
    server_env={**os.environ, "PYTHONPATH": str(ROOT)}))
async def client(lsp_client: pytest_lsp.LanguageClient, tmp_path: Path):
    write_project(tmp_path, PROJECT)
    lsp_client.project = tmp_path
    lsp_client.registrations = []
    lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)(
        lambda params: lsp_client.registrations.extend(params.registrations))
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        workspace_folders=[types.WorkspaceFolder(from_fs_path(str(tmp_path)), "shop")]))
    yield
    await lsp_client.shutdown_session()


def uri(client, relative: str) -> str:
    return from_fs_path(str(client.project / relative))


def open_file(client, relative: str) -> str:
    path = client.project / relative
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri(client, relative), "python", 1, path.read_text(encoding="utf-8"))))
    return uri(client, relative)


async def diagnostics_until(client, document: str,
                            wanted: Callable[[List[types.Diagnostic]], bool]) -> List[types.Diagnostic]:
    async def poll():
        while not wanted(client.diagnostics.get(document, [])):
            await asyncio.sleep(0.05)
        return client.diagnostics[document]

    return await asyncio.wait_for(poll(), TIMEOUT)


def codes(diagnostics: List[types.Diagnostic]) -> List[str]:
    return sorted(str(diagnostic.code) for diagnostic in diagnostics)


def replace_all(client, document: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(version=version, uri=document),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


async def test_open_file_gets_project_wide_diagnostics_with_related_locations(client):
    entry = open_file(client, "src/entry.py")
    found = await diagnostics_until(client, entry, lambda found: "EDG101" in codes(found))
    assert codes(found) == ["EDG101", "EDG301"]
    rmw = next(diagnostic for diagnostic in found if diagnostic.code == "EDG101")
    assert rmw.source == "edgelint"
    assert rmw.severity == types.DiagnosticSeverity.Error
    assert rmw.range == types.Range(types.Position(6, 10), types.Position(6, 38))
    assert rmw.code_description.href.endswith("docs/rules.md#edg101")
    helper = uri(client, "src/kv_store.py")
    assert [(related.location.uri, related.location.range.start.line, related.message)
            for related in rmw.related_information] == [(helper, 4, "read in get_stats()"),
                                                        (helper, 8, "write in save_stats()")]


async def test_editing_a_helper_clears_and_brings_back_the_callers_finding(client):
    entry = open_file(client, "src/entry.py")
    await diagnostics_until(client, entry, lambda found: "EDG101" in codes(found))
    helper = open_file(client, "src/kv_store.py")
    replace_all(client, helper, 2, HELPER.replace('kv.put("stats"', 'kv.put("totals"'))
    await diagnostics_until(client, entry, lambda found: codes(found) == ["EDG301"])
    replace_all(client, helper, 3, HELPER)
    await diagnostics_until(client, entry, lambda found: codes(found) == ["EDG101", "EDG301"])


async def test_quick_fix_inserts_await_and_applying_it_clears_the_finding(client):
    entry = open_file(client, "src/entry.py")
    found = await diagnostics_until(client, entry, lambda found: "EDG301" in codes(found))
    unawaited = next(diagnostic for diagnostic in found if diagnostic.code == "EDG301")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(entry), unawaited.range, types.CodeActionContext([unawaited])))
    titles = [action.title for action in actions]
    assert titles == ["Insert `await` (EDG301)", "Suppress EDG301 on this line (# noqa)", "Fix all edgelint problems"]
    edit = actions[0].edit.document_changes[0]
    assert edit.text_document.version == 1
    assert [(e.range.start.line, e.range.start.character, e.new_text) for e in edit.edits] == [(7, 4, "await ")]
    noqa = actions[1].edit.document_changes[0].edits
    assert [(e.range.start.line, e.new_text) for e in noqa] == [(7, '    env.CACHE.delete("recent")  # noqa: EDG301')]
    client.text_document_did_change(types.DidChangeTextDocumentParams(  # applied as an editor applies it
        types.VersionedTextDocumentIdentifier(version=2, uri=entry),
        [types.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in edit.edits]))
    await diagnostics_until(client, entry, lambda found: codes(found) == ["EDG101"])
    assert not await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(entry), unawaited.range, types.CodeActionContext([])))


async def test_fix_all_applies_every_safe_fix_of_the_file(client):
    entry = open_file(client, "src/entry.py")
    await diagnostics_until(client, entry, lambda found: "EDG301" in codes(found))
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(entry), types.Range(types.Position(0, 0), types.Position(0, 0)),
        types.CodeActionContext([], only=["source.fixAll"])))
    assert [action.kind for action in actions] == ["source.fixAll.edgelint"]
    [edit] = actions[0].edit.document_changes[0].edits
    assert edit.new_text == ENTRY.replace("    env.CACHE", "    await env.CACHE")
    replace_all(client, entry, 2, edit.new_text)
    await diagnostics_until(client, entry, lambda found: codes(found) == ["EDG101"])


async def test_hover_shows_the_rule_documentation(client):
    entry = open_file(client, "src/entry.py")
    await diagnostics_until(client, entry, lambda found: "EDG301" in codes(found))
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(entry), types.Position(7, 8)))
    assert hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("# EDG301 ")
    nothing = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(entry), types.Position(0, 0)))
    assert nothing is None


async def test_removing_a_binding_from_wrangler_toml_reports_edg302(client):
    entry = open_file(client, "src/entry.py")
    await diagnostics_until(client, entry, lambda found: "EDG301" in codes(found))
    [watching] = client.registrations
    assert watching.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    assert "wrangler.toml" in watching.register_options["watchers"][0]["globPattern"]
    wrangler = client.project / "wrangler.toml"
    wrangler.write_text(WRANGLER.replace(', { binding = "CACHE", id = "2" }', ""), encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(from_fs_path(str(wrangler)), types.FileChangeType.Changed)]))
    found = await diagnostics_until(client, entry, lambda found: "EDG302" in codes(found))
    assert "CACHE" in next(diagnostic.message for diagnostic in found if diagnostic.code == "EDG302")


async def test_a_broken_configuration_is_shown_and_the_server_goes_on(client):
    entry = open_file(client, "src/entry.py")
    await diagnostics_until(client, entry, lambda found: "EDG301" in codes(found))
    wrangler = client.project / "wrangler.toml"
    changed = [types.FileEvent(from_fs_path(str(wrangler)), types.FileChangeType.Changed)]
    wrangler.write_text("kv_namespaces = [", encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changed))

    async def shown():
        while not any("wrangler.toml" in message.message for message in client.messages):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(shown(), TIMEOUT)
    [message] = [message for message in client.messages if "wrangler.toml" in message.message]
    assert message.type == types.MessageType.Error and message.message.startswith("edgelint: ")
    wrangler.write_text(WRANGLER.replace(', { binding = "CACHE", id = "2" }', ""), encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changed))
    await diagnostics_until(client, entry, lambda found: "EDG302" in codes(found))
