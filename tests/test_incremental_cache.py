"""Incremental runs (issue 13): an unchanged project is answered from the result cache after `os.stat`
calls only, a touched file is compared by content, the flake8 plugin answers from the entry the CLI
wrote (and from its own memo), concurrent processes share one cache, and the cache stays bounded.

Every run here is a real process (`python -m edgelint`, `flake8`). What a run did is observed from
inside it without timing: a small wrapper records the files edgelint reads (through
`edgelint.projects.read_text`) and whether libcst was loaded; for flake8, which edgelint modules were
imported (no `edgelint.engine`: nothing was analysed; no `edgelint.config`: the memo answered).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from edgelint import cache
from edgelint.cache import CACHE_DIR, MAX_ENTRIES, MAX_MEMOS, MEMO_PREFIX
from tests.conftest import ROOT
from tests.helpers import write_project

WORKER = {
    "wrangler.toml": ('name = "probe"\nmain = "src/entry.py"\n\n[[kv_namespaces]]\nbinding = "VIEWS"\nid = "1"\n\n'
                      '[[durable_objects.bindings]]\nname = "ROOMS"\nclass_name = "Room"\n'),
    # The EDG101 in store.py depends on entry.py: the key "hits" is the caller's.
    "src/entry.py": ('from store import bump\n\n\nasync def on_fetch(request, env):\n'
                     '    if request.url.endswith("/room"):\n'
                     '        stub = env.ROOMS.get(env.ROOMS.idFromName("lobby"))\n'
                     '        return await stub.fetch(request)\n'
                     '    return await bump(env, "hits")\n'),
    "src/store.py": ('async def bump(env, key):\n    views = int(await env.VIEWS.get(key) or 0)\n'
                     '    await env.VIEWS.put(key, str(views + 1))\n    return views + 1\n'),
    "src/plain.py": "def title(text):\n    return text.strip().title()\n",
}
ENTRY, STORE, PLAIN = "src/entry.py", "src/store.py", "src/plain.py"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# Runs the CLI, then prints on stderr's last line what the run read and whether it loaded libcst.
CLI_PROBE = """
import json, sys
from edgelint import projects
reads = []
original = projects.read_text
def read_text(path):
    reads.append(path)
    return original(path)
projects.read_text = read_text
from edgelint.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "reads": reads, "libcst": "libcst._nodes" in sys.modules}), file=sys.stderr)
"""
# Runs flake8, then prints on stderr's last line the edgelint and libcst modules it imported.
FLAKE8_PROBE = """
import atexit, json, sys
def report():
    sys.stdout.flush()
    loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("edgelint", "libcst"))
    print(json.dumps(loaded), file=sys.stderr)
atexit.register(report)
from flake8.main.cli import main
main(sys.argv[1:])
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "worker"
    write_project(root, WORKER)
    age(root)
    return root


def age(root: Path, files: bool = True) -> None:
    """Date the project's directories (and files) ten minutes back: written a while ago, so that
    their stats can be trusted (see cache.RACY_NS). The cache directory keeps its dates."""
    past = time.time() - 600
    for current, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name != CACHE_DIR]
        for name in filenames if files else ():
            os.utime(os.path.join(current, name), (past, past))
        os.utime(current, (past, past))


def cli(root: Path, *args: str) -> Tuple[str, Dict]:
    """(stdout, what the run did) of `edgelint ARGS` in `root`."""
    completed = subprocess.run([sys.executable, "-c", CLI_PROBE, *args], cwd=root, capture_output=True,
                               text=True, env=ENV)
    probe = json.loads(completed.stderr.splitlines()[-1])
    probe["reads"] = sorted(Path(os.path.relpath(os.path.join(root, path), root)).as_posix()
                            for path in probe["reads"])
    return completed.stdout, probe


def uncached(root: Path, *args: str) -> str:
    completed = subprocess.run([sys.executable, "-m", "edgelint", *args, "--no-cache"], cwd=root,
                               capture_output=True, text=True, env=ENV)
    return completed.stdout


def flake8(root: Path, *paths: str, stdin: Optional[str] = None,
           options: Tuple[str, ...] = ()) -> Tuple[List[str], List[str]]:
    """(report lines, edgelint and libcst modules imported) of one flake8 process. flake8's default
    format is edgelint's text format: the lines of both are compared as they are."""
    command = [sys.executable, "-c", FLAKE8_PROBE, "-j1", "--select", "EDG", *options, *paths]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, env=ENV, input=stdin)
    assert completed.stderr.strip(), completed
    return completed.stdout.splitlines(), json.loads(completed.stderr.splitlines()[-1])


