"""EDG106 kv-invalid-option: a KV option the runtime ignores (misspelled) or rejects (TTL too low)."""
from __future__ import annotations

import difflib
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

import libcst as cst

from edgelint.findings import Report
from edgelint.model.operations import Operation, OpKind
from edgelint.model.placement import input_depth, root_of
from edgelint.model.project import Project
from edgelint.model.queries import kv_ops
from edgelint.model.syntax import UNKNOWN_NUMBER, Linear, Option, Scope, call_options, linear
from edgelint.model.values import Term, Value
from edgelint.rules.base import Example, Rule, key_of, source_of

VALID_OPTIONS: Dict[str, tuple] = {
    "get": ("type", "cacheTtl"),
    "getWithMetadata": ("type", "cacheTtl"),
    "put": ("expiration", "expirationTtl", "metadata"),
    "list": ("prefix", "limit", "cursor"),
    "delete": (),
}
KV_OPTIONS = frozenset(name for names in VALID_OPTIONS.values() for name in names)
MINIMUM_SECONDS = {"expirationTtl": 60, "cacheTtl": 30}
# What silently goes wrong when the option is misspelled and the runtime drops it.
IGNORED_EFFECT = {
    "expirationTtl": "the key never expires",
    "expiration": "the key never expires",
    "metadata": "no metadata is stored",
    "type": "the value comes back as text",
    "cacheTtl": "reads keep the default 60 s edge cache",
    "prefix": "the listing is not filtered",
    "limit": "the listing is not limited",
    "cursor": "the listing restarts from the first page",
}
EPOCH_2001 = 1_000_000_000  # an absolute `expiration` below this is a TTL passed by mistake


