"""Reading source files as Python does, and saying in one line why a file cannot be read or parsed."""
from __future__ import annotations

import ast
import hashlib
import itertools
import os
import re
import stat
import sys
import tokenize
import warnings
from io import BytesIO
from typing import TYPE_CHECKING, List, NamedTuple, Optional, Tuple, Union

if TYPE_CHECKING:  # annotations only: a run the cache answers never loads libcst
    import libcst as cst

MAX_FILE_BYTES = 20 * 1024 * 1024
_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")

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


Position = Tuple[int, int]  # 1-based line and column


class Decoded(NamedTuple):
    text: Optional[str]
    problem: Optional[str] = None  # why there is no text
    position: Position = (1, 1)  # where decoding fails


class FileText(NamedTuple):
    text: Optional[str]
    error: Optional[str]  # why there is no text
    digest: str  # content digest of the bytes read ("" when they could not be read)
    # Where bytes that were read fail to decode: the file is then a syntax error (EDG999) there,
    # as Python would report it, rather than a file that cannot be read.
    error_at: Optional[Position] = None


def read_text(path: str) -> FileText:
    """A file's text as Python would decode it (or why it has none), and its content digest."""
    data, error = read_bytes(path)
    if error is not None:
        return FileText(None, error, "")
    return text_of(data)


def text_of(data: bytes) -> FileText:
    """The text of a file's bytes (from the disk or stdin), or where and why they do not decode."""
    decoded = decode_source(data)
    return FileText(decoded.text, decoded.problem, content_digest(data),
                    None if decoded.text is not None else decoded.position)


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
    if isinstance(text, str) and text.isascii():
        text = text.encode("ascii")  # the same offsets
    if isinstance(text, bytes):
        # bytes.splitlines breaks exactly at \r\n, \r and \n (str.splitlines at more); in C, where a
        # regular expression's matches cost a Python object each.
        starts = [0, *itertools.accumulate(map(len, text.splitlines(True)))]
        if text and text[-1] not in b"\r\n":
            starts.pop()  # the last line has no line end: no line starts after it
        return starts
    return [0] + [match.end() for match in NEWLINE.finditer(text)]


def decode_source(data: bytes) -> Decoded:
    """Decode like Python does (BOM, coding cookie, UTF-8 by default); refuse binary data."""
    if b"\0" in data:
        return Decoded(None, "binary file (contains NUL bytes)", _position(data, data.index(b"\0"), "utf-8"))
    try:
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    except SyntaxError as exc:
        # Also raised when the first two lines are not UTF-8: decoding them says where exactly.
        undecodable = _decode(data, "utf-8")
        return undecodable if undecodable.text is None else Decoded(None, f"cannot decode: {exc.msg}", _cookie(data))
    return _decode(data, encoding)  # "utf-8-sig" (a BOM) keeps the BOM out of the text


def _decode(data: bytes, encoding: str) -> Decoded:
    try:
        return Decoded(data.decode(encoding))
    except UnicodeDecodeError as exc:
        return Decoded(None, f"cannot decode as {encoding}: invalid byte 0x{data[exc.start]:02x}",
                       _position(data, exc.start, encoding))


def _position(data: bytes, offset: int, encoding: str) -> Position:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[line_start:offset].decode(encoding, errors="replace")) + 1


def _cookie(data: bytes) -> Position:
    """Where the coding cookie is (on one of the first two lines)."""
    first, _, rest = data.partition(b"\n")
    return (1, 1) if b"coding" in first or b"coding" not in rest.partition(b"\n")[0] else (2, 1)


def syntax_error(text: str, exc: cst.ParserSyntaxError, first_line: int = 1) -> Tuple[int, int, str]:
    """Line (1-based), column (0-based) and message of the finding for a file libcst cannot parse
    (`text` is the part of the file that starts at `first_line`).

    libcst reports where its parser gave up, often a line after the mistake, with a list of
    expected tokens; Python's own parser points at the mistake and explains it ("'(' was never
    closed"). When Python accepts the code, the finding says that libcst is the one refusing it.
    """
    shift = first_line - 1
    try:
        python_error = python_syntax_error(text)
    except ValueError:  # Python refuses it too, but does not say where: libcst's position
        line, column = _libcst_position(exc)
        return line + shift, column, f"syntax error: {_shift_message(exc.message, shift)}"
    if python_error is not None:
        line, column, message = python_error
        return line + shift, column, message
    line, column = _libcst_position(exc)
    return (line + shift, column, "unsupported syntax: Python accepts this code but libcst, edgelint's parser, "
            f"does not: {_shift_message(exc.message, shift)}")


def python_syntax_error(text: str) -> Optional[Tuple[int, int, str]]:
    """Line (1-based), column (0-based) and message where Python's own parser refuses `text`;
    None when it accepts it. ValueError when it refuses it without a position."""
    try:
        parse_ast(text)
    except SyntaxError as error:
        if not error.lineno:
            raise ValueError(error.msg) from None
        return error.lineno, max((error.offset or 1) - 1, 0), f"syntax error: {error.msg}"
    except (RecursionError, MemoryError) as error:
        raise ValueError(type(error).__name__) from None
    return None


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