def rows(text_report: str, path: str) -> List[str]:
    """The lines of a text report about one file."""
    return [line for line in text_report.splitlines() if line.startswith(path + ":")]


def entries(root: Path) -> List[Path]:
    return sorted(path for path in (root / CACHE_DIR).glob("*.json") if not path.name.startswith(MEMO_PREFIX))


def memos(root: Path) -> List[Path]:
    return sorted((root / CACHE_DIR).glob(f"{MEMO_PREFIX}*.json"))


def file_record(root: Path, relative: str) -> list:
    [entry] = entries(root)
    target = str(root / relative)
    return next(record for record in json.loads(entry.read_text())["files"] if record[0] == target)


def test_unchanged_project_is_answered_after_stats_only(project):
    cold, run = cli(project, "check", ".")
    assert run["libcst"] and run["reads"] == [ENTRY, PLAIN, STORE]
    assert "EDG101" in cold and "EDG201" in cold and cold == uncached(project, "check", ".")
    warm, run = cli(project, "check", ".")
    assert warm == cold and run == {"code": 1, "reads": [], "libcst": False}
    # Another spelling of the same files (a file named, from another directory) is the same entry.
    single, run = cli(project / "src", "check", "store.py")
    assert run["reads"] == [] and not run["libcst"] and len(entries(project)) == 1
    assert single.replace("store.py", "src/store.py") == "".join(cold.splitlines(True)[1:])


def test_a_file_with_a_noqa_comment_is_read_for_it(project):
    text = WORKER[ENTRY].replace('idFromName("lobby"))', 'idFromName("lobby"))  # noqa: EDG201')
    (project / ENTRY).write_text(text, encoding="utf-8")
    age(project)
    cold, _ = cli(project, "check", ".")
    assert "EDG201" not in cold and cold == uncached(project, "check", ".")
    warm, run = cli(project, "check", ".")
    assert warm == cold and run["reads"] == [ENTRY] and not run["libcst"]


def test_touched_but_unchanged_file_is_a_hit_and_refreshes_its_stats(project):
    cold, _ = cli(project, "check", ".")
    before = file_record(project, STORE)
    os.utime(project / STORE, (time.time() - 300, time.time() - 300))
    warm, run = cli(project, "check", ".")
    assert warm == cold and run["reads"] == [STORE] and not run["libcst"]
    after = file_record(project, STORE)
    assert after[2] == os.stat(project / STORE).st_mtime_ns != before[2] and after[3:] == before[3:]
    again, run = cli(project, "check", ".")
    assert again == cold and run["reads"] == []


def test_edited_file_is_a_miss(project):
    cold, _ = cli(project, "check", ".")
    with open(project / STORE, "a", encoding="utf-8") as handle:
        handle.write("# a comment changes no finding, but the file must be analysed again\n")
    same, run = cli(project, "check", ".")
    assert same == cold and run["libcst"]
    (project / ENTRY).write_text(WORKER[ENTRY].replace('"hits"', '"clicks"'), encoding="utf-8")
    edited, run = cli(project, "check", ".")
    assert run["libcst"] and '"clicks"' in edited and edited == uncached(project, "check", ".")
    assert len(entries(project)) == 1  # replaced, not added to


