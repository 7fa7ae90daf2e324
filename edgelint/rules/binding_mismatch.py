"""EDG302 binding-mismatch: a binding used with another kind's API, or not declared at all."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Tuple

import libcst as cst

from edgelint.findings import Report
from edgelint.model.bindings import Binding, BindingKind, BindingTable
from edgelint.model.inference import ENV_BINDING_OPS, has_kv_only_shape
from edgelint.model.operations import KV_KINDS, Operation, OpKind
from edgelint.model.project import ModuleInfo, Project
from edgelint.model.queries import module_containing
from edgelint.model.syntax import condition_texts, guarding_tests, is_none_handled, names_in
from edgelint.model.placement import innermost, root_of
from edgelint.rules.base import EXAMPLE_WRANGLER, Example, Rule, callers

# The methods each kind of binding has; kinds not listed (services, AI, vars, ...) are not checked,
# because a service binding's RPC methods can have any name.
KIND_API = {
    BindingKind.KV: frozenset({"get", "getWithMetadata", "put", "delete", "list"}),
    BindingKind.DURABLE_OBJECT: frozenset({"idFromName", "idFromString", "newUniqueId", "getByName", "get",
                                           "jurisdiction"}),
    BindingKind.R2: frozenset({"get", "put", "delete", "list", "head", "createMultipartUpload",
                               "resumeMultipartUpload"}),
    BindingKind.D1: frozenset({"prepare", "batch", "exec", "dump", "withSession"}),
    BindingKind.QUEUE: frozenset({"send", "sendBatch"}),
    BindingKind.RATELIMIT: frozenset({"limit"}),
}
KIND_NAMES = {
    BindingKind.KV: "a KV namespace",
    BindingKind.DURABLE_OBJECT: "a Durable Object namespace",
    BindingKind.R2: "an R2 bucket",
    BindingKind.D1: "a D1 database",
    BindingKind.QUEUE: "a Queue producer",
    BindingKind.RATELIMIT: "a Rate Limiting binding",
}
DO_STYLE = frozenset({OpKind.DO_ADDRESS, OpKind.DO_STUB})
EXAMPLE_WITH_D1 = EXAMPLE_WRANGLER.replace("[durable_objects]", """\
d1_databases = [{ binding = "DB", database_name = "app", database_id = "1" }]
services = [{ binding = "AUTH", service = "auth-worker" }]

[vars]
API_URL = "https://api.example.com"

[durable_objects]""")

EXAMPLE_WITH_ENVIRONMENTS = """\
name = "example"
main = "src/entry.py"
compatibility_flags = ["python_workers"]
kv_namespaces = [{ binding = "CACHE", id = "1" }]
vars = { ENVIRONMENT = "development" }

