"""Replacing files atomically, so an interrupted run never leaves a half-written file behind."""
from __future__ import annotations

import os


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to a temporary file next to `path` (or the file it links to), then rename it over.

    The temporary file is in the same directory because `os.replace` is only atomic within one
    file system. An existing file keeps its permission bits (mkstemp creates files as 0600).
    """
    import shutil  # with tempfile, ~5 ms of start-up: imported by the runs that write
    import tempfile

    path = os.path.realpath(path)  # through a symlink, not over it
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".edgelint-tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        if os.path.exists(path):
            shutil.copymode(path, temporary)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def remove_quietly(path: str) -> None:
    """Delete `path` if it can be deleted (gone already, or not ours to delete: nothing to do)."""
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    current = os.umask(0)
    os.umask(current)
    return current
