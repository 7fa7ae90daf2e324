"""The resident edgelint (edgelint.daemon) that answers the flake8 plugin: real flake8 processes
answer what a flake8 that lints in its own process answers, edit after edit, without importing the
parser; the resident process starts when none listens (not under CI), and leaves when asked, when
idle, or when told of other code.

A twin of the project, linted by flake8 processes with the resident edgelint turned off, gets the
same edits: its reports are what each resident answer must be.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

from edgelint import daemon
from tests.helpers import write_project
from tests.test_incremental_cache import ENTRY, ENV, FLAKE8_PROBE, STORE, WORKER, age

pytestmark = pytest.mark.skipif(not daemon.supported(), reason="the resident edgelint needs Unix sockets")


@pytest.fixture
def resident() -> Iterator[Dict[str, str]]:
    """The environment of a flake8 with the resident edgelint on, in a cache directory of its own
    (short: a socket's path holds about 100 bytes); the resident process is stopped afterwards."""
    cache = tempfile.mkdtemp(prefix="edgelint-", dir="/tmp")
    environment = {**ENV, "EDGELINT_DAEMON": "1", "EDGELINT_CACHE_DIR": cache}
    environment.pop("CI", None)
    yield environment
    address = address_in(environment)
    if address:
        daemon.stop(address)
    shutil.rmtree(cache, ignore_errors=True)


def address_in(environment: Dict[str, str]) -> Optional[str]:
    """The resident edgelint's socket as a flake8 in `environment` computes it."""
    code = "from edgelint import daemon; print(daemon.address() or '')"
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                          text=True).stdout.strip() or None


def listening(address: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(address)
                return True
            except OSError:
                time.sleep(0.1)
    return False


def flake8(root: Path, environment: Dict[str, str], *options: str, stdin: Optional[str] = None,
           target: str = STORE) -> Tuple[List[str], List[str]]:
    """(report lines with the project's path as ROOT, edgelint and libcst modules the flake8
    process imported)."""
    command = [sys.executable, "-c", FLAKE8_PROBE, "-j1", "--select", "EDG", *options, target]
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True, env=environment, input=stdin)
    return completed.stdout.replace(str(root), "ROOT").splitlines(), json.loads(completed.stderr.splitlines()[-1])


@pytest.fixture
def twins(tmp_path: Path) -> Tuple[Path, Path]:
    """The same project twice: one for flake8 with the resident edgelint, one for flake8 without."""
    pair = tmp_path / "resident", tmp_path / "alone"
    for root in pair:
        write_project(root, WORKER)
        age(root)
    return pair


