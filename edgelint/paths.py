"""`absolute(path)`: `os.path.abspath` for the paths a run handles thousands of times.

A 2,000-file project's run after an edit asks for the absolute form of its files' paths some
15,000 times (the cache, the settings, module names, the flake8 plugin's grouping by directory);
`os.path.abspath` costs a microsecond each, a tenth of what remains of such a run in the resident
edgelint. An absolute path's answer does not depend on the working directory, so it is kept;
a relative path's (the resident edgelint changes directory per request) is computed each time.
"""
from __future__ import annotations

import os
from typing import Dict

MAX_KEPT = 200_000  # paths; then the store starts over
_absolute: Dict[str, str] = {}


def absolute(path: str) -> str:
    found = _absolute.get(path)
    if found is None:
        found = os.path.abspath(path)
        if os.path.isabs(path):
            if len(_absolute) >= MAX_KEPT:
                _absolute.clear()
            _absolute[path] = found
    return found
