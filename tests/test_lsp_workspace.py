"""What the language server lints, in process: each workspace folder its own project, buffers
over the disk, deleted files, settings read again on demand."""
import os
from pathlib import Path

import pytest

from edgelint import projects
from edgelint.errors import Cancelled
from edgelint.lsp import workspace as workspace_module
from edgelint.lsp.workspace import Workspace, is_settings_file
from tests.helpers import write_project
from tests.lsp_project import HELPER, PROJECT


def codes_by_file(outcome, root: Path) -> dict:
    return {Path(path).relative_to(root).as_posix(): sorted(f.code for f in result.findings)
            for path, result in outcome.files.items() if Path(path).is_relative_to(root)}


def test_each_folder_is_its_own_project_and_buffers_replace_the_files(tmp_path):
    shop, other = tmp_path / "shop", tmp_path / "other"
    write_project(shop, PROJECT)
    write_project(other, PROJECT)
    workspace = Workspace([str(shop), str(other)])
    entry = str(shop / "src" / "entry.py")
    outcome = workspace.lint([entry], {})
    assert codes_by_file(outcome, shop) == {"src/entry.py": ["EDG101", "EDG301"], "src/kv_store.py": []}
    assert set(outcome.files) == {entry, str(shop / "src" / "kv_store.py")}
    assert outcome.files[entry].text == PROJECT["src/entry.py"]
    edited = {str(shop / "src" / "kv_store.py"): HELPER.replace('kv.put("stats"', 'kv.put("totals"')}
    assert codes_by_file(workspace.lint([entry], edited), shop)["src/entry.py"] == ["EDG301"]


def test_a_deleted_file_is_cleared_and_its_project_linted_without_it(tmp_path):
    write_project(tmp_path, PROJECT)
    helper = tmp_path / "src" / "kv_store.py"
    helper.unlink()
    outcome = Workspace([str(tmp_path)]).lint([str(helper)], {})
    assert codes_by_file(outcome, tmp_path) == {"src/kv_store.py": [], "src/entry.py": ["EDG301"]}
    assert outcome.problems == []


def test_settings_are_read_again_when_reloaded(tmp_path):
    write_project(tmp_path, PROJECT)
    workspace = Workspace([str(tmp_path)])
    entry = str(tmp_path / "src" / "entry.py")

    def severity() -> str:
        return next(f.severity for f in workspace.lint([entry], {}).files[entry].findings if f.code == "EDG301")

    assert severity() == "error"
    (tmp_path / "pyproject.toml").write_text('[tool.edgelint.severity]\nEDG301 = "warning"\n', encoding="utf-8")
    workspace.reload_settings()
    assert severity() == "warning"
    assert is_settings_file(str(tmp_path / "pyproject.toml")) and is_settings_file("/x/wrangler.jsonc")
    assert not is_settings_file(entry)


def test_a_configuration_error_is_reported_not_raised(tmp_path):
    write_project(tmp_path, {**PROJECT, "wrangler.toml": "kv_namespaces = ["})
    outcome = Workspace([str(tmp_path)]).lint([str(tmp_path / "src" / "entry.py")], {})
    assert outcome.files == {} and outcome.problems == []
    [error] = outcome.config_errors
    assert error.startswith(str(tmp_path / "wrangler.toml") + ": ")


def _age(root: Path, seconds: float = 60) -> None:
    """Date every file and directory back: the server trusts stats only once they are old enough."""
    for path in [root, *root.rglob("*")]:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - int(seconds * 1e9)))


def test_unchanged_files_are_neither_read_nor_walked_again_and_changes_are_seen(tmp_path, monkeypatch):
    write_project(tmp_path, PROJECT)
    _age(tmp_path)
    workspace = Workspace([str(tmp_path)])
    entry = str(tmp_path / "src" / "entry.py")
    assert codes_by_file(workspace.lint([entry], {}), tmp_path)["src/entry.py"] == ["EDG101", "EDG301"]
    reads, walks = [], []
    monkeypatch.setattr(projects, "read_text", lambda path, real=projects.read_text: reads.append(path) or real(path))
    monkeypatch.setattr(workspace_module, "discover",
                        lambda *args, real=workspace_module.discover: walks.append(args) or real(*args))
    assert codes_by_file(workspace.lint([entry], {}), tmp_path)["src/entry.py"] == ["EDG101", "EDG301"]
    assert reads == [] and walks == []
    helper = tmp_path / "src" / "kv_store.py"  # changed on disk: read again
    helper.write_text(HELPER.replace('kv.put("stats"', 'kv.put("totals"'), encoding="utf-8")
    assert codes_by_file(workspace.lint([entry], {}), tmp_path)["src/entry.py"] == ["EDG301"]
    assert reads == [str(helper)] and walks == []
    (tmp_path / "src" / "added.py").write_text(  # a new file changes its directory: walked again
        'async def on_fetch(request, env):\n    env.KV.delete("k")\n', encoding="utf-8")
    outcome = workspace.lint([entry], {})
    assert len(walks) == 1 and codes_by_file(outcome, tmp_path)["src/added.py"] == ["EDG301"]


def test_a_lint_a_newer_edit_overtakes_stops_and_the_next_one_is_whole(tmp_path):
    write_project(tmp_path, PROJECT)
    workspace = Workspace([str(tmp_path)])
    entry = str(tmp_path / "src" / "entry.py")
    expected = codes_by_file(workspace.lint([entry], {}), tmp_path)
    edited = {entry: PROJECT["src/entry.py"] + "\n\nasync def more(env):\n    env.CACHE.delete('x')\n"}
    for stop_after in (0, 1, 2):  # before the first file, between files, between roots
        asked = []
        with pytest.raises(Cancelled):
            workspace.lint([entry], edited, stop=lambda: asked.append(1) or len(asked) > stop_after)
    assert codes_by_file(workspace.lint([entry], edited), tmp_path)["src/entry.py"] == ["EDG101", "EDG301", "EDG301"]
    assert codes_by_file(workspace.lint([entry], {}), tmp_path) == expected
