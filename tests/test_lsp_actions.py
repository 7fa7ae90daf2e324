"""The language server's pieces in process: positions in the client's units, the `# noqa` action
merged as `--add-noqa` merges, and the server's absence reported in one line."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT

LINE = 'async def handler(env):\n    env.CACHE.delete("😀")  # noqa: EDG101\n'


def test_server_without_pygls_says_how_to_install_it():
    hide = "import sys; sys.modules['pygls'] = sys.modules['lsprotocol'] = None"
    completed = subprocess.run(
        [sys.executable, "-c", f"{hide}; from edgelint.cli import main; sys.exit(main(['server']))"],
        capture_output=True, text=True, cwd=ROOT)
    assert completed.returncode == 2
    assert completed.stderr == "edgelint: error: the language server needs pygls: pip install 'edgelint[lsp]'\n"


@pytest.fixture
def lsp():
    pytest.importorskip("pygls", reason="the language server needs the lsp extra")
    from lsprotocol import types
    from pygls.workspace import PositionCodec

    from edgelint.findings import Edit, Finding, Fix
    from edgelint.lsp import actions, protocol

    finding = Finding("EDG301", "not awaited", "/p/entry.py", 2, 5, 2, 27, "error",
                      fix=Fix("Insert `await`", "safe", (Edit(2, 5, 2, 5, "await "),)))
    linted = actions.LintedFile("/p/entry.py", LINE, 3, [finding])
    positions = protocol.Positions(PositionCodec(types.PositionEncodingKind.Utf16), lambda path: LINE)
    return types, actions, protocol, linted, positions


def test_ranges_count_utf16_units_past_an_astral_character(lsp):
    types, _, protocol, linted, positions = lsp
    found = protocol.diagnostic(linted.findings[0], positions)
    assert found.range == types.Range(types.Position(1, 4), types.Position(1, 27))  # 😀 is two UTF-16 units
    assert found.code == "EDG301" and found.source == "edgelint"


def test_noqa_action_merges_into_the_existing_comment(lsp):
    types, actions, _, linted, positions = lsp
    found = actions.code_actions(linted, types.Range(types.Position(1, 6), types.Position(1, 6)),
                                 [types.CodeActionKind.QuickFix], positions)
    assert [action.title for action in found] == ["Insert `await` (EDG301)", "Suppress EDG301 on this line (# noqa)"]
    [edit] = found[1].edit.document_changes[0].edits
    assert edit.new_text == '    env.CACHE.delete("😀")  # noqa: EDG101, EDG301'
    assert edit.range == types.Range(types.Position(1, 0), types.Position(1, 42))
    assert found[1].edit.document_changes[0].text_document.version == 3


def test_only_the_requested_kinds_are_offered(lsp):
    types, actions, protocol, linted, positions = lsp
    everywhere = types.Range(types.Position(0, 0), types.Position(2, 0))
    assert [action.kind for action in actions.code_actions(linted, everywhere, ["source"], positions)] == [
        protocol.FIX_ALL_KIND]
    assert actions.code_actions(linted, types.Range(types.Position(0, 0), types.Position(0, 1)),
                                [types.CodeActionKind.QuickFix], positions) == []