[env.staging]
kv_namespaces = [{ binding = "CACHE", id = "2" }, { binding = "AUDIT", id = "3" }]
vars = { ENVIRONMENT = "staging" }
"""


class BindingMismatch(Rule):
    code = "EDG302"
    name = "binding-mismatch"
    severity = "warning"
    summary = "A binding is used with another kind's API, or is not declared in the wrangler config."
    what = """
        With a wrangler config that deploys the file (the file its `main` names and the project
        modules that file imports, at any depth; every file of its project when it has no `main`;
        no Python file when `main` is JavaScript), reports at the binding access (`env.X`,
        `self.env.X`, `getattr(env, "X", None)`): a binding used with another kind's API
        (`idFromName` on a KV namespace, `put` on a Durable Object namespace or a D1 database,
        `getWithMetadata` on an R2 bucket), or called with KV-only arguments (`expirationTtl=`,
        `get(k, "json")`) while it is not a KV namespace; a KV- or Durable-Object-style call
        (`get`/`put`/`delete`/`list`, `idFromName`/`getByName`/...) on a name no environment of the
        config declares, typically a typo; and a call on a binding that a deployed environment
        lacks, naming those environments: binding sections are not inherited by `[env.X]`, so a
        name declared only in `[env.staging]`, or left out of an `[env.production]`, does not
        exist there. Deployed environments: every `[env.X]`, and the top level unless it declares
        no binding (vars aside) while named environments do (a config deployed only with
        `--env`). Followed through aliases, wrapper objects and helpers like every other rule. Not
        reported: projects without a wrangler config; files no config deploys (scripts, workers
        run by a workerd `.wd-test` config); secrets and vars (plain attribute reads such as
        `env.API_TOKEN`, and calls that are neither KV- nor DO-style); `getattr(env, X, None)`
        probes whose None case is handled (`if kv:`, `kv or fallback`, `if kv is None: return`);
        for a binding some environments lack, uses under a condition that names it or a var of
        the config (`if hasattr(env, "AUDIT"):`, `if env.ENVIRONMENT == "staging":`), and names
        declared in `[tool.edgelint.bindings]`; service bindings' method names, which can be
        anything; test files, whose envs are often hand-built.
    """
    why = """
        The `env` object only has the bindings the deployed config declares, each with its own
        API. A call that belongs to another kind of binding, or a name missing from the config
        (or from one environment of it), fails with a TypeError or AttributeError in production,
        often on a path local tests never take. KV-only options passed to another binding are
        silently ignored.
    """
    example = """
        # wrangler.toml declares CACHE under kv_namespaces and ROOMS under durable_objects
        async def on_fetch(request, env):
            room = env.CACHE.idFromName(request.url)      # CACHE is a KV namespace
            return await env.SESION.get(request.url)      # not declared anywhere: typo of SESSIONS
    """
    use_instead = """
        async def on_fetch(request, env):
            room = env.ROOMS.idFromName(request.url)
            return await env.SESSIONS.get(request.url)
    """
    fix_safety = """
        There is no automatic fix: either the code or the wrangler config is wrong, and only the
        author knows which.
    """
    references = (
        "Wrangler configuration: bindings are declared per environment and are not inherited.",
        "Workers bindings: KV, Durable Object, R2, D1, Queue and Rate Limiting bindings each have their own API.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                room = request.headers.get("x-room")
                stub = env.CACHE.get(env.CACHE.idFromName(room))  # expect: EDG302
                return await stub.fetch(request)
        """, messages=(
            "binding CACHE (a KV namespace in wrangler.toml) has no idFromName() (Durable Object namespace API): "
            "the call fails at runtime; use the binding declared for that API, or fix the declaration in "
            "wrangler.toml",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    await self.env.COUNTER.put(request.url, "1", expirationTtl=600)  # expect: EDG302
        """, messages=(
            "binding COUNTER (a Durable Object namespace in wrangler.toml) has no put() (KV namespace / R2 "
            "bucket API): the call fails at runtime; use the binding declared for that API, or fix the "
            "declaration in wrangler.toml",
        )),
        Example("""
            async def on_fetch(request, env):
                user = request.headers.get("x-user")
                return await env.DB.get(f"user:{user}")  # expect: EDG302
        """, files={"wrangler.toml": EXAMPLE_WITH_D1}, messages=(
            "binding DB (a D1 database in wrangler.toml) has no get() (KV namespace / Durable Object namespace / "
            "R2 bucket API): the call fails at runtime; use the binding declared for that API, or fix the "
            "declaration in wrangler.toml",
        )),
        Example("""
            async def on_fetch(request, env):
                return await env.SESION.get(request.url)  # expect: EDG302
        """, messages=(
            "binding SESION is not declared in the wrangler config (in any environment), but get() uses it as a "
            "KV namespace: env.SESION does not exist in production and the call fails; did you mean SESSIONS? "
            "declare it, or fix the name",
        )),
        Example("""
            class RoomClient:
                def __init__(self, namespace):
                    self.namespace = namespace

                def room(self, name):
                    return self.namespace.getByName(name)

            async def on_fetch(request, env):
                client = RoomClient(env.FILES)  # expect: EDG302
                return await client.room(request.url).fetch(request)
        """, messages=(
            "binding FILES (an R2 bucket in wrangler.toml) has no getByName() (Durable Object namespace API): "
            "the call fails at runtime; use the binding declared for that API, or fix the declaration in "
            "wrangler.toml (reached from on_fetch())",
        )),
        Example("""
            async def on_fetch(request, env):
                kv = getattr(env, "EXTRA_KV", None)  # expect: EDG302
                return await kv.get(request.url)
        """, messages=(
            "binding EXTRA_KV is not declared in the wrangler config (in any environment), but get() uses it as "
            "a KV namespace: getattr() returns None in production and the call fails; declare it, or fix the name",
        )),
        Example("""
            async def on_fetch(request, env):
                await env.AUDIT.put(request.url, "seen", expirationTtl=86400)  # expect: EDG302
                return await env.CACHE.get(request.url)
        """, files={"wrangler.toml": EXAMPLE_WITH_ENVIRONMENTS}, messages=(
            "binding AUDIT is not declared in the top level of wrangler.toml (bindings are not inherited by "
            "environments), but put() uses it whatever the environment: env.AUDIT does not exist there and the "
            "call fails; declare it in every environment that runs this code, or check that it exists first",
        )),
        Example("""
            async def on_fetch(request, env):
                both = await env.FILES.getWithMetadata(request.url)  # expect: EDG302
                await env.FILES.put(request.path, both["value"], expirationTtl=3600)  # expect: EDG302
        """, messages=(
            "binding FILES (an R2 bucket in wrangler.toml) has no getWithMetadata() (KV namespace API): the call "
            "fails at runtime; use the binding declared for that API, or fix the declaration in wrangler.toml",
            "binding FILES (an R2 bucket in wrangler.toml) gets KV-only arguments in put() (type, expirationTtl, "
            "expiration, cacheTtl): they are ignored or rejected; drop them, or use a KV namespace",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                if env.ENVIRONMENT == "staging":
                    await env.AUDIT.put(request.url, "seen", expirationTtl=86400)
                return await env.CACHE.get(request.url)
        """, files={"wrangler.toml": EXAMPLE_WITH_ENVIRONMENTS}),
        Example("""
            async def seed(env):
                await env.SEED_KV.put("user:1", "{}")
        """, path="scripts/seed.py", files={"src/entry.py": "async def on_fetch(request, env):\n    return 1\n"}),
        Example("""
            async def on_fetch(request, env):
                token = env.API_TOKEN
                base = env.API_URL.rstrip("/")
                if request.headers.get("authorization") != f"Bearer {token}":
                    return "denied"
                return base
        """, files={"wrangler.toml": EXAMPLE_WITH_D1}),
        Example("""
            async def on_fetch(request, env):
                kv = getattr(env, "OPTIONAL_CACHE", None)
                if kv is not None:
                    await kv.put(request.url, "seen", expirationTtl=3600)
                fallback = getattr(env, "BACKUP_KV", None) or env.CACHE
                return await fallback.get(request.url)
        """),
        Example("""
            async def on_fetch(request, env):
                room = env.ROOMS.getByName(request.headers.get("x-room"))
                await env.FILES.put(request.url, b"data", http_metadata={"contentType": "text/plain"})
                rows = await env.DB.prepare("SELECT 1").all()
                allowed = await env.LIMITER.limit({"key": request.url})
                cached = await env.CACHE.get(request.url, type="json")
                return await room.fetch(request), rows, allowed, cached
        """, files={"wrangler.toml": EXAMPLE_WITH_D1}),
        Example("""
            async def on_fetch(request, env):
                return await env.AUTH.get(request.headers.get("x-user"))
        """, files={"wrangler.toml": EXAMPLE_WITH_D1}),
        Example("""
            class Default(WorkerEntrypoint):
                def __init__(self, ctx, env):
                    super().__init__(ctx, env)
                    self.archive = getattr(env, "ARCHIVE_KV", None)

                async def fetch(self, request):
                    if not self.archive:
                        return "archive disabled"
                    return await self.archive.get(request.url)
        """),
        Example("""
            async def test_reads_cache(env):
                await env.TEST_ONLY_KV.put("k", "v")
        """, path="tests/test_cache.py"),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        for op in project.facts.operations:
            table = op.module.bindings
            if op.kind not in ENV_BINDING_OPS or op.binding is None or op.module.is_test or not table.configs:
                continue
            declared = table.get(op.binding)
            problem = _misuse(op, declared) if declared is not None else _undeclared(project, op, table)
            if problem is None and not table.lacked_somewhere(op.binding):
                continue
            node, owner = _access(project, op)
            if not owner.deployed_by:
                continue  # no wrangler config deploys the file: the env it gets is none of theirs
            problem = problem or _missing(project, op, owner)
            if problem is not None:
                yield Report(self.code, owner.path, node, problem, related=tuple(callers(op, innermost(op))),
                             root=root_of(op))


