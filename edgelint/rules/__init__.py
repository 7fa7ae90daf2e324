"""The rule registry: every rule, in code order. A new rule is one module plus one line here."""
from __future__ import annotations

from typing import Dict, List, Type

from edgelint.rules.base import Rule
from edgelint.rules.binding_mismatch import BindingMismatch
from edgelint.rules.do_global_singleton import DoGlobalSingleton
from edgelint.rules.do_keepalive_cost import DoKeepaliveCost
from edgelint.rules.do_read_heavy_config import DoReadHeavyConfig
from edgelint.rules.do_rmw_across_io import DoRmwAcrossIo
from edgelint.rules.do_unique_id_per_request import DoUniqueIdPerRequest
from edgelint.rules.kv_check_then_act import KvCheckThenAct
from edgelint.rules.kv_hot_key_write import KvHotKeyWrite
from edgelint.rules.kv_invalid_option import KvInvalidOption
from edgelint.rules.kv_rate_limiter import KvRateLimiter
from edgelint.rules.kv_read_after_write import KvReadAfterWrite
from edgelint.rules.kv_read_modify_write import KvReadModifyWrite
from edgelint.rules.local_only_consistency_test import LocalOnlyConsistencyTest
from edgelint.rules.unawaited_binding_call import UnawaitedBindingCall

ALL_RULES: List[Type[Rule]] = sorted(
    [KvReadModifyWrite, KvReadAfterWrite, KvCheckThenAct, KvRateLimiter, DoGlobalSingleton, DoReadHeavyConfig,
     DoUniqueIdPerRequest, UnawaitedBindingCall, KvHotKeyWrite, DoRmwAcrossIo,
     KvInvalidOption, DoKeepaliveCost, BindingMismatch, LocalOnlyConsistencyTest],
    key=lambda rule: rule.code,
)
RULES_BY_CODE: Dict[str, Type[Rule]] = {rule.code: rule for rule in ALL_RULES}

# Findings the engine itself produces.
SYNTAX_ERROR = "EDG999"
INTERNAL_ERROR = "EDG998"
ENGINE_CODES = (INTERNAL_ERROR, SYNTAX_ERROR)
KNOWN_CODES = tuple(RULES_BY_CODE) + ENGINE_CODES
RULE_OPTIONS = {rule.code: rule.options for rule in ALL_RULES}
