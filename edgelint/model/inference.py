"""Binding kinds inferred from usage, for names no configuration declares (rules.md, "Bindings")."""
from __future__ import annotations

from typing import Dict, Iterable

import libcst as cst

from edgelint.model.bindings import BindingKind
from edgelint.model.operations import Operation, OpKind
from edgelint.model.literals import string_value

ENV_BINDING_OPS = frozenset({OpKind.KV_GET, OpKind.KV_PUT, OpKind.KV_DELETE, OpKind.KV_LIST, OpKind.DO_ADDRESS,
                             OpKind.DO_STUB, OpKind.BINDING_CALL})
KV_READ_TYPES = frozenset({"json", "text", "arrayBuffer", "stream"})
KV_ONLY_OPTIONS = frozenset({"expirationTtl", "expiration", "cacheTtl"})


def infer_binding_kinds(operations: Iterable[Operation]) -> Dict[str, BindingKind]:
    inferred: Dict[str, BindingKind] = {}
    for op in operations:
        name = op.binding
        if name is None or name in inferred or op.kind not in ENV_BINDING_OPS:
            continue
        if op.kind in (OpKind.DO_ADDRESS, OpKind.DO_STUB):
            inferred[name] = BindingKind.DURABLE_OBJECT
        elif "kv" in name.lower() or has_kv_only_shape(op.node):
            inferred[name] = BindingKind.KV
    return inferred


def has_kv_only_shape(call: cst.Call) -> bool:
    """A call only the KV API makes: getWithMetadata, get(k, "json"), type=/expirationTtl= options."""
    method = call.func.attr.value if isinstance(call.func, cst.Attribute) else ""
    if method == "getWithMetadata":
        return True
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    if method == "get" and len(positional) >= 2 and string_value(positional[1].value) in KV_READ_TYPES:
        return True
    for arg in call.args:
        if arg.keyword is not None and (arg.keyword.value in KV_ONLY_OPTIONS or (method == "get" and arg.keyword.value == "type")):
            return True
        if isinstance(arg.value, cst.Dict):
            keys = {string_value(el.key) for el in arg.value.elements if isinstance(el, cst.DictElement)}
            if keys & KV_ONLY_OPTIONS:
                return True
    return False
