"""Reading source files as Python does, and saying in one line why a file cannot be read or parsed."""
from __future__ import annotations

import ast
import hashlib
import os
import re
import stat
import sys
import tokenize
import warnings
from io import BytesIO
from typing import List, NamedTuple, Optional, Tuple, Union

import libcst as cst

MAX_FILE_BYTES = 20 * 1024 * 1024
_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")

Decoded = Tuple[Optional[str], Optional[str]]  # (text, None) or (None, the problem)
# A text kept for the whole run in the smaller of two forms (see `compact`): offsets into it count
# its own units, characters of a str or bytes of UTF-8.
StoredText = Union[str, bytes]
NEWLINE = re.compile(r"\r\n|\r|\n")  # Python's line ends
_NEWLINE_BYTES = re.compile(rb"\r\n|\r|\n")


def read_bytes(path: str) -> Tuple[bytes, Optional[str]]:
    """A file's bytes, or the problem that prevents reading them."""
    try:
        status = os.stat(path)
        # A FIFO or device named *.py would block the run or never end: only regular files are read.
        if not stat.S_ISREG(status.st_mode):
            return b"", "cannot read: not a regular file"
        if status.st_size > MAX_FILE_BYTES:
            return b"", f"file too large ({status.st_size // (1024 * 1024)} MB)"
        with open(path, "rb") as handle:
            return handle.read(), None
    except OSError as exc:
        if os.path.islink(path) and not os.path.exists(path):
            return b"", "cannot read: broken symbolic link"
        return b"", f"cannot read: {exc.strerror or exc}"


def content_digest(data: bytes) -> str:
    """What identifies a file's content (cache keys, the check before a fix is written)."""
    return hashlib.sha256(data).hexdigest()


class FileText(NamedTuple):
    text: Optional[str]
    error: Optional[str]  # why there is no text
    digest: str  # content digest of the bytes read ("" when they could not be read)


def read_text(path: str) -> FileText:
    """A file's text as Python would decode it (or why it has none), and its content digest."""
    data, error = read_bytes(path)
    if error is not None:
        return FileText(None, error, "")
    text, error = decode_source(data)
    return FileText(text, error, content_digest(data))


def compact(text: str) -> StoredText:
    """`text` as it takes the least memory. One character beyond Latin-1 (a `…` in a comment)
    makes CPython store the whole string at two or four bytes per character; as UTF-8, code is
    about one byte per character."""
    if text.isascii():
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    return encoded if sys.getsizeof(encoded) < sys.getsizeof(text) else text


def expand(stored: StoredText) -> str:
    """The text `compact` stored."""
    return stored if isinstance(stored, str) else stored.decode("utf-8", "surrogatepass")


def contains(stored: StoredText, needle: str) -> bool:
    return (needle if isinstance(stored, str) else needle.encode("utf-8")) in stored


def line_starts(text: StoredText) -> List[int]:
    """The offset in `text` where each physical line starts (as Python numbers lines: not at form
    feeds or other separators `str.splitlines` knows). UTF-8 never has a newline byte inside a character."""
    newline = NEWLINE if isinstance(text, str) else _NEWLINE_BYTES
    return [0] + [match.end() for match in newline.finditer(text)]


def decode_source(data: bytes) -> Decoded:
    """Decode like Python does (BOM, coding cookie, UTF-8 by default); refuse binary data."""
    if b"\0" in data:
        return None, "binary file (contains NUL bytes)"
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    except SyntaxError as exc:
        # Also raised when the first two lines are not UTF-8: decoding them says where exactly.
        return None, _decode(data, "utf-8")[1] or f"cannot decode: {exc.msg}"
    return _decode(data, encoding)  # "utf-8-sig" (a BOM) keeps the BOM out of the text


def _decode(data: bytes, encoding: str) -> Decoded:
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode(encoding, errors="replace")) + 1
        return None, (f"cannot decode as {encoding}: invalid byte 0x{data[exc.start]:02x} at line {line}, "
                      f"column {column}")


def syntax_error(text: str, exc: cst.ParserSyntaxError, first_line: int = 1) -> Tuple[int, int, str]:
    """Line (1-based), column (0-based) and message of the finding for a file libcst cannot parse
    (`text` is the part of the file that starts at `first_line`).

    libcst reports where its parser gave up, often a line after the mistake, with a list of
    expected tokens; Python's own parser points at the mistake and explains it ("'(' was never
    closed"). When Python accepts the code, the finding says that libcst is the one refusing it.
    """
    shift = first_line - 1
    try:
        parse_ast(text)
    except SyntaxError as error:
        if error.lineno:
            return error.lineno + shift, max((error.offset or 1) - 1, 0), f"syntax error: {error.msg}"
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        line, column = _libcst_position(exc)
        return (line + shift, column, "unsupported syntax: Python accepts this code but libcst, edgelint's parser, "
                f"does not: {_shift_message(exc.message, shift)}")
    line, column = _libcst_position(exc)
    return line + shift, column, f"syntax error: {_shift_message(exc.message, shift)}"


def _libcst_position(exc: cst.ParserSyntaxError) -> Tuple[int, int]:
    """libcst's parser names the token it failed at in its message ("error at 25:8"); its
    `raw_line` is sometimes the line after."""
    match = _LIBCST_POSITION.search(exc.message)
    return (int(match[1]), int(match[2])) if match else (exc.raw_line, exc.raw_column)


def _shift_message(message: str, shift: int) -> str:
    return _LIBCST_POSITION.sub(lambda match: f"error at {int(match[1]) + shift}:{match[2]}", message, count=1)


def parse_ast(text: str) -> ast.Module:
    """`ast.parse`, without the warnings Python prints for odd code (invalid escape sequences):
    they are no concern of a linter's user and must not reach stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(for_parser(text))


def for_parser(text: str) -> str:
    """`text` to hand to a parser. Parsers ask CPython for the UTF-8 form of a string, which a
    non-ASCII string then keeps as long as it lives (as much memory again as the file): a copy
    takes it away with it."""
    return text if text.isascii() else text[:1] + text[1:]
