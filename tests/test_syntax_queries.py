"""Questions the rules ask of a function's syntax (edgelint.model.syntax), on small functions."""
from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from edgelint.model.syntax import guarded_by_module_cache, walk


def function_and_target(code: str):
    """The first function of `code` and the call `target()` in it."""
    module = cst.parse_module(textwrap.dedent(code))
    function = next(node for node in walk(module, into_scopes=True) if isinstance(node, cst.FunctionDef))
    target = next(node for node in walk(function, into_scopes=True)
                  if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "target")
    return function, target


@pytest.mark.parametrize("code, guarded", [
    ("""\
     async def load(env):
         global _flags
         if _flags is None:
             _flags = target()
     """, True),
    ("""\
     async def load(env):
         def refresh():
             global _flags
             _flags = 1
         if _flags is None:
             target()
     """, False),  # the global belongs to the nested function: `load` never rebinds `_flags`
    ("""\
     async def load(env, key):
         if key not in _CACHE:
             _CACHE[key] = target()
     """, True),  # a module dict the guarded branch fills: per isolate
    ("""\
     async def load(env, key):
         cache = {}
         cache[key] = 1
         if key not in cache:
             target()
     """, False),  # a local dict: gone with the request
    ("""\
     async def load(env, key):
         if key not in SEEN:
             target()
     """, False),  # a name the function neither declares nor fills
])
def test_guarded_by_a_per_isolate_cache(code, guarded):
    function, target = function_and_target(code)
    assert guarded_by_module_cache(function, target) is guarded
