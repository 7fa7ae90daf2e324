"""The resident edgelint that answers the flake8 plugin: its imports and caches stay warm.

flake8 starts a new Python on every run. After an edit, the plugin's own lint takes a few
hundredths of a second, but importing the parser, the model and the rules and reading the
project's memory from the disk take longer than flake8's whole run. So the plugin hands the file
to a resident edgelint process when one listens, and starts one in the background (for the next
run) when it had to lint in its own process. The resident process runs the function the plugin
runs (`flake8_plugin.lint_in_project`) in the client's working directory with the client's flake8
selection, on the same code: the answer is the same.

- One resident process per user, host, Python, edgelint code (`cache.code_id`), installed libcst
  and flake8, and PYTHONPATH: an upgrade or an edited checkout starts another; the old one notices
  that its code changed (or is told by a client of the new code) and leaves.
- It listens on a Unix socket in edgelint's user cache directory (`cstimport.user_cache_directory`)
  that only the user can open (and, on Linux, each end checks that the other is the same user); a
  lock file keeps a second one from starting. It leaves when its socket or lock file is deleted or
  taken over (a cleaned cache directory), after `IDLE_S` without a request, and when asked
  (`edgelint clean`).
- Once it has been idle a moment after an answer, it collects what that lint left and loads the
  memory of the file's project (`flake8_plugin.prepare`): an edit of the file is the likely next
  request, and it is then answered without unpickling the memory first (a request that comes
  meanwhile waits for that, a few hundredths of a second).
- It lints one file at a time. A request that comes while it lints is answered "busy" at once, and
  so is none that a stuck process could not take within `ACCEPTED_TIMEOUT_S`: the plugin then lints
  in its own process, as it would without it. A client never waits behind another's analysis.
- `EDGELINT_DAEMON=0` turns it off. It is not started under CI (`CI` and the variables other CI
  services set: a CI job runs flake8 once), where the cache directory cannot take it (unwritable,
  or the last one could not listen there in the past `UNUSABLE_S`), or without Unix sockets
  (Windows): then the plugin lints in its own process, as before.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import hashlib
import json
import os
import queue
import socket
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from edgelint.atomic import remove_quietly, write_atomic

DAEMON_VARIABLE = "EDGELINT_DAEMON"
CI_VARIABLES = ("CI", "CONTINUOUS_INTEGRATION", "GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "TF_BUILD",
                "JENKINS_URL", "TEAMCITY_VERSION", "BUILD_NUMBER")
IDLE_S = 15 * 60  # without a request for this long, the resident process leaves
CHECK_S = 30.0  # how often an idle resident process looks whether its code changed
COLLECT_AFTER_S = 1.0  # a quiet second after an answer: collect what that lint left
CONNECT_TIMEOUT_S = 1.0
ACCEPTED_TIMEOUT_S = 2.0  # a resident process takes or declines a request at once, unless stuck
ANSWER_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 10.0
MAX_SOCKET_PATH = 100  # sun_path holds 104 bytes on macOS, 108 on Linux
UNUSABLE_S = 3600  # where a resident process could not listen, none is started again for this long
ACCEPTED, BUSY = b"A", b"B"  # the first byte of a reply


def supported() -> bool:
    return os.name == "posix" and hasattr(socket, "AF_UNIX")


def enabled() -> bool:
    """Whether the plugin may use (and start) a resident edgelint here."""
    return supported() and os.environ.get(DAEMON_VARIABLE, "").strip().lower() not in ("0", "off", "false", "no")


def under_ci() -> bool:
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no") for name in CI_VARIABLES)


@functools.lru_cache(maxsize=None)
def address() -> Optional[str]:
    """The socket of the resident edgelint for this user, host, Python, edgelint code, libcst,
    flake8 and PYTHONPATH; None when there is no user cache directory or its path is too long.
    Found once per process (flake8 asks for every file)."""
    from edgelint.cache import code_id
    from edgelint.cstimport import user_cache_directory

    directory = user_cache_directory()
    if directory is None:
        return None
    identity = "\0".join([sys.prefix, os.path.realpath(sys.executable), _package_parent(), code_id(),
                          os.environ.get("PYTHONPATH", ""), str(os.getuid()), socket.gethostname(),
                          *map(_installed_stamp, ("libcst", "flake8"))])
    path = os.path.join(os.path.abspath(directory), f"daemon-{hashlib.sha256(identity.encode()).hexdigest()[:16]}")
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def ask(path: str, request: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The resident edgelint's answer to `request`: {"busy": True} when it is linting another file;
    None when none listens at `path`, it is stuck, or anything goes wrong on the way (then the
    caller lints in its own process)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(CONNECT_TIMEOUT_S)
            connection.connect(path)
            if not _same_user(connection):
                return None
            connection.sendall(json.dumps(request).encode())
            connection.shutdown(socket.SHUT_WR)
            connection.settimeout(ACCEPTED_TIMEOUT_S)
            taken = connection.recv(1)
            if taken == BUSY:
                return {"busy": True}
            if taken != ACCEPTED:
                return None
            connection.settimeout(ANSWER_TIMEOUT_S)
            answer = json.loads(_received(connection))
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def start(path: str) -> None:
    """Start a resident edgelint at `path` in the background, detached from this process (its
    terminal, its pipes), unless under CI, one holds (or is taking) the lock, or the cache
    directory cannot take it."""
    if under_ci() or not _startable(path):
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
    """Ask the resident edgelint at `path` to leave (after the file it lints); whether one listened."""
    return ask(path, {"stop": True}) is not None


def _startable(path: str) -> bool:
    import fcntl

    try:
        if time.time() - os.stat(f"{path}.unusable").st_mtime < UNUSABLE_S:
            return False  # the last one could not listen there
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(f"{path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released when closed
    except OSError:
        return False
    return True


def serve(path: str) -> None:
    """Answer requests at `path` until it should leave (see the module's docstring); return at once
    when another resident edgelint holds the path's lock."""
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
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")  # which process serves, for whoever looks
        lock.flush()
        code = _warm_up()
        try:
            listener = _listen(path)
        except OSError as exc:  # a file system without sockets, say: clients stop starting one here
            with contextlib.suppress(OSError):
                write_atomic(f"{path}.unusable", f"{exc}\n".encode())
            return
        server = _Server(path, listener, lock, code)
        try:
            server.serve()
        finally:
            listener.close()
            if server.owns_socket():
                remove_quietly(path)


def _warm_up() -> str:
    """Import what a lint needs, before the first request, and freeze it out of the collector's way."""
    # What a lint after an edit needs: the parser, the model, the analysis, the tree store.
    import libcst.native  # noqa: F401
    import edgelint.engine  # noqa: F401
    import edgelint.flake8_plugin  # noqa: F401
    import edgelint.model.analysis  # noqa: F401
    import edgelint.rules  # noqa: F401
    import edgelint.tree_bytes  # noqa: F401
    from edgelint.cache import code_id, keep_loaded_values

    keep_loaded_values()  # each project's analysis memory, unpickled once while its file stays
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)  # see edgelint.projects.fewer_collections
    return code_id()


