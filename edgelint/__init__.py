"""edgelint: a linter for state handling in Cloudflare Python Workers (KV and Durable Objects)."""
from edgelint import cstimport

__version__ = "0.1.0"

cstimport.install()  # libcst, when a run needs it, imported with its compiled methods kept