def _access(project: Project, op: Operation) -> Tuple[cst.CSTNode, ModuleInfo]:
    """Where the binding is taken from env (`env.X`), and the module that holds it (the findings' place)."""
    if op.access_node is not None:
        owner = module_containing(project, op.access_node, op.module)
        if owner is not None:
            return op.access_node, owner
    return op.node, op.module


def _misuse(op: Operation, declared: Binding) -> Optional[str]:
    """A declared binding called with an API its kind does not have."""
    api = KIND_API.get(declared.kind)
    if api is None:
        return None
    config = _config_name(declared)
    where = f"binding {op.binding} ({KIND_NAMES[declared.kind]} in {config})"
    if op.method not in api:
        owners = " / ".join(KIND_NAMES[kind].split(" ", 1)[1] for kind, methods in KIND_API.items()
                            if op.method in methods)
        belongs = f" ({owners} API)" if owners else ""
        return (f"{where} has no {op.method}(){belongs}: the call fails at runtime; use the binding "
                f"declared for that API, or fix the declaration in {config}")
    if declared.kind is not BindingKind.KV and has_kv_only_shape(op.node):
        return (f"{where} gets KV-only arguments in {op.method}() (type, expirationTtl, expiration, cacheTtl): "
                f"they are ignored or rejected; drop them, or use a KV namespace")
    return None


