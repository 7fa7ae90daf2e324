"""A deterministic Workers-style corpus for the benchmark.

Each module mixes ordinary code (dataclasses, parsing helpers, string handling, plain classes) with
KV and Durable Object use: a `WorkerEntrypoint`, `env.X.get/put`, `idFromName`, a Durable Object
class with `ctx.storage`, and calls into other modules of the project, so the project view (helpers
analysed together with their callers) is exercised as in a real Worker. Some modules contain the
bugs edgelint reports, so findings are produced, positioned and printed too.
"""
from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Callable, List

KV_BINDINGS = ("CACHE", "SESSIONS", "VIEWS", "FLAGS", "PROFILES", "TOKENS", "FEEDS", "AUDIT")
DO_CLASSES = 6  # modules 0..5 define the Durable Object classes the wrangler config binds
ENTITIES = ("Order", "Invoice", "Article", "Comment", "Profile", "Ticket", "Product", "Review", "Event", "Upload")
TOPICS = ("billing", "search", "publishing", "moderation", "accounts", "support", "catalog", "analytics")


def wrangler_toml() -> str:
    kv = "".join(f'[[kv_namespaces]]\nbinding = "{name}"\nid = "{index:032x}"\n\n'
                 for index, name in enumerate(KV_BINDINGS))
    durable = "".join(f'[[durable_objects.bindings]]\nname = "STORE_{index}"\nclass_name = "Store{index}"\n\n'
                      for index in range(DO_CLASSES))
    classes = ", ".join(f'"Store{index}"' for index in range(DO_CLASSES))
    return (f'name = "bench-worker"\nmain = "src/app/mod_0000.py"\ncompatibility_date = "2025-01-01"\n'
            f'compatibility_flags = ["python_workers"]\n\n{kv}{durable}'
            f'[[migrations]]\ntag = "v1"\nnew_sqlite_classes = [{classes}]\n\n'
            '[vars]\nAPI_ORIGIN = "https://api.example.com"\n')


