"""The resident edgelint that answers the flake8 plugin: its imports and caches stay warm.

flake8 starts a new Python on every run. After an edit, the plugin's own lint takes a few
hundredths of a second, but importing the parser, the model and the rules and reading the
project's memory from the disk take longer than flake8's whole run. So the plugin hands the file
to a resident edgelint process when one listens, and starts one in the background (for the next
run) when it had to lint in its own process. The resident process runs the function the plugin
runs (`flake8_plugin.lint_in_project`) in the client's working directory with the client's flake8
selection, on the same code: the answer is the same.

- One resident process per user, Python, edgelint code (`cache.code_id`: an upgrade or an edited
  checkout starts another; the old one notices that its code changed and leaves) and PYTHONPATH.
- It listens on a Unix socket in edgelint's user cache directory (`cstimport.user_cache_directory`),
  that only the user can open; a lock file keeps a second one from starting.
- It answers one request at a time and leaves after `IDLE_S` without any.
- `EDGELINT_DAEMON=0` turns it off. It is not started when `CI` is set (a CI job runs flake8 once)
  or without Unix sockets (Windows): then the plugin lints in its own process, as before.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

DAEMON_VARIABLE = "EDGELINT_DAEMON"
IDLE_S = 15 * 60  # without a request for this long, the resident process leaves
CHECK_S = 30.0  # how often an idle resident process looks whether its code changed
COLLECT_AFTER_S = 1.0  # a quiet second after an answer: collect what that lint left
CONNECT_TIMEOUT_S = 1.0
ANSWER_TIMEOUT_S = 600.0  # a first analysis of a large project, queued behind another
REQUEST_TIMEOUT_S = 10.0
MAX_SOCKET_PATH = 100  # sun_path holds 104 bytes on macOS, 108 on Linux


def supported() -> bool:
    return os.name == "posix" and hasattr(socket, "AF_UNIX")


def enabled() -> bool:
    """Whether the plugin may use (and start) a resident edgelint here."""
    return supported() and os.environ.get(DAEMON_VARIABLE, "").strip().lower() not in ("0", "off", "false", "no")


def address() -> Optional[str]:
    """The socket of the resident edgelint for this Python, this edgelint code and this
    PYTHONPATH; None when there is no user cache directory or its path is too long."""
    from edgelint.cache import code_id
    from edgelint.cstimport import user_cache_directory

    directory = user_cache_directory()
    if directory is None:
        return None
    identity = "\0".join([sys.prefix, os.path.realpath(sys.executable), _package_parent(), code_id(), os.environ.get("PYTHONPATH", ""),
                          str(os.getuid())])
    path = os.path.join(os.path.abspath(directory), f"daemon-{hashlib.sha256(identity.encode()).hexdigest()[:16]}")
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def ask(path: str, request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The resident edgelint's answer to `request`, or None when none listens at `path` or
    anything goes wrong on the way (then the caller lints in its own process)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(CONNECT_TIMEOUT_S)
            connection.connect(path)
            connection.settimeout(ANSWER_TIMEOUT_S)
            connection.sendall(json.dumps(request).encode())
            connection.shutdown(socket.SHUT_WR)
            answer = json.loads(_received(connection))
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def start(path: str) -> None:
    """Start a resident edgelint at `path` in the background, detached from this process (its
    terminal, its pipes), unless the environment says not to."""
    if os.environ.get("CI"):
        return
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [_package_parent(), os.environ.get("PYTHONPATH")]))
    try:
        subprocess.Popen([sys.executable, "-m", "edgelint.daemon", path], cwd="/", env=environment,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
    except OSError:
        pass


def stop(path: str) -> bool:
    """Ask the resident edgelint at `path` to leave; whether one was listening."""
    return ask(path, {"stop": True}) is not None


def serve(path: str) -> None:
    """Answer requests at `path` until idle for IDLE_S or until edgelint's code changes; return at
    once when another resident edgelint holds the path's lock."""
    import fcntl

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lock = open(f"{path}.lock", "a")
    except OSError:
        return
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another one serves (or is starting to)
        code = _warm_up()
        listener = _listen(path)
        if listener is None:
            return
        with listener:
            try:
                _serve_until_idle(listener, code)
            finally:
                _unlink(path)


def _warm_up() -> str:
    """Import what a lint needs, before the first request, and freeze it out of the collector's way."""
    import edgelint.engine  # noqa: F401 - the parser, the model
    import edgelint.flake8_plugin  # noqa: F401
    import edgelint.rules  # noqa: F401
    from edgelint.cache import code_id, keep_loaded_values

    keep_loaded_values()  # each project's analysis memory, unpickled once while its file stays
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # see edgelint.projects.fewer_collections
    return code_id()


def _listen(path: str) -> Optional[socket.socket]:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o077)  # the socket: the user's alone
    try:
        _unlink(path)  # left by a resident process that was killed (the lock is ours)
        listener.bind(path)
        listener.listen(16)
    except OSError:
        listener.close()
        return None
    finally:
        os.umask(mask)
    return listener


def _serve_until_idle(listener: socket.socket, code: str) -> None:
    from edgelint.cache import code_id

    last = time.monotonic()
    garbage = False
    while True:
        listener.settimeout(COLLECT_AFTER_S if garbage else CHECK_S)
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            if garbage:
                gc.collect()
                garbage = False
            elif time.monotonic() - last > IDLE_S or code_id.__wrapped__() != code:
                return
            continue
        with connection:
            if not _answer(connection, code):
                return
        last, garbage = time.monotonic(), True


def _answer(connection: socket.socket, code: str) -> bool:
    """Answer one request; False when the resident process should leave."""
    try:
        connection.settimeout(REQUEST_TIMEOUT_S)
        request = json.loads(_received(connection))
        if request.get("stop"):
            connection.sendall(b"{}")
            return False
        answer = answer_request(request) if request.get("code") == code else {"stale": True}
        connection.settimeout(ANSWER_TIMEOUT_S)
        connection.sendall(json.dumps(answer).encode())
    except (OSError, ValueError, LookupError, TypeError, AttributeError):
        pass  # a client that went away or spoke nonsense: the next one is answered
    return True


def answer_request(request: Dict[str, Any]) -> Dict[str, Any]:
    """What the plugin reports for the request's file, as its own process would have: `reported`,
    `config_error` (path, problem) or `failed` (then the plugin lints in its own process)."""
    from edgelint.errors import ConfigError
    from edgelint.flake8_plugin import Flake8Selection, lint_in_project
    from edgelint.wrangler import forget_configs

    forget_configs()  # found and read afresh, as by a new process (a few stats and one small parse)
    options = request["options"]
    selection = Flake8Selection(argparse.Namespace(**options) if options is not None else None)
    previous = os.getcwd()
    os.chdir(request["cwd"])  # flake8's per-file-ignores and the paths are relative to it
    try:
        reported: List[Any] = lint_in_project(request["path"], request["text"], selection)
        return {"reported": reported}
    except ConfigError as exc:
        return {"config_error": [exc.path, exc.problem]}
    except Exception:  # noqa: BLE001 - the client lints in its own process and reports as it would
        return {"failed": True}
    finally:
        os.chdir(previous)


def _received(connection: socket.socket) -> bytes:
    parts = []
    while True:
        part = connection.recv(1 << 16)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _package_parent() -> str:
    """The directory edgelint's package is imported from: the resident process imports the same."""
    import edgelint

    return os.path.dirname(os.path.dirname(os.path.abspath(edgelint.__file__)))


if __name__ == "__main__":
    serve(sys.argv[1])