def _undeclared(project: Project, op: Operation, table: BindingTable) -> Optional[str]:
    """A KV- or DO-style call on a name no environment of the config declares."""
    if op.kind in KV_KINDS:
        used_as = "a KV namespace"
    elif op.kind in DO_STYLE:
        used_as = "a Durable Object namespace"
    else:
        return None  # secrets, vars and unknown binding types: any method may be legitimate
    if op.kind is OpKind.KV_GET and not op.node.args:
        return None  # `get()` without a key: a Secrets Store secret, not KV
    if op.probe and _probe_handled(project, op):
        return None
    close = difflib.get_close_matches(op.binding, list(table.bindings), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    missing = "getattr() returns None" if op.probe else f"env.{op.binding} does not exist"
    return (f"binding {op.binding} is not declared in the wrangler config (in any environment), but "
            f"{op.method}() uses it as {used_as}: {missing} in production and the call fails; {hint}"
            f"declare it, or fix the name")


def _missing(project: Project, op: Operation, owner: ModuleInfo) -> Optional[str]:
    """A binding some environments deploying the file do not declare, used whatever the environment."""
    lacking = [(config, config.lacking(op.binding)) for config in owner.deployed_by]
    lacking = [(config, environments) for config, environments in lacking if environments]
    if not lacking or (op.probe and _probe_handled(project, op)) or _guarded(op, owner):
        return None
    where = " and ".join(f"{_listed([environment.label for environment in environments])} of {Path(config.path).name}"
                         for config, environments in lacking)
    return (f"binding {op.binding} is not declared in {where} (bindings are not inherited by environments), but "
            f"{op.method}() uses it whatever the environment: env.{op.binding} does not exist there and the call "
            f"fails; declare it in every environment that runs this code, or check that it exists first")


def _guarded(op: Operation, owner: ModuleInfo) -> bool:
    """The use depends on a condition that names the binding (`if hasattr(env, "AUDIT"):`) or a var
    of the config (`if env.ENVIRONMENT == "staging":`), around it or around a call leading to it."""
    table = op.module.bindings
    names = {op.binding} | {name for name, binding in table.bindings.items() if binding.kind is BindingKind.VAR}
    sites = [(op.module, op.node)] + [(frame.caller, frame.call) for frame in op.context.frames
                                      if frame.call is not None and frame.caller is not None]
    if op.access_node is not None:
        sites.append((owner, op.access_node))
    return any(names & names_in(test) for module, node in sites for test in guarding_tests(module.tree, node))


def _listed(items: List[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _probe_handled(project: Project, op: Operation) -> bool:
    """`getattr(env, X, None)` whose None case the code handles, where it is taken or where it is used."""
    owner = module_containing(project, op.access_node, op.module) if op.access_node is not None else None
    if owner is not None and is_none_handled(owner.tree, op.access_node):
        return True
    func = op.node.func
    if not isinstance(func, cst.Attribute):
        return False
    scope = op.function.parse() if op.function is not None else op.module.tree
    return op.module.tree.code_for_node(func.value) in condition_texts(scope)


def _config_name(declared: Binding) -> str:
    return Path(declared.source).name if declared.source and declared.source != "config" else "[tool.edgelint.bindings]"