class KvInvalidOption(Rule):
    code = "EDG106"
    name = "kv-invalid-option"
    severity = "error"
    summary = "A KV option the runtime ignores (misspelled, snake_case) or rejects (TTL below the minimum)."
    what = """
        Reports, at the option itself (its own line in a multi-line call or options dict), an option
        of a Workers KV `get`/`getWithMetadata`/`put`/`list` call that the runtime ignores or
        rejects: an unknown or misspelled key (`expiration_ttl`, `expirationTTL`, `ttl`,
        `cache_ttl`) or a valid key on the wrong method (`cacheTtl` on `put`); an `expirationTtl`
        below 60 or a `cacheTtl` below 30; an `expiration` less than 60 s after `time.time()`, or
        so small that it is a TTL passed as a timestamp. Options are read from keyword arguments,
        from an options dict literal, and from a dict built in the same function (a literal,
        `dict(...)`, `opts["x"] = ...`) or module constant passed as the options argument or as
        `**opts`. A computed TTL is reported when its lower bound is provably too low: a
        `max(x, 1)` clamp, `window + 1` with a small constant `window`, `min(x, 30)`. Not reported:
        `expirationTtl=max(60, ttl)` and other values that may be large enough; the valid options
        `expirationTtl`, `expiration`, `metadata` (put), `type`, `cacheTtl` (get), `prefix`,
        `limit`, `cursor` (list); calls on bindings that are not KV namespaces (an R2 `put(...,
        http_metadata=...)`); dicts received as parameters, whose contents are unknown.
    """
    why = """
        Keyword options become a JavaScript options object and pass straight through: a misspelled
        or snake_case key is silently ignored, so a cache entry meant to expire after an hour lives
        forever and a `cacheTtl` never applies. KV rejects an `expirationTtl` (or `expiration`)
        less than 60 seconds ahead and a `cacheTtl` below 30 seconds, so the put or get fails at
        runtime, typically only for the inputs that hit the low bound.
    """
    example = """
        async def on_fetch(request, env):
            ttl = int(request.headers.get("x-ttl", "0"))
            await env.CACHE.put("page:home", "<html>", expiration_ttl=300)
            await env.CACHE.put("page:about", "<html>", expirationTtl=max(ttl, 1))
    """
    use_instead = """
        async def on_fetch(request, env):
            ttl = int(request.headers.get("x-ttl", "0"))
            await env.CACHE.put("page:home", "<html>", expirationTtl=300)
            await env.CACHE.put("page:about", "<html>", expirationTtl=max(60, ttl))
    """
    fix_safety = """
        There is no automatic fix: renaming an option changes behaviour (a key that never expired
        starts expiring), and raising a TTL changes how long data lives; review each change.
    """
    references = (
        "Workers KV put(): expiration / expirationTtl less than 60 seconds in the future are rejected.",
        "Workers KV get(): cacheTtl must be at least 30 seconds.",
        "Python Workers: keyword arguments are passed as a JavaScript options object, unknown keys are ignored.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                await env.CACHE.put(f"page:{request.url}", "<html>", expiration_ttl=300)  # expect: EDG106
        """, messages=(
            'KV put() option expiration_ttl (binding CACHE, key f"page:{request.url}") is not a KV option and is '
            "silently ignored, so the key never expires; write expirationTtl",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    await self.env.SESSIONS.put(
                        f"session:{request.url}",
                        "active",
                        {
                            "expirationTTL": 3600,  # expect: EDG106
                            "metadata": {"v": 1},
                        },
                    )
        """, messages=(
            'KV put() option expirationTTL (binding SESSIONS, key f"session:{request.url}") is not a KV option '
            "and is silently ignored, so the key never expires; write expirationTtl",
        )),
        Example("""
            async def on_fetch(request, env):
                opts = {"ttl": 600}  # expect: EDG106
                opts["cache_ttl"] = 60  # expect: EDG106
                await env.CACHE.put(request.url, "v", **opts)
                return await env.CACHE.get(request.path, cacheTtl=10)  # expect: EDG106
        """, messages=(
            "KV put() option ttl (binding CACHE, key request.url) is not a KV option and is silently ignored, so "
            "the key never expires; write expirationTtl",
            "KV put() option cache_ttl (binding CACHE, key request.url) is not a KV option (it reads as "
            "cacheTtl, a get() option) and put() ignores it; remove it",
            "KV get() option cacheTtl (binding CACHE, key request.path) = 10 s is below the 30 s minimum: KV "
            "rejects the get; use at least 30",
        )),
        Example("""
            async def on_fetch(request, env):
                ttl = int(request.headers.get("x-ttl", "0"))
                await env.CACHE.put(
                    f"report:{request.url}",
                    "data",
                    expirationTtl=max(ttl, 1),  # expect: EDG106
                )
        """, messages=(
            'KV put() option expirationTtl (binding CACHE, key f"report:{request.url}") = max(ttl, 1) can be as '
            "low as 1 s, below the 60 s minimum: KV rejects the put for such values; clamp it with max(60, ...)",
        )),
        Example("""
            WINDOW = 10

            class KVClient:
                def __init__(self, kv):
                    self.kv = kv

                async def remember(self, key, value):
                    await self.kv.put(key, value, expirationTtl=WINDOW + 1)  # expect: EDG106

            async def on_fetch(request, env):
                await KVClient(env.TOKENS).remember(request.url, "1")
        """, messages=(
            "KV put() option expirationTtl (binding TOKENS, key request.url) = WINDOW + 1 (11 s) is below the 60 "
            "s minimum: KV rejects the put; use at least 60",
        )),
        Example("""
            import time

            class Default(WorkerEntrypoint):
                async def scheduled(self, controller, env, ctx):
                    await env.LOCKS.put("lock:job", "1", expiration=time.time() + 30)  # expect: EDG106
                    await env.LOCKS.put("lock:sweep", "1", expiration=3600)  # expect: EDG106
        """, messages=(
            'KV put() option expiration (binding LOCKS, key "lock:job") = time.time() + 30 is less than 60 s '
            "ahead: KV rejects the put; use expirationTtl of at least 60 or a timestamp at least 60 s ahead",
            'KV put() option expiration (binding LOCKS, key "lock:sweep") = 3600 is an absolute Unix time '
            "(seconds since 1970), already past: KV rejects the put; for a lifetime in seconds write "
            "expirationTtl=3600",
        )),
        Example("""
            LIST_OPTIONS = {"prefix": "user:", "page_size": 100}  # expect: EDG106

            async def on_fetch(request, env):
                page = await env.SESSIONS.list(LIST_OPTIONS)
                return await env.CACHE.get(request.url, {"type": "json", "cacheTtl": 5})  # expect: EDG106
        """, messages=(
            "KV list() option page_size (binding SESSIONS) is not a KV list() option (valid: prefix, limit, "
            "cursor): the runtime silently ignores it; remove it",
            "KV get() option cacheTtl (binding CACHE, key request.url) = 5 s is below the 30 s minimum: KV "
            "rejects the get; use at least 30",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                ttl = int(request.headers.get("x-ttl", "0"))
                await env.CACHE.put(f"page:{request.url}", "<html>", expirationTtl=max(60, ttl))
                await env.CACHE.put(f"raw:{request.url}", "<html>", expirationTtl=ttl)
        """),
        Example("""
            import time

            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                await env.CACHE.put(f"a:{user}", "1", expirationTtl=3600, metadata={"v": 1})
                await env.CACHE.put(f"b:{user}", "1", {"expiration": int(time.time()) + 3600})
                doc = await env.CACHE.get(f"c:{user}", type="json", cacheTtl=300)
                page = await env.SESSIONS.list(prefix="user:", limit=100, cursor=None)
                return doc, page
        """),
        Example("""
            async def on_fetch(request, env):
                await env.FILES.put("report.csv", b"data", http_metadata={"contentType": "text/csv"})
                await env.FILES.put("raw.bin", b"data", {"customMetadata": {"by": "worker"}})
        """),
        Example("""
            async def save(kv, key, value, opts):
                await kv.put(key, value, **opts)

            async def on_fetch(request, env):
                window = int(request.headers.get("x-window", "60"))
                await env.CACHE.put(f"w:{request.url}", "1", expirationTtl=window + 1)
                await save(env.CACHE, request.url, "v", {"expirationTtl": 120})
        """),
        Example("""
            TTL = 86400

            async def on_fetch(request, env):
                await env.CACHE.put(key=request.url, value="<html>", expirationTtl=TTL // 24)
                cache = {}
                cache.update(ttl=5)
        """),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        options_of: Dict[int, List[Tuple[Option, Linear, str]]] = {}
        for op in kv_ops(project, OpKind.KV_GET, OpKind.KV_PUT, OpKind.KV_LIST, OpKind.KV_DELETE):
            known = options_of.get(id(op.node))
            if known is None:  # what the call itself writes, worked out once per call
                known = options_of[id(op.node)] = [
                    (option, value, _problem(op.method, option.name, source_of(op, option.value), value))
                    for option, value in _options(op)]
            for option, _, problem in known:  # reported from every root that runs it (the cache keeps roots)
                if problem is not None:
                    yield Report(self.code, op.module.path, option.node, f"{_target(op, option.name)} {problem}",
                                 root=root_of(op), part=op.part)
            for option, value, _ in known:  # a TTL its callers pass down: at each caller's call
                passed = _passed(op, option) if value == UNKNOWN_NUMBER else None
                if passed is None:
                    continue
                shown = source_of(op, passed.origin) if passed.origin is not None else "it"
                problem = _value_problem(option.name, shown, _number(passed.term))
                if problem is not None:
                    yield self.report(op, f"{_target(op, option.name)} {problem}", depth=input_depth(op, passed),
                                      role=op.method)
            for name, term in _built_options(op, {option.name for option, _, _ in known}):
                problem = _problem(op.method, name, _shown(term), _number(term))
                if problem is not None:  # an options dict a helper built (`kv_options(45)`)
                    yield self.report(op, f"{_target(op, name)} {problem}", depth=input_depth(op, op.options),
                                      role=op.method)


def _built_options(op: Operation, written: Set[str]) -> List[Tuple[str, Term]]:
    """Options whose dict the call does not write itself, from the dict's value: built by a
    helper, passed in, or wrapped in `to_js(...)` / `dict(...)`."""
    term = op.options.term if op.options is not None else ("opaque", 0)
    while term[0] == "call" and str(term[1]).rsplit(".", 1)[-1] in ("to_js", "dict") and term[2]:
        term = term[2][0]
    if term[0] != "dict":
        return []
    return [(key[1], value) for key, value in term[1] if isinstance(key[1], str) and key[1] not in written]


def _shown(term: Term) -> str:
    return f"{term[1]!r}" if term[0] == "lit" else "a computed value"


def _options(op: Operation) -> List[Tuple[Option, Linear]]:
    """The options a KV call writes, with what is provable about each value where it is written."""
    root = op.function.parse() if op.function is not None else op.module.tree
    scope = Scope(op.module, root, op.node)
    return [(option, linear(option.value, scope)) for option in call_options(op.node, op.method, scope)]


def _passed(op: Operation, option: Option) -> Optional[Value]:
    """The value a caller passed for a keyword option written as a parameter (`expirationTtl=ttl`)."""
    valid = VALID_OPTIONS.get(op.method, ())
    if option.name not in valid or not isinstance(option.node, cst.Arg) or not isinstance(option.value, cst.Name):
        return None
    value = op.keyword(option.name)
    return value if value is not None and value.via else None


def _number(term: Term) -> Linear:
    if term[0] == "lit" and isinstance(term[1], (int, float)) and not isinstance(term[1], bool):
        return Linear(0.0, float(term[1]), float(term[1]))
    return UNKNOWN_NUMBER


def _problem(method: str, name: str, shown: str, value: Linear) -> Optional[str]:
    """What is wrong with one option `name` of a KV `method` call (None: nothing)."""
    valid = VALID_OPTIONS.get(method, ())
    if name in valid:
        return _value_problem(name, shown, value)
    if name in KV_OPTIONS:
        return f"is a {_owner(name)}() option that {method}() ignores; remove it"
    meant = _suggestion(name, method)
    if meant in valid:
        return f"is not a KV option and is silently ignored, so {IGNORED_EFFECT[meant]}; write {meant}"
    if meant is not None:
        return (f"is not a KV option (it reads as {meant}, a {_owner(meant)}() option) and {method}() "
                f"ignores it; remove it")
    listed = ", ".join(valid) or "none"
    return f"is not a KV {method}() option (valid: {listed}): the runtime silently ignores it; remove it"


def _owner(option: str) -> str:
    return next(method for method, names in VALID_OPTIONS.items() if option in names)


def _target(op: Operation, name: str) -> str:
    keyed = op.key_node is not None and op.kind is not OpKind.KV_LIST
    where = f"binding {op.binding}, key {key_of(op)}" if keyed else f"binding {op.binding}"
    return f"KV {op.method}() option {name} ({where})"


def _value_problem(name: str, shown: str, value: Linear) -> Optional[str]:
    minimum = MINIMUM_SECONDS.get(name)
    if minimum is not None and value.clock == 0:
        return _below_minimum(name, shown, value, minimum)
    if name == "expiration":
        return _expiration_problem(shown, value)
    return None


def _below_minimum(name: str, shown: str, value: Linear, minimum: int) -> Optional[str]:
    operation = "put" if name == "expirationTtl" else "get"
    fix = f"use at least {minimum}" if value.exact is not None else f"clamp it with max({minimum}, ...)"
    if value.exact is not None and value.exact < minimum:
        seconds = f"{value.exact:g} s"
        amount = seconds if shown == f"{value.exact:g}" else f"{shown} ({seconds})"
        return f"= {amount} is below the {minimum} s minimum: KV rejects the {operation}; {fix}"
    if value.hi is not None and value.hi < minimum:
        return f"= {shown} is at most {value.hi:g} s, below the {minimum} s minimum: KV rejects the {operation}; {fix}"
    if value.lo is not None and value.lo < minimum:
        return (f"= {shown} can be as low as {value.lo:g} s, below the {minimum} s minimum: KV rejects the "
                f"{operation} for such values; {fix}")
    return None


def _expiration_problem(shown: str, value: Linear) -> Optional[str]:
    """`expiration` is an absolute Unix time in seconds: `time.time() + 30`, or a TTL passed by mistake."""
    if value.clock == 1 and value.hi is not None and value.hi < 60:
        return (f"= {shown} is less than 60 s ahead: KV rejects the put; use expirationTtl of at least 60 "
                f"or a timestamp at least 60 s ahead")
    if value.clock == 0 and value.hi is not None and value.hi < EPOCH_2001:
        return (f"= {shown} is an absolute Unix time (seconds since 1970), already past: KV rejects the put; "
                f"for a lifetime in seconds write expirationTtl={shown}")
    return None


def _suggestion(name: str, method: str) -> Optional[str]:
    """The option the author meant: the same letters ignoring case and `_` (any method's option),
    a `ttl`/`expire` word (this method's TTL), or a near spelling of one of this method's options."""
    normalized = name.replace("_", "").lower()
    same = [option for option in KV_OPTIONS if option.lower() == normalized]
    if same:
        return same[0]
    if "ttl" in normalized or "expire" in normalized:
        meant = {"put": "expirationTtl", "get": "cacheTtl", "getWithMetadata": "cacheTtl"}.get(method)
        if meant is not None:
            return meant
    close = difflib.get_close_matches(name, VALID_OPTIONS.get(method, ()), n=1, cutoff=0.75)
    return close[0] if close else None
