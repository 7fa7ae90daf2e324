"""edgelint: a linter for state handling in Cloudflare Python Workers (KV and Durable Objects)."""
import importlib.util
import sys
import threading
import types

__version__ = "0.1.0"


class _LoadedOnFirstUse(types.ModuleType):
    """A module whose code runs when one of its names is first asked for (`__getattr__` is called
    only for names the module does not have yet; `__spec__` and `__path__` it has)."""

    _lock = threading.Lock()

    def __getattr__(self, name: str) -> object:
        with _LoadedOnFirstUse._lock:
            if type(self) is _LoadedOnFirstUse:
                self.__class__ = types.ModuleType
                self.__spec__.loader.exec_module(self)
        return getattr(self, name)


def _import_libcst_when_used() -> None:
    """Make `import libcst` cheap until libcst is used. A run that finds all its findings in the
    cache parses nothing, and importing libcst (a quarter of a second) would be most of its time.
    (importlib's LazyLoader loads on any attribute, `__spec__` included, which every `import`
    statement reads.)"""
    if "libcst" in sys.modules:
        return
    spec = importlib.util.find_spec("libcst")
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return  # imported the ordinary way, where it is imported
    module = importlib.util.module_from_spec(spec)
    module.__class__ = _LoadedOnFirstUse
    sys.modules["libcst"] = module


_import_libcst_when_used()