class _Module:
    """The text of one generated module, built from randomly chosen blocks."""

    def __init__(self, index: int, count: int, seed: int):
        self.index = index
        self.rng = random.Random(seed * 1_000_003 + index)
        self.entity = self.rng.choice(ENTITIES)
        self.topic = self.rng.choice(TOPICS)
        self.kv = self.rng.choice(KV_BINDINGS)
        self.store = self.rng.randrange(DO_CLASSES)
        self.helper = f"mod_{self.rng.randrange(count):04d}" if count > 1 else None

    def text(self) -> str:
        blocks: List[Callable[[], str]] = [self._dataclass, self._parsing, self._strings, self._index_class]
        self.rng.shuffle(blocks)
        binding_blocks = [self._kv_helpers, self._durable_object, self._entrypoint]
        extra = [self._report_helpers, self._validation] * 2
        chosen = blocks + self.rng.sample(extra, self.rng.randrange(1, 4)) + binding_blocks
        return self._header() + "\n\n".join(textwrap.dedent(block()).strip("\n") + "\n" for block in chosen)

    def _header(self) -> str:
        helper = f"from app import {self.helper} as peer\n" if self.helper else ""
        return textwrap.dedent(f'''\
            """{self.entity} {self.topic}: storage and request handling (module {self.index})."""
            from __future__ import annotations

            import json
            import re
            from dataclasses import dataclass, field
            from typing import Any, Dict, Iterable, List, Optional, Tuple

            from workers import DurableObject, Response, WorkerEntrypoint

            ''') + helper + textwrap.dedent(f'''
            _SLUG = re.compile(r"[^a-z0-9]+")
            _WORD = re.compile(r"[A-Za-z][A-Za-z0-9_']*")
            MAX_ITEMS = {self.rng.randrange(10, 500)}
            PREFIX = "{self.entity.lower()}:{self.index}"


            ''')

    def _dataclass(self) -> str:
        return f'''
            @dataclass
            class {self.entity}Record:
                """One {self.entity.lower()} as stored in KV."""

                id: str
                title: str
                tags: List[str] = field(default_factory=list)
                score: float = 0.0
                meta: Dict[str, Any] = field(default_factory=dict)

                def to_json(self) -> str:
                    return json.dumps({{"id": self.id, "title": self.title, "tags": self.tags,
                                       "score": self.score, "meta": self.meta}})

                @classmethod
                def from_json(cls, text: str) -> "{self.entity}Record":
                    data = json.loads(text)
                    return cls(str(data["id"]), data.get("title", ""), list(data.get("tags", [])),
                               float(data.get("score", 0)), dict(data.get("meta", {{}})))

                def matches(self, term: str) -> bool:
                    term = term.lower()
                    return term in self.title.lower() or any(term == tag for tag in self.tags)
            '''

    def _parsing(self) -> str:
        separator, high = self.rng.choice(("&", ";")), self.rng.randrange(20, 100)
        return f'''
            def parse_query(query: str) -> Dict[str, str]:
                """`a=1{separator}b=2` -> {{"a": "1", "b": "2"}}; later keys win."""
                params: Dict[str, str] = {{}}
                for part in query.split("{separator}"):
                    if not part:
                        continue
                    key, _, value = part.partition("=")
                    params[key.strip().lower()] = value.strip()
                return params


            def parse_range(text: str, default: Tuple[int, int] = (0, {high})) -> Tuple[int, int]:
                try:
                    start, _, end = text.partition("-")
                    low, high = int(start or default[0]), int(end or default[1])
                except ValueError:
                    return default
                if low > high:
                    low, high = high, low
                return max(low, 0), min(high, MAX_ITEMS)


            def parse_tags(raw: Optional[str]) -> List[str]:
                if not raw:
                    return []
                seen = set()
                tags = []
                for tag in (t.strip().lower() for t in raw.split(",")):
                    if tag and tag not in seen:
                        seen.add(tag)
                        tags.append(tag)
                return tags
            '''

    def _strings(self) -> str:
        width = self.rng.randrange(40, 120)
        return f'''
            def slugify(text: str) -> str:
                return _SLUG.sub("-", text.lower()).strip("-")[:{width}]


            def words(text: str) -> List[str]:
                return [match.group(0).lower() for match in _WORD.finditer(text)]


            def excerpt(text: str, limit: int = {width}) -> str:
                text = " ".join(text.split())
                if len(text) <= limit:
                    return text
                cut = text.rfind(" ", 0, limit)
                return text[: cut if cut > 0 else limit] + "…"


            def title_case(text: str) -> str:
                small = {{"a", "an", "and", "of", "the", "to", "in"}}
                parts = text.split()
                return " ".join(p if i and p in small else p.capitalize() for i, p in enumerate(parts))
            '''

    def _index_class(self) -> str:
        return f'''
            class {self.entity}Index:
                """An in-memory inverted index over titles, rebuilt per request."""

                def __init__(self) -> None:
                    self.postings: Dict[str, List[int]] = {{}}
                    self.items: List[Dict[str, Any]] = []

                def add(self, item: Dict[str, Any]) -> int:
                    position = len(self.items)
                    self.items.append(item)
                    for word in set(str(item.get("title", "")).lower().split()):
                        self.postings.setdefault(word, []).append(position)
                    return position

                def search(self, query: str, limit: int = 10) -> List[Dict[str, Any]]:
                    scores: Dict[int, int] = {{}}
                    for word in query.lower().split():
                        for position in self.postings.get(word, ()):
                            scores[position] = scores.get(position, 0) + 1
                    ranked = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
                    return [self.items[position] for position, _ in ranked[:limit]]

                def __len__(self) -> int:
                    return len(self.items)
            '''

    def _report_helpers(self) -> str:
        name = f"{self.rng.choice(('summary', 'digest', 'report', 'overview'))}_{self.rng.randrange(10_000)}"
        return f'''
            def {name}(rows: Iterable[Dict[str, Any]], key: str = "score") -> Dict[str, float]:
                total, count, best = 0.0, 0, None
                for row in rows:
                    value = float(row.get(key, 0) or 0)
                    total += value
                    count += 1
                    best = value if best is None or value > best else best
                return {{"total": total, "count": float(count), "mean": total / count if count else 0.0,
                        "best": best or 0.0}}
            '''

    def _validation(self) -> str:
        return f'''
            def validate_{self.rng.randrange(10_000)}(payload: Dict[str, Any]) -> List[str]:
                problems = []
                if not isinstance(payload.get("title"), str) or not payload["title"].strip():
                    problems.append("title is required")
                if len(payload.get("tags", [])) > {self.rng.randrange(5, 30)}:
                    problems.append("too many tags")
                score = payload.get("score", 0)
                if not isinstance(score, (int, float)) or not 0 <= score <= 100:
                    problems.append("score must be between 0 and 100")
                return problems
            '''

    def _kv_helpers(self) -> str:
        ttl = self.rng.choice((60, 300, 3600, 86400))
        return f'''
            async def load_record(env, record_id: str) -> Optional[Dict[str, Any]]:
                raw = await env.{self.kv}.get(f"{{PREFIX}}:{{record_id}}")
                return json.loads(raw) if raw else None


            async def save_record(env, record_id: str, record: Dict[str, Any]) -> None:
                await env.{self.kv}.put(f"{{PREFIX}}:{{record_id}}", json.dumps(record), expirationTtl={ttl})


            async def list_recent(env, limit: int = 20) -> List[str]:
                listing = await env.{self.kv}.list(prefix=PREFIX, limit=limit)
                return [key.name for key in listing.keys]
            '''

    def _durable_object(self) -> str:
        return f'''
            class Store{self.index}(DurableObject):
                """Per-{self.entity.lower()} state: storage operations are serialized by the object."""

                async def fetch(self, request):
                    count = await self.ctx.storage.get("count") or 0
                    await self.ctx.storage.put("count", count + 1)
                    return Response(str(count + 1))

                async def remember(self, key: str, value: str) -> int:
                    history = await self.ctx.storage.get("history") or []
                    history.append({{"key": key, "value": value}})
                    await self.ctx.storage.put("history", history[-MAX_ITEMS:])
                    return len(history)
            '''

    def _entrypoint(self) -> str:
        counter = '''
                    if path == "/hits":
                        hits = int(await self.env.VIEWS.get("hits") or 0)
                        await self.env.VIEWS.put("hits", str(hits + 1))
                        return Response(str(hits + 1))''' if self.rng.random() < 0.3 else ""
        singleton = '''
                    if path == "/global":
                        stub = self.env.STORE_0.get(self.env.STORE_0.idFromName("global"))
                        return await stub.fetch(request)''' if self.rng.random() < 0.2 else ""
        peer = '''
                    if path.startswith("/peer/"):
                        return Response(json.dumps(await peer.load_record(self.env, path[6:])))''' \
            if self.helper else ""
        extra = counter + singleton + peer
        return f'''
            class Handler{self.index}(WorkerEntrypoint):
                async def fetch(self, request):
                    path = request.url.split("?", 1)[0].rsplit("/", 1)[-1] or "/"
                    query = request.url.partition("?")[2]
                    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
                    if path.startswith("/record/"):
                        record = await load_record(self.env, path[8:])
                        return Response(json.dumps(record or {{}}), status=200 if record else 404){extra}
                    if path.startswith("/room/"):
                        room = params.get("room", "lobby")
                        stub = self.env.STORE_{self.store}.get(self.env.STORE_{self.store}.idFromName(room))
                        return Response(str(await stub.remember(room, query)))
                    if request.method == "POST":
                        payload = await request.json()
                        await save_record(self.env, str(payload.get("id", "")), payload)
                        return Response("stored", status=201)
                    return Response(json.dumps(await list_recent(self.env)))
            '''


