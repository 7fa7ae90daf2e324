"""edgelint: a linter for state handling in Cloudflare Python Workers (KV and Durable Objects)."""
__version__ = "0.1.0"