EDITS = [  # (what changes, files written: the report must follow each)
    ("a caller's key", {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')}),
    ("a new caller", {"src/admin.py": "from store import bump\n\n\nasync def scheduled(event, env, ctx):\n"
                                      "    await bump(env, 'nightly')\n"}),
    ("the new caller deleted", {"src/admin.py": None}),
    ("a setting", {"pyproject.toml": '[tool.edgelint]\nignore = ["EDG101"]\n'}),
    ("the setting undone", {"pyproject.toml": '[tool.other]\nignore = ["EDG101"]\n'}),
    ("a broken setting", {"pyproject.toml": '[tool.edgelint]\nselct = ["EDG101"]\n'}),
    ("the setting mended", {"pyproject.toml": ""}),
    ("the binding renamed", {"wrangler.toml": WORKER["wrangler.toml"].replace('"VIEWS"', '"HITS"')}),
    ("the binding back", {"wrangler.toml": WORKER["wrangler.toml"]}),
]


def test_the_resident_edgelint_answers_each_edit_as_flake8_alone_does(twins, resident):
    with_resident, alone = twins
    found, loaded = flake8(with_resident, resident)
    assert "edgelint.engine" in loaded  # none listened: linted in its own process, and one started
    assert found == flake8(alone, ENV)[0] and [row.split()[1] for row in found] == ["EDG101"]
    address = address_in(resident)
    assert address and listening(address, within=60)
    for change, files in EDITS:
        for root in twins:
            write_project(root, {path: text for path, text in files.items() if text is not None})
            for path in (path for path, text in files.items() if text is None):
                (root / path).unlink()
            age(root)
        expected, loaded_alone = flake8(alone, ENV)
        found, loaded = flake8(with_resident, resident)
        assert found == expected, change
        assert "edgelint.engine" not in loaded and "libcst._nodes" not in loaded, change  # the resident answered
        assert "edgelint.config" in loaded_alone, change  # the edit was not answered by a memo

    # flake8's own selection and an unsaved buffer travel with the request.
    selection = ("--extend-ignore", "EDG101", "--per-file-ignores", "src/entry.py:EDG201")
    found, loaded = flake8(with_resident, resident, *selection)
    assert found == flake8(alone, ENV, *selection)[0] and "edgelint.engine" not in loaded
    buffer = WORKER[STORE].replace("await env.VIEWS.put(key, str(views + 1))", "pass")
    for name in (STORE, ENTRY):
        expected, _ = flake8(alone, ENV, "--stdin-display-name", name, stdin=buffer, target="-")
        found, loaded = flake8(with_resident, resident, "--stdin-display-name", name, stdin=buffer, target="-")
        assert found == expected and "edgelint.engine" not in loaded, name


def test_a_broken_setting_reaches_flake8_from_the_resident_edgelint(twins, resident):
    with_resident, alone = twins
    flake8(with_resident, resident)
    assert listening(address_in(resident), within=60)
    for root in twins:
        write_project(root, {"pyproject.toml": '[tool.edgelint]\nselct = ["EDG101"]\n'})
        age(root)
    found, loaded = flake8(with_resident, resident)
    assert found == flake8(alone, ENV)[0] and "EDG998" in found[0] and "edgelint.engine" not in loaded


def test_two_flake8_processes_at_once_get_their_answers(twins, resident):
    with_resident, alone = twins
    flake8(with_resident, resident)
    assert listening(address_in(resident), within=60)
    for root in twins:
        write_project(root, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')})
        age(root)
    command = [sys.executable, "-m", "flake8", "-j1", "--select", "EDG"]
    processes = [subprocess.Popen([*command, path], cwd=with_resident, stdout=subprocess.PIPE, text=True,
                                  env=resident) for path in (STORE, ENTRY, STORE)]
    outputs = [process.communicate()[0].splitlines() for process in processes]
    assert outputs == [flake8(alone, ENV, target=path)[0] for path in (STORE, ENTRY, STORE)]


def test_a_dead_resident_edgelint_is_replaced(twins, resident):
    """A socket file left by a killed resident process (or anything else at its path): flake8 lints
    in its own process, and a new resident edgelint takes the path."""
    with_resident, alone = twins
    address = address_in(resident)
    os.makedirs(os.path.dirname(address), exist_ok=True)
    Path(address).write_text("not a socket")
    found, loaded = flake8(with_resident, resident)
    assert found == flake8(alone, ENV)[0] and "edgelint.engine" in loaded
    assert listening(address, within=60)


def test_no_resident_edgelint_is_started_under_ci_or_when_turned_off(twins, resident):
    with_resident, _ = twins
    address = address_in(resident)
    for variable, value in (("CI", "true"), ("GITHUB_ACTIONS", "true"), ("TF_BUILD", "True"), ("EDGELINT_DAEMON", "0")):
        flake8(with_resident, {**resident, variable: value})
        time.sleep(1)
        assert not listening(address, within=1), variable
    write_project(with_resident, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')})  # the memo does not answer
    flake8(with_resident, {**resident, "CI": "false"})
    assert listening(address, within=60)


def test_where_no_resident_edgelint_can_listen_none_is_started_again(twins, resident):
    """A resident process that cannot listen at its path (a directory stands there here; a file
    system without sockets in life) says so, and flake8 runs stop starting one there."""
    with_resident, alone = twins
    address = address_in(resident)
    os.makedirs(address)  # bind fails: the path is taken by a directory
    flake8(with_resident, resident)
    unusable = Path(f"{address}.unusable")
    deadline = time.monotonic() + 60
    while not unusable.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert unusable.exists()
    first = Path(f"{address}.lock").read_text()  # the pid of the one that tried
    write_project(with_resident, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')})  # the memo does not answer
    write_project(alone, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')})
    found, loaded = flake8(with_resident, resident)
    assert found == flake8(alone, ENV)[0] and "edgelint.engine" in loaded
    time.sleep(2)
    assert Path(f"{address}.lock").read_text() == first  # no other one started


def test_a_same_size_edit_within_one_mtime_tick_is_seen(twins, resident):
    """Two edits that leave a file's size and mtime as they were: the resident process must not
    answer from what it kept of the first (a recent mtime is not trusted: cache.RACY_NS)."""
    with_resident, alone = twins
    flake8(with_resident, resident)
    assert listening(address_in(resident), within=60)
    for root in twins:
        write_project(root, {STORE: WORKER[STORE].replace('"VIEWS"', '"VIEWS"')})  # a fresh mtime
    mtimes = [(root / STORE).stat().st_mtime_ns for root in twins]
    assert flake8(with_resident, resident)[0] == flake8(alone, ENV)[0] != []
    for root, mtime in zip(twins, mtimes):
        write_project(root, {STORE: WORKER[STORE].replace("VIEWS.put", "VIEWS.get")})  # the same size
        os.utime(root / STORE, ns=(mtime, mtime))
    found, loaded = flake8(with_resident, resident)
    assert found == flake8(alone, ENV)[0] == [] and "edgelint.engine" not in loaded


def test_a_busy_or_stuck_resident_edgelint_keeps_no_one_waiting(twins, resident, tmp_path):
    """While the resident process analyses a large project, flake8 on another project is answered
    in its own process (busy); a stopped resident process costs a client two seconds at most."""
    from tests.test_incremental_analysis import write_corpus

    with_resident, alone = twins
    address = address_in(resident)
    flake8(with_resident, resident)
    assert listening(address, within=60)
    large = tmp_path / "large"
    write_corpus(large, 400, seed=3)
    command = [sys.executable, "-m", "flake8", "-j1", "--select", "EDG", "src/app/mod_0001.py"]
    analysing = subprocess.Popen(command, cwd=large, env=resident, stdout=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # the resident process took the large project
        for root in twins:  # the memo does not answer
            write_project(root, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hitz"')})
        found, loaded = flake8(with_resident, resident, target=ENTRY)
        busy = analysing.poll() is None
        assert found == flake8(alone, ENV, target=ENTRY)[0]
        assert busy and "edgelint.engine" in loaded  # not queued behind the large analysis
    finally:
        analysing.wait(timeout=600)
    pid = int(Path(f"{address}.lock").read_text())  # the resident process writes its pid there
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        write_project(with_resident, {ENTRY: WORKER[ENTRY].replace('"hits"', '"hits!"')})
        found, loaded = flake8(with_resident, resident)
        assert time.monotonic() - began < 15 and "edgelint.engine" in loaded
        assert [row.split()[1] for row in found] == ["EDG101"] and '"hits!"' in found[0]
    finally:
        os.kill(pid, signal.SIGCONT)


def serve_in_process(address: str, environment: Dict[str, str], idle: float) -> subprocess.Popen:
    code = (f"import sys\nfrom edgelint import daemon\ndaemon.IDLE_S, daemon.CHECK_S = {idle}, 0.2\n"
            "daemon.serve(sys.argv[1])\n")
    return subprocess.Popen([sys.executable, "-c", code, address], env=environment)


@pytest.fixture
def served(resident) -> Iterator[Callable[[float], subprocess.Popen]]:
    """Start resident processes at the environment's address (each killed at the end if still there)."""
    started: List[subprocess.Popen] = []

    def serve(idle: float = 600) -> subprocess.Popen:
        started.append(serve_in_process(address_in(resident), resident, idle))
        return started[-1]

    yield serve
    for process in started:
        process.kill()
        process.wait()


def test_the_resident_edgelint_leaves_when_idle_or_asked(resident, served, tmp_path):
    address = address_in(resident)
    idle = served(1.0)
    assert listening(address, within=60)
    assert idle.wait(timeout=30) == 0 and not os.path.exists(address)  # a second idle: it left

    process = served()
    assert listening(address, within=60)
    assert served().wait(timeout=60) == 0  # the lock is taken: a second one returns at once
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:  # nonsense: the next one is answered
        client.connect(address)
        client.sendall(b"\xff{")
    cleaned = subprocess.run([sys.executable, "-m", "edgelint", "clean", "."], cwd=tmp_path, env=resident,
                             capture_output=True, text=True)
    assert "Stopped the resident edgelint" in cleaned.stderr
    assert process.wait(timeout=30) == 0 and not os.path.exists(address)


def test_the_resident_edgelint_leaves_when_told_of_other_code_or_its_socket_goes(resident, served):
    address = address_in(resident)
    process = served()
    assert listening(address, within=60)
    assert daemon.ask(address, {"code": "another edgelint"}) == {"stale": True}
    assert process.wait(timeout=30) == 0 and not os.path.exists(address)

    process = served()
    assert listening(address, within=60)
    shutil.rmtree(os.path.dirname(address))  # a cleaned cache directory
    assert process.wait(timeout=30) == 0
    replacement = served()
    assert listening(address, within=60) and replacement.poll() is None  # the next one serves


@pytest.mark.parametrize("seed", [11, 12])
def test_one_resident_process_answers_random_edits_as_a_cold_run_does(tmp_path, seed, monkeypatch):
    """The resident edgelint's request, served in this process edit after edit (its unpickled
    memories kept, as the resident process keeps them): every module's answer is a cold run's."""
    from edgelint import cache
    from edgelint.cache import code_id
    from edgelint.wrangler import forget_configs
    from tests.test_incremental_analysis import EDITS as RANDOM_EDITS, _lint, _modules, write_corpus

    monkeypatch.setattr(cache, "_kept_values", {})
    rng = random.Random(seed)
    root = tmp_path / "worker"
    write_corpus(root, 12, seed=seed)
    for step in range(13):
        answers = {path: daemon.answer_request({"code": code_id(), "cwd": str(root), "path": str(path),
                                                "options": None, "text": path.read_text(encoding="utf-8")})
                   for path in _modules(root)}
        forget_configs()  # the cold run reads the wrangler config afresh
        cold = _lint(root, use_cache=False)
        for path, answer in answers.items():
            expected = [(line, column - 1, f"{code} {message}") for file, line, column, code, message, *_ in cold
                        if Path(file) == path]
            assert sorted(map(tuple, answer["reported"])) == sorted(expected), (step, path)
        if step == 11:  # last, a binding the code uses renamed: every use of it is reported
            config = (root / "wrangler.toml").read_text(encoding="utf-8")
            assert 'binding = "CACHE"' in config
            write_project(root, {"wrangler.toml": config.replace('binding = "CACHE"', 'binding = "KV_CACHE"')})
        else:
            rng.choice(RANDOM_EDITS)(root, rng)


def test_idle_after_an_answer_the_resident_process_loads_the_memory_the_next_edit_needs(tmp_path, monkeypatch):
    """`prepare_for` (run when the resident process has been idle a moment after an answer) leaves
    the project's analysis memory unpickled in the process; a request it cannot serve is ignored."""
    from edgelint import cache, flake8_plugin
    from edgelint.cache import ANALYSIS_SUFFIX, code_id
    from tests.test_incremental_analysis import write_corpus

    monkeypatch.setattr(cache, "_kept_values", {})
    root = tmp_path / "worker"
    write_corpus(root, 6, seed=3)
    module = next((root / "src" / "app").glob("mod_*.py"))
    request = {"code": code_id(), "cwd": str(root), "path": str(module), "options": None,
               "text": module.read_text(encoding="utf-8")}
    here = os.getcwd()
    daemon.answer_request(request)  # analysed: the cache holds the memory, on disk
    cache._kept_values.clear()
    daemon.prepare_for(request)
    assert [path for path in cache._kept_values if path.endswith(ANALYSIS_SUFFIX)] and os.getcwd() == here
    def failing(path: str) -> None:
        raise OSError(path)

    monkeypatch.setattr(flake8_plugin, "prepare", failing)
    daemon.prepare_for(request)  # fails in the request's directory: quietly, and back here
    assert os.getcwd() == here