def write_corpus(root: Path, count: int, seed: int = 6) -> List[str]:
    """Write `count` modules and a wrangler.toml under `root`; returns the module paths."""
    package = root / "src" / "app"
    package.mkdir(parents=True, exist_ok=True)
    (root / "wrangler.toml").write_text(wrangler_toml(), encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    paths = [str(package / "__init__.py")]
    for index in range(count - 1):
        path = package / f"mod_{index:04d}.py"
        path.write_text(_Module(index, count - 1, seed).text(), encoding="utf-8")
        paths.append(str(path))
    return paths


# ---------------------------------------------------------------------------- one large module

_MONOLITH_HELPERS = '''\
"""A Worker written as one module: {routes} routes dispatched by path, sharing helpers."""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Dict, List, Optional, Tuple

from workers import DurableObject, Response, WorkerEntrypoint

SESSION_TTL = 3600
PAGE_SIZE = 20
LIMITS = {{"free": 100, "pro": 1000}}


class KVStore:
    def __init__(self, namespace, prefix=""):
        self.ns = namespace
        self.prefix = prefix

    def _k(self, key):
        return f"{{self.prefix}}{{key}}"

    async def get_json(self, key, default=None):
        raw = await self.ns.get(self._k(key))
        if raw is None:
            return default
        return json.loads(raw)

    async def put_json(self, key, value, ttl=None):
        if ttl is None:
            await self.ns.put(self._k(key), json.dumps(value))
        else:
            await self.ns.put(self._k(key), json.dumps(value), expirationTtl=ttl)

    async def delete(self, key):
        await self.ns.delete(self._k(key))


def json_response(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, headers={{"content-type": "application/json"}})


def error(message: str, status: int = 400) -> Response:
    return json_response({{"error": message}}, status)


def parse_query(url: str) -> Dict[str, str]:
    query = url.partition("?")[2]
    pairs = [part.partition("=") for part in query.split("&") if part]
    return {{key: value for key, _, value in pairs}}


def page_bounds(params: Dict[str, str]) -> Tuple[int, int]:
    try:
        page = max(int(params.get("page", "1")), 1)
    except ValueError:
        page = 1
    start = (page - 1) * PAGE_SIZE
    return start, start + PAGE_SIZE


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def validate_fields(payload: Dict[str, Any], required: List[str]) -> List[str]:
    problems = []
    for name in required:
        value = payload.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"{{name}} is required")
        elif isinstance(value, str) and len(value) > 500:
            problems.append(f"{{name}} is too long")
    return problems


def sessions(env) -> KVStore:
    return KVStore(env.SESSIONS, prefix="session:")


async def current_user(request, env) -> Optional[Dict[str, Any]]:
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token:
        return None
    session = await sessions(env).get_json(digest(token))
    if session is None or session.get("expires", 0) < time.time():
        return None
    return session


async def feature_flags(env) -> Dict[str, Any]:
    raw = await env.FLAGS.get("flags", cacheTtl=300)
    return json.loads(raw) if raw else {{}}


async def audit(env, ctx, user_id: str, action: str) -> None:
    entry = json.dumps({{"user": user_id, "action": action, "at": time.time()}})
    ctx.waitUntil(env.AUDIT.put(f"audit:{{user_id}}:{{int(time.time() * 1000)}}", entry, expirationTtl=86400))


async def load_entity(env, kind: str, entity_id: str) -> Optional[Dict[str, Any]]:
    return await KVStore(env.CACHE, prefix=f"{{kind}}:").get_json(entity_id)


async def save_entity(env, kind: str, entity_id: str, data: Dict[str, Any]) -> None:
    await KVStore(env.CACHE, prefix=f"{{kind}}:").put_json(entity_id, data, ttl=SESSION_TTL)


def room_stub(env, room: str):
    return env.ROOMS.getByName(room)


class Room(DurableObject):
    async def post(self, message: str) -> int:
        history = await self.ctx.storage.get("history") or []
        history.append(message)
        await self.ctx.storage.put("history", history[-50:])
        return len(history)

    async def recent(self) -> List[str]:
        return await self.ctx.storage.get("history") or []

'''

_MONOLITH_ROUTE = '''
async def route_{n}(request, env, ctx):
    user = await current_user(request, env)
    if user is None:
        return error("sign in", 401)
    params = parse_query(request.url)
    start, end = page_bounds(params)
    flags = await feature_flags(env)
    if not flags.get("{kind}_enabled", True):
        return error("disabled", 403)
    if request.method == "POST":
        payload = await request.json()
        problems = validate_fields(payload, ["title", "body"])
        if problems:
            return error("; ".join(problems))
        entity_id = digest(payload["title"] + str(time.time()))
        record = {{"id": entity_id, "title": payload["title"].strip(), "owner": user["id"], "n": {n}}}
        await save_entity(env, "{kind}", entity_id, record)
        await audit(env, ctx, user["id"], "create-{kind}")
        return json_response(record, 201)
    entity_id = params.get("id", "")
    record = await load_entity(env, "{kind}", entity_id)
    if record is None:
        return error("not found", 404)
    items = record.get("items", [])[start:end]
    summary = {{"id": entity_id, "count": len(items), "page": items}}
    for item in items:
        if isinstance(item, dict) and item.get("hidden"):
            summary["count"] -= 1
    totals: Dict[str, int] = {{}}
    for item in items:
        category = str(item.get("category", "other")) if isinstance(item, dict) else "other"
        totals[category] = totals.get(category, 0) + 1
    summary["totals"] = totals{extra}
    return json_response(summary)
'''

_MONOLITH_EXTRAS = (
    '''
    views = int(await env.VIEWS.get(f"views:{kind}:{{entity_id}}") or 0)
    await env.VIEWS.put(f"views:{kind}:{{entity_id}}", str(views + 1))
    summary["views"] = views + 1''',
    '''
    stats = await KVStore(env.CACHE).get_json("stats:{kind}", {{}})
    stats["reads"] = stats.get("reads", 0) + 1
    await KVStore(env.CACHE).put_json("stats:{kind}", stats)''',
    '''
    position = await room_stub(env, entity_id).post(user["id"])
    summary["position"] = position''',
    '''
    await env.CACHE.put("last-{kind}", entity_id)''',
    "",
    "",
)


def monolith_text(routes: int = 100) -> str:
    """One module of about 70 lines per route: `routes` handlers sharing KV, auth and response helpers,
    dispatched from one `fetch` by path (the shape of a large single-file Worker)."""
    parts = [_MONOLITH_HELPERS.format(routes=routes)]
    for n in range(routes):
        kind = ENTITIES[n % len(ENTITIES)].lower() + str(n)
        extra = _MONOLITH_EXTRAS[n % len(_MONOLITH_EXTRAS)].format(kind=kind)
        parts.append(_MONOLITH_ROUTE.format(n=n, kind=kind, extra=extra))
    branches = "".join(f'        if path == "/{n}":\n            return await route_{n}(request, self.env, self.ctx)\n'
                       for n in range(routes))
    parts.append('\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n'
                 '        path = "/" + request.url.split("?", 1)[0].rsplit("/", 1)[-1]\n'
                 f'{branches}        return error("no such route", 404)\n')
    return "".join(parts)


def write_monolith(root: Path, routes: int = 100) -> List[str]:
    """A project of one large module (see `monolith_text`) and its wrangler.toml."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    kv = "".join(f'[[kv_namespaces]]\nbinding = "{name}"\nid = "{index:032x}"\n\n'
                 for index, name in enumerate(KV_BINDINGS))
    (root / "wrangler.toml").write_text(
        f'name = "monolith"\nmain = "src/worker.py"\ncompatibility_flags = ["python_workers"]\n\n{kv}'
        '[[durable_objects.bindings]]\nname = "ROOMS"\nclass_name = "Room"\n', encoding="utf-8")
    path = root / "src" / "worker.py"
    path.write_text(monolith_text(routes), encoding="utf-8")
    return [str(path)]