def _listen(path: str) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o077)  # the socket: the user's alone
    try:
        remove_quietly(path)  # left by a resident process that was killed (the lock is ours)
        listener.bind(path)
        listener.listen(16)
    except OSError:
        listener.close()
        raise
    finally:
        os.umask(mask)
    return listener


Job = Optional[Tuple[socket.socket, Dict[str, Any]]]  # None: leave


class _Server:
    """A thread takes each connection and its request at once (declining it while a lint runs);
    the main thread lints what was taken."""

    def __init__(self, path: str, listener: socket.socket, lock: Any, code: str):
        self.path, self.listener, self.lock, self.code = path, listener, lock, code
        self.socket_id = _inode(path)
        self.jobs: "queue.Queue[Job]" = queue.Queue()
        self.busy = threading.Event()

    def serve(self) -> None:
        threading.Thread(target=self._take_requests, name="edgelint-accept", daemon=True).start()
        from edgelint.cache import code_id

        last, garbage, answered = time.monotonic(), False, None
        while True:
            try:
                job = self.jobs.get(timeout=COLLECT_AFTER_S if garbage else CHECK_S)
            except queue.Empty:
                if garbage:
                    gc.collect()
                    garbage = False
                    if answered is not None:  # the next request is likely an edit of the same file
                        prepare_for(answered)
                        answered = None
                elif time.monotonic() - last > IDLE_S or code_id.__wrapped__() != self.code or not self._still_ours():
                    return
                continue
            if job is None or not self._answer(*job):
                return
            last, garbage, answered = time.monotonic(), True, job[1]
            self.busy.clear()

    def owns_socket(self) -> bool:
        return self.socket_id is not None and _inode(self.path) == self.socket_id

    def _still_ours(self) -> bool:
        """Whether the socket and the lock file at their paths are still this process's (a cleaned
        cache directory, another resident process that took over: leave)."""
        return self.owns_socket() and _inode(f"{self.path}.lock") == os.fstat(self.lock.fileno()).st_ino

    def _take_requests(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # the listener was closed: the process leaves
            try:
                self._take(connection)
            except (OSError, ValueError, AttributeError):
                connection.close()  # a client that went away or spoke nonsense

    def _take(self, connection: socket.socket) -> None:
        if not _same_user(connection):
            connection.close()
            return
        connection.settimeout(REQUEST_TIMEOUT_S)
        request = json.loads(_received(connection))
        if request.get("stop"):
            connection.sendall(ACCEPTED + b"{}")
            connection.close()
            self.jobs.put(None)
        elif self.busy.is_set():
            connection.sendall(BUSY)
            connection.close()
        else:
            self.busy.set()
            connection.sendall(ACCEPTED)
            self.jobs.put((connection, request))

    def _answer(self, connection: socket.socket, request: Dict[str, Any]) -> bool:
        """Answer one request; False when this process should leave (a client of other code)."""
        with connection:
            stale = request.get("code") != self.code
            answer = {"stale": True} if stale else answer_request(request)
            try:
                connection.settimeout(ANSWER_TIMEOUT_S)
                connection.sendall(json.dumps(answer).encode())
            except OSError:
                pass  # the client went away
        return not stale


def answer_request(request: Dict[str, Any]) -> Dict[str, Any]:
    """What the plugin reports for the request's file, as its own process would have: `reported`,
    `config_error` (path, problem) or `failed` (then the plugin lints in its own process)."""
    from edgelint.errors import ConfigError
    from edgelint.flake8_plugin import Flake8Selection, lint_in_project
    from edgelint.wrangler import forget_configs

    forget_configs()  # found and read afresh, as by a new process (a few stats and one small parse)
    try:
        options = request["options"]
        selection = Flake8Selection(argparse.Namespace(**options) if options is not None else None)
        with _in_client_directory(request):
            # The client found no memo that answers (flake8_plugin.lint_for_flake8).
            reported: List[Any] = lint_in_project(request["path"], request["text"], selection, memo=False)
        return {"reported": reported}
    except ConfigError as exc:
        return {"config_error": [exc.path, exc.problem]}
    except Exception:  # noqa: BLE001 - the client lints in its own process and reports as it would
        return {"failed": True}


def prepare_for(request: Dict[str, Any]) -> None:
    """Load what an edit of the request's file will need (flake8_plugin.prepare), quietly: a
    warm-up only, the next request does the work if this cannot."""
    from edgelint.flake8_plugin import prepare

    with contextlib.suppress(Exception), _in_client_directory(request):
        prepare(request["path"])


@contextlib.contextmanager
def _in_client_directory(request: Dict[str, Any]) -> Iterator[None]:
    """In the client's working directory (flake8's per-file-ignores and the paths are relative to
    it), then back."""
    previous = os.getcwd()
    try:
        os.chdir(request["cwd"])
        yield
    finally:
        os.chdir(previous)


def _received(connection: socket.socket) -> bytes:
    parts = []
    while True:
        part = connection.recv(1 << 16)
        if not part:
            return b"".join(parts)
        parts.append(part)


def _same_user(connection: socket.socket) -> bool:
    """Whether the process at the other end runs as this user (Linux; elsewhere the socket's
    permissions must do)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    _, uid, _ = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i")))
    return uid == os.getuid()


def _inode(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _installed_stamp(package: str) -> str:
    """Where `package` is installed and its stamp, found without importing it."""
    import importlib.util

    try:
        origin = importlib.util.find_spec(package).origin  # type: ignore[union-attr]
        status = os.stat(origin)  # type: ignore[arg-type]
    except (ImportError, AttributeError, TypeError, ValueError, OSError):
        return package
    return f"{origin}:{status.st_size}:{status.st_mtime_ns}"


def _package_parent() -> str:
    """The directory edgelint's package is imported from: the resident process imports the same."""
    import edgelint

    return os.path.dirname(os.path.dirname(os.path.abspath(edgelint.__file__)))


if __name__ == "__main__":
    serve(sys.argv[1])
