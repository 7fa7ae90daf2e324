"""`edgelint model`: each route's KV and Durable Object traffic, what it costs and where it breaks.

Layers import downwards: `sites` (where an operation runs inside its invocation: branches and
loops) -> `counts` (min..max and per-item ranges) -> `routes` (the routes of each entry point and
what each does) -> `pricing`, `traffic` -> `costs` (monthly cost, capacity, the fixes' costs) ->
`render` (text, JSON, Markdown, Mermaid) -> `command` (the CLI).
"""
