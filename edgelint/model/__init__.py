"""The model of a project's Workers code: modules, bindings, operations and the values between them."""
import sys

# `@dataclass(**SLOTS)` for the classes a big project has many thousands of: instances without a
# `__dict__` take a quarter less memory (Python 3.10+; older versions build them as before).
SLOTS = {"slots": True} if sys.version_info >= (3, 10) else {}
# Words of a route or function that mark an administrative entry point (settings `admin-markers`).
DEFAULT_ADMIN_WORDS = ("admin", "publish", "internal", "setup", "deploy", "migrate", "migration", "maintenance")
