"""`# noqa` handling with flake8's exact grammar and line mapping, so CLI and plugin agree."""
from __future__ import annotations

import io
import re
import tokenize
from typing import Dict, List, Optional, Tuple

# Same expressions as flake8.defaults.
NOQA_INLINE = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
NOQA_FILE = re.compile(r"\s*# (?:flake8|edgelint)[:=]\s*noqa", re.IGNORECASE)
EDGELINT_NOQA_FILE = re.compile(r"\s*# edgelint[:=]\s*noqa", re.IGNORECASE)


def file_is_ignored(source: str, include_flake8: bool = True) -> bool:
    pattern = NOQA_FILE if include_flake8 else EDGELINT_NOQA_FILE
    return any(pattern.match(line) for line in source.splitlines())


class NoqaIndex:
    """For each line, the text flake8 searches for `# noqa`: the lines a string or backslash joins it with."""

    def __init__(self, source: str):
        # Split only where Python's tokenizer does (not at form feeds, like str.splitlines would),
        # so line numbers agree with the tokens and with the findings.
        self.lines = io.StringIO(source, newline=None).readlines()
        self._mapping: Optional[Dict[int, str]] = None
        self._ranges: Dict[int, Tuple[int, int]] = {}

    def _build(self) -> Dict[int, str]:
        mapping: Dict[int, str] = {}
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("".join(self.lines)).readline))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            return mapping
        low, high = len(self.lines) + 2, -1
        for token in tokens:
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            low, high = min(low, token.start[0]), max(high, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(self.lines[low - 1: high])
                for number in range(low, high + 1):
                    mapping[number] = joined
                    self._ranges[number] = (low, high)
                low, high = len(self.lines) + 2, -1
        return mapping

    def noqa_range(self, line: int) -> Tuple[int, int]:
        """First and last physical line of the text searched for `line`'s `# noqa`.

        Like flake8, lines are only joined by a token spanning them (a multi-line string) or a
        backslash; inside brackets every line stands alone.
        """
        self.line_for(line)
        return self._ranges.get(line, (line, line))

    def line_for(self, line: int) -> str:
        if self._mapping is None:
            self._mapping = self._build()
        text = self._mapping.get(line)
        if text is None and 0 < line <= len(self.lines):
            text = self.lines[line - 1]
        return text or ""

    def suppresses(self, line: int, code: str) -> bool:
        match = NOQA_INLINE.search(self.line_for(line))
        if match is None:
            return False
        codes_text = match.group("codes")
        if codes_text is None:
            return True
        codes = [c for c in re.split(r"[,\s]+", codes_text.strip()) if c]
        return code in codes or code.startswith(tuple(codes))


def codes_on_line(text: str) -> List[str]:
    """Codes of an existing `# noqa: ...` comment on a physical line (for --add-noqa)."""
    match = NOQA_INLINE.search(text)
    if match is None or match.group("codes") is None:
        return []
    return [c for c in re.split(r"[,\s]+", match.group("codes").strip()) if c]
