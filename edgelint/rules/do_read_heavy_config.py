"""EDG202 do-read-heavy-config: request-path reads of shared config from one Durable Object."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from edgelint.findings import Report
from edgelint.model.operations import OpKind
from edgelint.model.project import Project
from edgelint.model.queries import address_of, config_reads_from_singletons
from edgelint.rules.base import Example, Rule, key_of

CONFIG_STORE = """
from workers import DurableObject

class ConfigStore(DurableObject):
    async def get_settings(self):
        return await self.ctx.storage.get("settings")

    async def fetch(self, request):
        return await self.ctx.storage.get("flags")

    async def update(self, settings):
        await self.ctx.storage.put("settings", settings)
"""


class DoReadHeavyConfig(Rule):
    code = "EDG202"
    name = "do-read-heavy-config"
    severity = "warning"
    summary = "The request path reads shared config, flags or settings from a single Durable Object."
    what = """
        Reports a stub call on the request path that reads shared, rarely-changing data from an
        object addressed by a constant name: a method of the project's Durable Object class that
        only reads storage, or (when the class is not in the project) a method or `fetch` route
        whose name says config, flags or settings. Writes and coordination through the object are
        not reported, and neither are reads cached per isolate (made only when a module global the
        function rebinds, or a module-level dict it fills, is empty or stale): those reach the
        object once per isolate and interval, not on every request. When this rule reports a stub,
        EDG201 stays quiet on its addressing call.
    """
    why = """
        Every request then makes a round trip to one object in one location, and that object
        serializes all readers. Read-mostly data that tolerates a short delay is what KV is for: it
        is served from a cache near every reader.
    """
    example = """
        async def on_fetch(request, env):
            flags = await env.CONFIG.getByName("global").get_settings()
    """
    use_instead = """
        class ConfigStore(DurableObject):
            async def update(self, settings):
                await self.ctx.storage.put("settings", settings)       # the object coordinates writes
                await self.env.FLAGS.put("settings", json.dumps(settings))  # and publishes them to KV

        async def on_fetch(request, env):
            flags = json.loads(await env.FLAGS.get("settings") or "{}")  # readers use KV
    """
    references = (
        "KV is optimized for read-heavy data that tolerates short staleness; a DO is one location.",
        "Combined pattern: a Durable Object serializes writes and populates KV for reads.",
    )
    invalid = (
        Example("""
            async def on_fetch(request, env):
                return await env.CONFIG.getByName("global").get_settings()  # expect: EDG202
        """, files={"src/config_store.py": CONFIG_STORE}, messages=(
            'Durable Object CONFIG method get_settings() reads shared config from the single instance "global" '
            "on every request: one object in one location serves all readers; have the object publish the data "
            "to KV and read it from KV",
        )),
        Example("""
            async def on_fetch(request, env):
                stub = env.CONFIG.get(env.CONFIG.idFromName("config"))
                return await stub.fetch(request)  # expect: EDG202
        """, files={"src/config_store.py": CONFIG_STORE}, messages=(
            'Durable Object CONFIG method fetch() reads shared config from the single instance "config" on every '
            "request: one object in one location serves all readers; have the object publish the data to KV and "
            "read it from KV",
        )),
        Example("""
            class Default(WorkerEntrypoint):
                async def fetch(self, request):
                    store = self.env.SETTINGS.getByName("main")
                    flags = await store.getFeatureFlags()  # expect: EDG202
                    return flags
        """, files={"wrangler.toml": '[[durable_objects.bindings]]\nname = "SETTINGS"\nclass_name = "Remote"\nscript_name = "other"\n'},
            messages=(
                "Durable Object SETTINGS method getFeatureFlags() reads shared config from the single instance "
                '"main" on every request: one object in one location serves all readers; have the object publish the '
                "data to KV and read it from KV",
            )),
        Example("""
            CONFIG_ID = "singleton"

            async def load_flags(env):
                stub = env.CONFIG.getByName(CONFIG_ID)
                return await stub.fetch("https://config/flags")  # expect: EDG202

            async def on_fetch(request, env):
                flags = await load_flags(env)
        """, messages=(
            'Durable Object CONFIG method fetch() reads shared config from the single instance "singleton" on '
            "every request: one object in one location serves all readers; have the object publish the data to "
            "KV and read it from KV (reached from on_fetch())",
        )),
        Example("""
            async def on_fetch(request, env):
                cfg = env.CONFIG.getByName("tenant-config")
                return await cfg.read_config()  # expect: EDG202
        """, messages=(
            "Durable Object CONFIG method read_config() reads shared config from the single instance "
            '"tenant-config" on every request: one object in one location serves all readers; have the object '
            "publish the data to KV and read it from KV",
        )),
    )
    valid = (
        Example("""
            async def on_fetch(request, env):
                if request.method == "POST":
                    return await env.CONFIG.getByName("global").update({"a": 1})  # expect: EDG201
        """, files={"src/config_store.py": CONFIG_STORE}),
        Example("""
            async def on_fetch(request, env):
                tenant = request.headers.get("x-tenant")
                return await env.CONFIG.getByName(tenant).get_settings()
        """, files={"src/config_store.py": CONFIG_STORE}),
        Example("""
            import json

            async def on_fetch(request, env):
                return json.loads(await env.FLAGS.get("settings") or "{}")
        """),
        Example("""
            class Default(WorkerEntrypoint):
                async def scheduled(self, controller, env, ctx):
                    settings = await env.CONFIG.getByName("global").get_settings()
                    await env.FLAGS.put("settings", settings)
        """, files={"src/config_store.py": CONFIG_STORE}),
        Example("""
            _SETTINGS = {}

            async def tenant_settings(env, tenant):
                def load(key):  # cached per isolate, in a local function called back by map()
                    if key not in _SETTINGS:
                        _SETTINGS[key] = env.CONFIG.getByName("global").get_settings()
                    return _SETTINGS[key]
                return list(map(load, [tenant]))

            async def on_fetch(request, env):
                return await tenant_settings(env, request.headers.get("x-tenant"))
        """, files={"src/config_store.py": CONFIG_STORE}),
    )

    def check(self, project: Project, options: Mapping[str, Any]) -> Iterable[Report]:
        config_reads = {call.id for call in config_reads_from_singletons(project)}
        yield from self.report_calls(
            project.ops(OpKind.STUB_CALL), lambda call: call.id in config_reads,
            lambda call: (
                f"Durable Object {call.binding} method {call.method}() reads shared config from the single "
                f"instance {key_of(address_of(project, call))} on every request: one object in one location "
                f"serves all readers; have the object publish the data to KV and read it from KV"),
        )
