"""What libcst literal and name nodes say: a string's value, a dotted name."""
from __future__ import annotations

from typing import Optional, Union

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def literal_value(node: cst.SimpleString) -> Union[str, bytes]:
    """The value of a string literal. libcst's `evaluated_value` compiles the literal with
    `ast.literal_eval` (a compile per string: a tenth of a cold run's time); a literal without
    escapes, carriage returns or a bytes prefix is its text between the quotes."""
    text = node.value
    start = 1 if text[:1] in ("r", "u", "R", "U") else 0
    if text[start:start + 1] in ("'", '"') and "\\" not in text and "\r" not in text:
        quote = 3 if text[start:start + 3] in ('"""', "'''") and len(text) - start >= 6 else 1
        return text[start + quote:-quote]
    return node.evaluated_value


def string_value(node: Optional[cst.BaseExpression]) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = literal_value(node)
        except Exception:  # noqa: BLE001 - libcst raises plain exceptions on odd prefixes
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None