def test_a_recent_file_is_compared_by_content(project):
    """An edit that keeps the size and the mtime (two writes within the file system's timestamp
    granularity) is found when the mtime was too recent to trust when the entry was written."""
    soon = time.time() + 60  # just now, on a machine however slow (or a clock a minute behind the disk's)
    os.utime(project / ENTRY, (soon, soon))
    cold, _ = cli(project, "check", ".")
    assert file_record(project, ENTRY)[2] == cache.UNTRUSTED
    status = os.stat(project / ENTRY)
    (project / ENTRY).write_text(WORKER[ENTRY].replace('"hits"', '"hitz"'), encoding="utf-8")
    os.utime(project / ENTRY, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert (os.stat(project / ENTRY).st_mtime_ns, os.stat(project / ENTRY).st_size) == (status.st_mtime_ns,
                                                                                         status.st_size)
    edited, run = cli(project, "check", ".")
    assert '"hitz"' in edited and run["libcst"] and edited != cold


def test_wrangler_config_compared_by_its_bindings(project):
    cold, _ = cli(project, "check", ".")
    wrangler = project / "wrangler.toml"
    wrangler.write_text("# the same bindings, reformatted\n" + WORKER["wrangler.toml"], encoding="utf-8")
    same, run = cli(project, "check", ".")
    assert same == cold and not run["libcst"]
    wrangler.write_text(WORKER["wrangler.toml"].replace('"VIEWS"', '"OTHER"'), encoding="utf-8")
    changed, run = cli(project, "check", ".")
    assert run["libcst"] and changed != cold and changed == uncached(project, "check", ".")


def test_an_analysis_reuses_what_the_entry_recorded_only_under_the_same_bindings(project):
    """After a miss, a file whose content the entry recorded keeps its relevance (it is not checked
    again); once the binding table changes, relevance is found again: a binding named in a
    skipped file makes it relevant."""
    tally = "src/tally.py"
    (project / tally).write_text('def label():\n    return "TALLY"\n', encoding="utf-8")
    age(project)
    cli(project, "check", ".")
    assert file_record(project, tally)[-1] is True  # skipped: it names no binding
    with open(project / STORE, "a", encoding="utf-8") as handle:
        handle.write("# edited: a miss, under the same bindings\n")
    edited, run = cli(project, "check", ".")
    assert run["libcst"] and file_record(project, tally)[-1] is True and edited == uncached(project, "check", ".")
    (project / "wrangler.toml").write_text(WORKER["wrangler.toml"] + '\n[[kv_namespaces]]\nbinding = "TALLY"\nid = "2"\n',
                                           encoding="utf-8")
    rebound, run = cli(project, "check", ".")
    assert run["libcst"] and file_record(project, tally)[-1] is False
    assert rebound == uncached(project, "check", ".")


def test_flake8_answers_from_the_cli_entry_then_from_its_memo(project):
    report, _ = cli(project, "check", ".")
    [entry] = entries(project)
    written = entry.read_bytes(), entry.stat().st_mtime_ns
    age(project, files=False)  # the cache directory was created just now in the project root
    found, loaded = flake8(project, STORE, ENTRY)
    assert sorted(found) == sorted(rows(report, STORE) + rows(report, ENTRY)) and found
    assert "edgelint.projects" in loaded and "edgelint.engine" not in loaded and "libcst._nodes" not in loaded
    assert (entry.read_bytes(), entry.stat().st_mtime_ns) == written  # read, not rewritten
    assert len(memos(project)) == 1  # one directory
    again, loaded = flake8(project, STORE, ENTRY)
    assert again == found
    assert "edgelint.config" not in loaded and "edgelint.projects" not in loaded, loaded


def test_flake8_memo_follows_the_project(project):
    """After each change the memo is not used (the configuration is loaded), flake8 reports what the
    CLI reports, and the next run answers from the memo again."""
    flake8(project, STORE)

    def agrees() -> List[str]:
        age(project)  # the change was made a while ago
        found, loaded = flake8(project, STORE)
        assert "edgelint.config" in loaded and found == rows(uncached(project, "check", STORE), STORE)
        again, loaded = flake8(project, STORE)
        assert again == found and "edgelint.config" not in loaded
        return found

    before = agrees()
    assert [row.split()[1] for row in before] == ["EDG101"]
    (project / ENTRY).write_text(WORKER[ENTRY].replace('"hits"', '"hitz"'), encoding="utf-8")  # a caller
    before = [row.replace('"hits"', '"hitz"') for row in before]
    assert agrees() == before
    (project / "src" / "admin.py").write_text("from store import bump\n\n\nasync def scheduled(event, env, ctx):\n"
                                               "    await bump(env, 'nightly')\n", encoding="utf-8")  # a new file
    agrees()
    (project / "pyproject.toml").write_text('[tool.edgelint]\nignore = ["EDG101"]\n', encoding="utf-8")
    assert agrees() == []
    (project / "pyproject.toml").write_text('[tool.other]\nignore = ["EDG101"]\n', encoding="utf-8")
    assert agrees() == before
    (project / "src" / "wrangler.toml").write_text('name = "nested"\n', encoding="utf-8")  # another root
    (project / "src" / CACHE_DIR).mkdir()  # its cache directory made by an earlier run: a new one is a change
    agrees()


def test_flake8_lints_a_changed_buffer_without_caching(project):
    fixed = WORKER[STORE].replace("await env.VIEWS.put(key, str(views + 1))", "pass")
    found, loaded = flake8(project, "-", stdin=fixed, options=("--stdin-display-name", STORE))
    assert found == [] and "edgelint.engine" in loaded
    assert not (project / CACHE_DIR).exists()
    on_disk, _ = flake8(project, STORE)
    assert [row.split()[1] for row in on_disk] == ["EDG101"]


def test_concurrent_processes_share_one_cache(project):
    for index in range(24):  # enough work for the runs to overlap
        write_project(project, {f"src/mod_{index}.py": WORKER[ENTRY].replace('"hits"', f'"hits{index}"')
                                .replace('"lobby"', f'"lobby{index}"')})
    age(project)
    expected = uncached(project, "check", ".")
    command = [sys.executable, "-m", "edgelint", "check", "."]
    processes = [subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=ENV) for _ in range(2)]
    processes.append(subprocess.Popen([sys.executable, "-m", "flake8", "-j1", "--select", "EDG", STORE],
                                      cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV))
    outputs = [process.communicate() for process in processes]
    assert [output for output, _ in outputs[:2]] == [expected, expected], outputs
    assert outputs[2][0].splitlines() == rows(expected, STORE)
    assert len(entries(project)) == 1 and not list((project / CACHE_DIR).glob("*.tmp"))
    warm, run = cli(project, "check", ".")
    assert warm == expected and run["reads"] == [] and not run["libcst"]


