"""The rule registry: every rule, in code order. A new rule is one module plus one line here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Type, Union

from edgelint.findings import INTERNAL_ERROR, SYNTAX_ERROR
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

# Findings the engine itself produces (edgelint.findings names them: linting reports them without the rules).
ENGINE_CODES = (INTERNAL_ERROR, SYNTAX_ERROR)


@dataclass(frozen=True)
class EngineCode:
    """A code edgelint reports itself rather than a rule: documented like a rule (`edgelint rule`, SARIF)."""

    code: str
    name: str
    summary: str
    what: str
    todo: str
    severity: str = "error"
    fixable: bool = False

    def url(self) -> Optional[str]:
        return None

    def documentation(self) -> str:
        return (f"# {self.code} {self.name}\n\nSeverity: {self.severity}. Automatic fix: no.\n\n"
                f"## What it does\n{self.what}\n\n## What to do\n{self.todo}\n")


ENGINE_RULES = (
    EngineCode(INTERNAL_ERROR, "internal-error", "edgelint failed while analysing the file.",
               "An unexpected error stopped the analysis of this file (the message names it); the other files were "
               "still checked, and the run exits 2.",
               "Please report it with the file that triggers it."),
    EngineCode(SYNTAX_ERROR, "syntax-error", "The file could not be parsed or decoded.",
               "Reports a file that is not Python source, at the position Python's own parser gives: a syntax "
               "error, code Python accepts but libcst (edgelint's parser) does not (the message says so), or bytes "
               "that do not decode (invalid UTF-8, a wrong or unknown coding cookie, binary data). No rule can "
               "check such a file; the other files are still linted and the run exits 1.",
               "Fix the syntax or the encoding (save the file as UTF-8, or correct its `# -*- coding: ... -*-` "
               "line). A file the relevance filter skips is checked only when it is named on the command line."),
)
Documented = Union[Type[Rule], EngineCode]
DOCUMENTED: Dict[str, Documented] = {**{rule.code: rule for rule in ALL_RULES},
                                     **{rule.code: rule for rule in ENGINE_RULES}}
DOCUMENTED.update({rule.name: rule for rule in list(DOCUMENTED.values())})  # `edgelint rule NAME` too
KNOWN_CODES = tuple(RULES_BY_CODE) + ENGINE_CODES
RULE_OPTIONS = {rule.code: rule.options for rule in ALL_RULES}
