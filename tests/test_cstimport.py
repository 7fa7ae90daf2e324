"""libcst imported through edgelint.cstimport: the same classes, its compiled methods kept."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys
import edgelint
from libcst._nodes.expression import Name  # a submodule first: libcst is imported as usual around it
import libcst as cst
from edgelint.cstimport import last_import, _Loader
source = "async def f(kv):\n    n = int(await kv.get('n') or 0)\n    await kv.put('n', str(n + 1))\n"
module = cst.parse_module(source)
renamed = Name("x").with_changes(value="y")
print(json.dumps({
    "compiled": last_import[0].compiled_in_process if last_import else None,
    "used": len(last_import[0].used) if last_import else None,
    "round_trip": module.code == source,
    "equal": cst.Name("x").deep_equals(cst.Name("x")) and renamed.value == "y",
    "repr": repr(cst.Name("x")).startswith("Name("),
    "loader_restored": not isinstance(cst.__spec__.loader, _Loader) and not isinstance(cst.__loader__, _Loader),
}))
"""


def probe(cache_dir: str, script: str = PROBE) -> dict:
    env = {**os.environ, "EDGELINT_CACHE_DIR": cache_dir, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert completed.returncode == 0 and not completed.stderr, completed.stderr
    return json.loads(completed.stdout)


def cache_files(directory: Path) -> list:
    return sorted(path.name for path in directory.glob("libcst-methods.*.marshal"))


def test_the_second_import_compiles_nothing_and_the_classes_behave_the_same(tmp_path):
    first = probe(str(tmp_path))
    assert first["compiled"] > 100 and cache_files(tmp_path) == [f"libcst-methods.{sys.implementation.cache_tag}.marshal"]
    second = probe(str(tmp_path))
    assert second["compiled"] == 0 and second["used"] == first["used"]
    for result in (first, second):
        assert result["round_trip"] and result["equal"] and result["repr"] and result["loader_restored"]


def test_a_corrupt_or_foreign_file_is_compiled_again_and_replaced(tmp_path):
    probe(str(tmp_path))
    [name] = cache_files(tmp_path)
    (tmp_path / name).write_bytes(b"\x00not marshal")
    assert probe(str(tmp_path))["compiled"] > 100
    assert probe(str(tmp_path))["compiled"] == 0  # rewritten


def test_no_cache_directory_or_an_unwritable_one_only_means_compiling(tmp_path):
    assert probe("")["compiled"] > 100
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = probe(str(blocker / "cache"))  # a directory cannot be made under a file
    assert result["compiled"] > 100 and result["round_trip"]


def test_libcst_imported_before_edgelint_is_left_alone(tmp_path):
    script = "import libcst, edgelint, sys\nfrom edgelint.cstimport import last_import\nprint(last_import)"
    env = {**os.environ, "EDGELINT_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert completed.stdout.split() == ["[]"], completed.stderr
    assert cache_files(tmp_path) == []


ENGINE_PROBE = r"""
import json
import edgelint.engine
from edgelint.cstimport import _methods
from edgelint.findings import Finding
finding = Finding("EDG101", "m", "a.py", 1, 1, 1, 2, "error", "kv-read-modify-write")
print(json.dumps({"compiled": sum(methods.compiled_in_process for methods in _methods.values()),
                  "families": sorted(_methods), "equal": finding == finding.__class__(**vars(finding)),
                  "repr": repr(finding).startswith("Finding(")}))
"""


def test_edgelint_modules_are_served_too_and_the_second_process_compiles_nothing(tmp_path):
    first = probe(str(tmp_path), ENGINE_PROBE)
    second = probe(str(tmp_path), ENGINE_PROBE)
    assert first["compiled"] > 700 and second["compiled"] == 0 and first["families"] == ["edgelint", "libcst"]
    assert first["equal"] and first["repr"] and second["equal"] and second["repr"]


DESCRIBE_LIBCST = r"""
import json, sys
{first}
import libcst
import libcst.native  # as edgelint.model.parsing does before it parses
libcst.parse_module('async def f(kv):\n    await kv.put("k", "v")\n')
{after}
def describe(value):
    return getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or type(value).__name__
names = {{name: describe(getattr(libcst, name)) for name in dir(libcst)}}
print(json.dumps({{"names": names, "before_use": before_use}}))
"""


def test_libcst_defers_what_a_linter_never_uses_and_gives_the_same_names_on_use(tmp_path):
    """edgelint runs libcst's `__init__` without its metadata, helpers and batched-visitor imports;
    the first use of one of their names (or `dir`) imports them, and libcst then offers exactly
    the names of a plain import, bound to the same objects."""
    deferred_loaded = ("before_use = sorted(name for name in sys.modules\n"
                       "    if name.startswith(('libcst.metadata', 'libcst.helpers', 'libcst._batched')))\n"
                       "from libcst import MetadataWrapper\n"
                       "assert MetadataWrapper is libcst.metadata.wrapper.MetadataWrapper is libcst.MetadataWrapper\n")
    lazy = probe(str(tmp_path), DESCRIBE_LIBCST.format(first="import edgelint", after=deferred_loaded))
    plain = probe(str(tmp_path), DESCRIBE_LIBCST.format(first="", after="before_use = None"))
    assert lazy["before_use"] == []
    own = {"__getattr__", "__dir__", "_edgelint_deferred", "_edgelint_import_deferred"}
    assert {name: kind for name, kind in lazy["names"].items() if name not in own} == plain["names"]
    assert lazy["names"]["ensure_type"] == "ensure_type" and lazy["names"]["metadata"] == "libcst.metadata"


def test_libcst_answers_submodules_and_refuses_unknown_names_as_a_plain_import_does(tmp_path):
    """A name the deferred imports bind (a submodule libcst.metadata imports) is there once they
    have run; a submodule nothing imported (libcst.codemod) and an unknown name are not."""
    script = ("import edgelint, libcst, sys\n"
              "codemod = hasattr(libcst, 'codemod')\n"
              "position = libcst._position  # imported by libcst.metadata in a plain import\n"
              "try:\n    libcst.no_such_name\nexcept AttributeError as error:\n    missing = str(error)\n"
              "import json\nprint(json.dumps({'position': position.__name__, 'missing': missing, 'codemod': codemod,\n"
              "    'imported': 'libcst.codemod' in sys.modules, 'metadata': 'libcst.metadata' in sys.modules}))\n")
    result = probe(str(tmp_path), script)
    assert result == {"position": "libcst._position", "missing": "module 'libcst' has no attribute 'no_such_name'",
                      "codemod": False, "imported": False, "metadata": True}


def test_a_libcst_init_of_another_shape_is_run_as_it_is():
    from edgelint.cstimport import _lazy_init_code

    uses_a_deferred_name = "from libcst.metadata import MetadataWrapper\nWRAPPER = MetadataWrapper\n"
    has_its_own_getattr = "from libcst.helpers import ensure_type\ndef __getattr__(name):\n    raise AttributeError\n"
    for source in (uses_a_deferred_name, has_its_own_getattr, "from libcst._nodes.base import CSTNode\n"):
        with pytest.raises(ValueError):
            _lazy_init_code(source, "__init__.py")
    code = _lazy_init_code("from libcst.helpers import ensure_type as check\n", "__init__.py")
    namespace = {"__name__": "libcst"}
    exec(code, namespace)
    assert "check" not in namespace and namespace["_edgelint_deferred"] == [("libcst.helpers", "ensure_type", "check")]