def test_cache_stays_bounded(project):
    directory = project / CACHE_DIR
    directory.mkdir()
    now = time.time()

    def record(name: str, age_s: float) -> Path:
        path = directory / name
        path.write_text("{}", encoding="utf-8")
        os.utime(path, (now - age_s, now - age_s))
        return path

    fresh = [record(f"{index:040x}.json", 100 + index) for index in range(MAX_ENTRIES + 4)]
    stale = record(f"{'f' * 40}.json", 31 * 24 * 3600)
    notes = [record(f"{MEMO_PREFIX}{index:016x}.json", 100 + index) for index in range(MAX_MEMOS + 3)]
    killed, writing = record("killed.tmp", 2 * 3600), record("writing.tmp", 1)
    cli(project, "check", ".")
    kept = entries(project)
    assert len(kept) == MAX_ENTRIES and not stale.exists() and not killed.exists() and writing.exists()
    assert set(fresh[:MAX_ENTRIES - 1]) < set(kept)  # the most recently used, and the one just written
    assert memos(project) == notes[:MAX_MEMOS]
    flake8(project, STORE)  # a memo written: the memos are bounded too
    assert len(memos(project)) == MAX_MEMOS and set(notes[:MAX_MEMOS - 1]) < set(memos(project))


def test_clean_removes_entries_and_memos(project, run_cli):
    cli(project, "check", ".")
    flake8(project, STORE)
    assert entries(project) and memos(project)
    assert run_cli("clean", cwd=project)[0] == 0
    assert not (project / CACHE_DIR).exists()


def imported(command: List[str], cwd: Path) -> List[str]:
    """The modules a process imports (`python -X importtime`)."""
    completed = subprocess.run([sys.executable, "-X", "importtime", *command], cwd=cwd, capture_output=True,
                               text=True, env=ENV)
    return [line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines() if line.startswith("import time:")]


def test_cheap_paths_import_nothing_heavy(project):
    cli(project, "check", ".")
    age(project, files=False)
    flake8(project, STORE)
    cli_modules = imported(["-m", "edgelint", "check", "."], project)
    assert "edgelint.cli" in cli_modules and "edgelint.linting" in cli_modules
    # Neither the parser nor the engine, the rules or a pool: the entry answers.
    cli_heavy = ("libcst", "edgelint.engine", "edgelint.rules", "edgelint.model.project", "multiprocessing")
    assert not [name for name in cli_modules if name.startswith(cli_heavy)]
    # flake8 loads the plugin with importlib.import_module, which -X importtime does not show: the
    # modules the plugin imports are shown.
    plugin_modules = imported(["-m", "flake8", "-j1", "--select", "EDG", STORE], project)
    assert "edgelint.cache" in plugin_modules
    heavy = ("libcst", "edgelint.config", "edgelint.model", "edgelint.rules", "edgelint.engine")
    assert not [name for name in plugin_modules if name.startswith(heavy)]
