"""The result cache: a project's findings, stored under `.edgelint_cache/` at the project root.

Findings depend on the whole project (a helper in one module changes what is reported in another),
so an entry holds the findings of one project: its files, the resolved settings and the `--no-filter`
flag name the entry (a `Slot`); the entry records what it was computed from, checked on each run:

- edgelint's version and code stamp (the size and mtime of its own modules: a changed rule, or a
  changed rule set, must not be answered from the cache even before the version number moves);
- the binding table's fingerprint, and the size and mtime of the wrangler config files it came from;
- for every file of the project: its content digest (or why it could not be read), whether its
  text mentions `noqa`, and its size and mtime.

An unchanged project is answered after one `os.stat` per file: nothing is read or hashed. A file
whose size or mtime differs is read and its digest compared: a file touched but not changed is still
a hit (and the entry's stats are refreshed), a changed one is a miss. Stats are taken before the
files are read, and an mtime less than `RACY_NS` older than that moment is not trusted (a second
edit within the file system's timestamp granularity would keep it): such a file is compared by
digest on the next run, as git does with "racily clean" files.

A `Memo` is a smaller record beside the entries: a value (what the flake8 plugin reports for the
files of one directory) and every path it was derived from, its witnesses: configuration files
looked for, directories walked, the project's files. It is valid while no witness's stats change.

Entries are written to a temporary file and renamed, so concurrent runs (pre-commit batches, an
editor's flake8 beside a CLI run) never see half an entry; the last writer wins, and every entry
is correct for the files it describes. An entry that cannot be read or does not match is a miss,
never an error. The directory stays bounded: after each write, records not used for `MAX_AGE_S`
and all but the `MAX_ENTRIES` most recently used entries (`MAX_MEMOS` memos) are deleted; a hit
marks its record used, at most once an hour. Checking a record imports nothing heavy: neither
libcst nor the rules, nor even hashlib.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
import zlib
from pathlib import Path
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional,
                    Sequence, Set, Tuple)

from edgelint import __version__
from edgelint.atomic import remove_quietly
from edgelint.lazy import LazyValues
from edgelint.paths import absolute

if TYPE_CHECKING:
    from edgelint.findings import Finding

CACHE_DIR = ".edgelint_cache"
FORMAT = "4"
MAX_ENTRIES = 16  # per project root: settings variants, and file sets of projects without a wrangler config
MAX_MEMOS = 64  # per project root: one per directory the flake8 plugin was run on
MAX_AGE_S = 30 * 24 * 3600  # a record not used for 30 days is deleted
RACY_NS = 2_000_000_000  # coarser than any file system's mtime granularity (FAT: 2 s)
MEMO_PREFIX = "flake8-"
ANALYSIS_SUFFIX = ".analysis"  # beside an entry: what its analysis leaves for the next one (pickled)
MODEL_SUFFIX = ".model"  # beside an entry: `edgelint model`'s routes of the entry's very files (pickled)
TREES_SUFFIX = ".trees"  # beside an entry: the parsed functions of its large modules (tree_bytes.TreeStore)
_TOUCH_AFTER_S = 3600  # a hit marks its record used when the mark is older than this
_STALE_TEMP_S = 3600  # a temporary file this old was left by a killed run

Stat = Optional[Tuple[int, int]]  # (size, mtime_ns); None when the path cannot be stat'ed
UNTRUSTED = -1  # an mtime recorded as this is never equal to a file's: compare the content


class FileState(NamedTuple):
    """What a file's findings depend on: its content, or why it has none."""

    digest: str
    error: Optional[str] = None
    noqa: bool = False  # its text mentions noqa (only such files are read to apply noqa comments)
    error_at: Optional[Sequence[int]] = None  # where its bytes fail to decode (textio.FileText)
    skipped: Optional[bool] = None  # the relevance filter kept it from the analysis (projects.Source)

    def same_content(self, other: "FileState") -> bool:
        return (self.digest, self.error) == (other.digest, other.error)


class Hit(NamedTuple):
    findings: List[Finding]  # with the paths as this run spells them
    states: Dict[str, FileState]  # by path as spelled


class Stats:
    """Stats of paths taken at one moment, recorded so that a later run can trust them."""

    def __init__(self, started: Optional[int] = None):
        self.started = time.time_ns() if started is None else started  # before anything was read
        self.taken: Dict[str, Stat] = {}

    def take(self, path: str) -> Stat:
        stat = self.taken[path] = stat_of(path)
        return stat

    def record(self, path: str) -> List[Any]:
        """[path, size, mtime]; [path] when the path does not exist. An mtime too recent to trust is
        recorded as UNTRUSTED (taken later than `started`, a stat may describe a newer content)."""
        stat = self.taken[path] if path in self.taken else self.take(path)
        if stat is None:
            return [path]
        size, mtime = stat
        return [path, size, mtime if self.old_enough(stat) else UNTRUSTED]

    def old_enough(self, stat: Stat) -> bool:
        """Whether `stat` (taken by this run) describes one content: no later write can leave it the
        same (its mtime is older than the racy window)."""
        return stat is None or stat[1] <= self.started - RACY_NS


def unchanged(record: Sequence[Any], stat: Stat) -> bool:
    """Whether a path recorded as `record` (see Stats.record) now has the stats `stat`."""
    if len(record) == 1:
        return stat is None
    return record[2] != UNTRUSTED and stat == (record[1], record[2])


class Slot:
    """The entry of one project variant: its files (`paths` as this run spells them), governed by
    the wrangler config files `governing`, linted under `identity` (settings and flags)."""

    def __init__(self, root: Path, identity: Sequence[str], paths: Iterable[str], governing: Sequence[str]):
        self.root = root
        self.absolute = {path: absolute(path) for path in paths}
        self.spelled = {absolute: path for path, absolute in reversed(list(self.absolute.items()))}
        self.governing = sorted(os.path.abspath(path) for path in governing)
        name = _sha([FORMAT, str(root), *identity, *sorted(self.spelled), "", *self.governing])
        self.file = root / CACHE_DIR / f"{name}.json"
        self.analysis_file = root / CACHE_DIR / f"{name}{ANALYSIS_SUFFIX}"
        self.model_file = root / CACHE_DIR / f"{name}{MODEL_SUFFIX}"
        self.trees_file = root / CACHE_DIR / f"{name}{TREES_SUFFIX}"
        self.stats = Stats()
        # What the entry recorded of each file (by path as spelled), hit or miss, when the binding
        # table is the one it was made under: a file whose content is the same (same digest) needs
        # neither its relevance nor its noqa mention found again.
        self.recorded: Dict[str, FileState] = {}
        self.unchanged: Set[str] = set()  # files (as spelled) whose stats are those recorded with them

    def lookup(self, known: Mapping[str, FileState], read: Callable[[str], FileState],
               bindings: Callable[[], str], stats: Optional[Stats] = None) -> Optional[Hit]:
        """The entry's findings if it is still valid. `known` holds the files this run already has
        (code from stdin); `read` reads a file whose stats changed, `bindings` computes the binding
        table's fingerprint when a wrangler config file's stats changed. `stats`: those the caller
        took already (of absolute paths, before reading any), taken again of no path."""
        self.stats = stats or Stats()
        skip = {self.absolute[path] for path in known}
        for path in [*self.spelled, *self.governing]:
            if path not in skip and path not in self.stats.taken:
                self.stats.take(path)
        entry = _load(self.file)
        if entry is None:
            return None
        try:
            return self._validate(entry, known, read, bindings)
        except (LookupError, TypeError, ValueError):
            return None  # an entry of an unexpected shape

    def store(self, findings: Sequence[Finding], states: Mapping[str, FileState], bindings: str) -> None:
        """Record `findings`, computed from the files in `states` (by path as spelled)."""
        spelled = {self.absolute[path]: state for path, state in states.items()}
        files = [[*self._file_record(path), *spelled[path]] for path in sorted(spelled)]
        absolute = self.absolute.get
        items = [_item(finding, lambda path: absolute(path, path)) for finding in findings]
        _write(self.file, {"format": FORMAT, "code": code_id(), "bindings": bindings,
                           "governing": [self.stats.record(path) for path in self.governing],
                           "files": files, "findings": items})

    def load_analysis(self, bindings: str) -> Optional[Any]:
        """What the last analysis of this project left for the next (`store_analysis`), if it was
        made by this edgelint under this binding table."""
        return _load_pickled(self.analysis_file, (FORMAT, code_id(), bindings))

    def store_analysis(self, value: Any, bindings: str) -> None:
        _store_pickled(self.analysis_file, (FORMAT, code_id(), bindings), value)

    def load_trees(self) -> Dict[str, Dict[str, bytes]]:
        """The pickled trees the last analysis kept (`store_trees`), by module path and function
        text, if this edgelint, libcst and Python made them; else none."""
        packed = _load_pickled(self.trees_file, _trees_header(), keep=False)
        try:
            return _unpickled(zlib.decompress(packed)) if packed is not None else {}
        except (zlib.error, TypeError):
            return {}

    def store_trees(self, trees: Mapping[str, Mapping[str, bytes]]) -> None:
        """Keep the trees (level 1 compression: the pickles repeat their shared leaves' keys, and
        shrink forty-fold in a few ms); none: no file."""
        import pickle

        if not trees:
            remove_quietly(str(self.trees_file))
            return
        _store_pickled(self.trees_file, _trees_header(),
                       zlib.compress(pickle.dumps(dict(trees), protocol=pickle.HIGHEST_PROTOCOL), 1), keep=False)

    def load_model(self, bindings: str, states: Mapping[str, FileState]) -> Optional[Any]:
        """`edgelint model`'s routes (`store_model`), if they were made of files in these very
        `states` (by path as spelled) by this edgelint under this binding table."""
        return _load_pickled(self.model_file, (FORMAT, code_id(), bindings, self._contents(states)))

    def store_model(self, value: Any, bindings: str, states: Mapping[str, FileState]) -> None:
        _store_pickled(self.model_file, (FORMAT, code_id(), bindings, self._contents(states)), value)

    def _contents(self, states: Mapping[str, FileState]) -> str:
        return _sha(f"{self.absolute[path]}\0{state.digest}\0{state.error}" for path, state in sorted(states.items()))

    def _file_record(self, path: str) -> List[Any]:
        """[path, size, mtime] of a project file. One this run did not read from the disk (code from
        stdin) or could not stat is compared by content next time."""
        record = self.stats.record(path) if path in self.stats.taken else [path]
        return record if len(record) == 3 else [path, UNTRUSTED, UNTRUSTED]

    def _validate(self, entry: Dict[str, Any], known: Mapping[str, FileState], read: Callable[[str], FileState],
                  bindings: Callable[[], str]) -> Optional[Hit]:
        records = {record[0]: (record[:3], FileState(*record[3:])) for record in entry["files"]}
        refresh = not all(unchanged(record, self.stats.taken.get(record[0])) for record in entry["governing"])
        if refresh and bindings() != entry["bindings"]:
            return None
        self.recorded = {spelled: records[path][1] for spelled, path in self.absolute.items() if path in records}
        if records.keys() != self.spelled.keys():
            return None
        states: Dict[str, FileState] = {}
        dirty: List[str] = []
        for spelled, path in self.absolute.items():
            record, stored = records[path]
            if spelled in known:
                if not known[spelled].same_content(stored):
                    return None
                states[spelled] = known[spelled]._replace(skipped=stored.skipped)
            elif unchanged(record, self.stats.taken.get(path)):
                states[spelled] = stored
                self.unchanged.add(spelled)
            else:
                dirty.append(spelled)
        for spelled in dirty:  # touched, or too recent to trust: unchanged if the content is
            state, stored = read(spelled), records[self.absolute[spelled]][1]
            if not state.same_content(stored):
                return None
            states[spelled] = state._replace(skipped=stored.skipped)  # what the analysis found of the same content
            refresh = True
        findings = [_finding(self._spelled_paths(item)) for item in entry["findings"]]
        if refresh:
            self.store(findings, states, entry["bindings"])
        else:
            _mark_used(self.file)
        return Hit(findings, states)

    def _spelled_paths(self, item: Dict[str, Any]) -> Dict[str, Any]:
        return _with_paths(item, lambda path: self.spelled.get(path, path))


class Memo:
    """A value derived from files, directories and configuration, valid while none of the paths it
    was derived from (its witnesses) changes its stats. `key` names it (an absolute directory):
    it is looked for in the cache directories of the directory and its parents. `variant` tells
    apart values derived under different options (flake8's selection)."""

    def __init__(self, key: str, variant: str = ""):
        self.key = key
        self.variant = variant
        self.name = f"{MEMO_PREFIX}{_checksum(key + chr(0) + variant if variant else key)}.json"

    def load(self) -> Optional[Any]:
        """The value of the nearest valid memo, or None."""
        directory = self.key
        while True:
            value = self._load(os.path.join(directory, CACHE_DIR, self.name))
            if value is not None:
                return value
            parent = os.path.dirname(directory)
            if parent == directory:
                return None
            directory = parent

    def store(self, root: Path, value: Any, witnesses: Iterable[str], stats: Stats) -> None:
        """Record `value` in `root`'s cache (`root` is the key or one of its parents)."""
        records = [stats.record(path) for path in dict.fromkeys(witnesses)]
        _write(root / CACHE_DIR / self.name, {"format": FORMAT, "code": code_id(), "key": self.key,
                                              "variant": self.variant, "witnesses": records, "value": value})

    def _load(self, file: str) -> Optional[Any]:
        entry = _load(file)
        try:
            if entry is None or (entry["key"], entry["variant"]) != (self.key, self.variant):
                return None
            if not all(unchanged(record, stat_of(record[0])) for record in entry["witnesses"]):
                return None
        except (LookupError, TypeError, ValueError):
            return None
        _mark_used(file)
        return entry["value"]


class Pickled(LazyValues[str, Any]):
    """Values by key (a path), each pickled on its own inside the pickle that holds them: a run
    that needs a few (an incremental analysis: the modules it builds) unpickles only those. The
    values unpickled (or pickled) here are kept: a process asks for them again."""

    def __init__(self, blobs: Dict[str, bytes], values: Optional[Dict[str, Any]] = None):
        super().__init__(blobs, values)  # `_sources`: key -> its pickled value

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> "Pickled":
        import pickle

        return cls({key: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) for key, value in values.items()},
                   dict(values))

    @classmethod
    def reusing(cls, kept: Optional["Pickled"], keys: Iterable[str], unchanged: Callable[[str], bool],
                value_of: Callable[[str], Any]) -> "Pickled":
        """A blob per key: `kept`'s as it is where `unchanged(key)` (neither computed, unpickled nor
        pickled again), else `value_of(key)` pickled."""
        import pickle

        blobs, values = (kept._sources, kept._values) if kept is not None else ({}, {})
        reused: Dict[str, bytes] = {}
        known: Dict[str, Any] = {}
        for key in keys:
            if key in blobs and unchanged(key):
                reused[key] = blobs[key]
                if key in values:
                    known[key] = values[key]
            else:
                value = known[key] = value_of(key)
                reused[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(reused, known)

    def _compute(self, key: str) -> Any:
        import pickle

        return pickle.loads(self._sources[key])

    def __reduce__(self) -> Tuple[Any, ...]:
        return Pickled, (self._sources,)

    def respelled(self, spell: Callable[[str], str]) -> "Pickled":
        """The same values under the keys `spell` gives."""
        return Pickled({spell(key): blob for key, blob in self._sources.items()},
                       {spell(key): value for key, value in self._values.items()})

    def updated(self, values: Mapping[str, Any]) -> "Pickled":
        """These values with `values` added or replaced."""
        keys = [*self._sources, *(key for key in values if key not in self._sources)]
        return Pickled.reusing(self, keys, lambda key: key not in values, values.__getitem__)


def prune(directory: Path, keep: str = "") -> None:
    """Delete the records of `directory` not used for MAX_AGE_S and all but the MAX_ENTRIES most
    recently used entries and MAX_MEMOS memos (`keep`, just written, stays), and the temporary files
    of killed runs."""
    now = time.time()
    kinds: Dict[bool, List[Tuple[float, str]]] = {False: [], True: []}  # by "is a memo"
    pickled: Dict[str, List[Tuple[float, str]]] = {ANALYSIS_SUFFIX: [], MODEL_SUFFIX: [], TREES_SUFFIX: []}
    try:
        with os.scandir(directory) as scan:
            for item in scan:
                try:
                    used = item.stat().st_mtime
                except OSError:
                    continue  # deleted by a concurrent run
                if item.name.endswith(".tmp") and used < now - _STALE_TEMP_S:
                    remove_quietly(item.path)
                elif item.name.endswith(".json") and item.name != keep:
                    kinds[item.name.startswith(MEMO_PREFIX)].append((used, item.path))
                elif os.path.splitext(item.name)[1] in pickled and item.name != keep:
                    pickled[os.path.splitext(item.name)[1]].append((used, item.path))
    except OSError:
        return
    kept_entry = keep.endswith(".json")
    groups = [(records, (MAX_MEMOS if is_memo else MAX_ENTRIES) - (kept_entry and keep.startswith(MEMO_PREFIX) == is_memo))
              for is_memo, records in kinds.items()]
    groups.extend((records, MAX_ENTRIES - keep.endswith(suffix)) for suffix, records in pickled.items())
    for records, limit in groups:
        records.sort(reverse=True)
        for rank, (used, path) in enumerate(records):
            if rank >= limit or used < now - MAX_AGE_S:
                remove_quietly(path)


def remove_cache(root: Path) -> bool:
    """Delete `root/.edgelint_cache`; True when there was one."""
    directory = root / CACHE_DIR
    if not directory.is_dir():
        return False
    import shutil  # with tempfile, ~5 ms of start-up: imported by the runs that write

    shutil.rmtree(directory, ignore_errors=True)
    return True


# A long-running process (edgelint.daemon) keeps what it unpickled, by file and its stats: a file
# replaced since (edgelint writes by os.replace: a new inode) is read again. Users of these values
# never change them (an analysis leaves a new memory), so they can be handed out again.
_kept_values: Optional[Dict[str, Tuple[Tuple[int, int, int], Tuple[Any, ...], Any]]] = None
MAX_KEPT_VALUES = 4


def keep_loaded_values(keep: bool = True) -> None:
    global _kept_values
    _kept_values = {} if keep else None


def _file_identity(status: os.stat_result) -> Tuple[int, int, int]:
    return status.st_ino, status.st_size, status.st_mtime_ns


def _load_pickled(file: Path, header: Tuple[Any, ...], keep: bool = True) -> Optional[Any]:
    """The value stored with `header`; `keep`: a long-running process keeps it (`_kept_values`)."""
    import pickle

    try:
        with open(file, "rb") as handle:
            identity = _file_identity(os.fstat(handle.fileno()))
            kept = _kept_values.get(str(file)) if _kept_values is not None else None
            if kept is not None and kept[0] == identity:
                found, value = kept[1:]
            else:
                found, value = pickle.loads(handle.read())  # faster than pickle.load's reads
                if keep:
                    _keep(file, identity, found, value)
    except Exception:  # noqa: BLE001 - missing, corrupt or from another version: compute it again
        return None
    return value if found == header else None


def _unpickled(data: bytes) -> Dict[str, Dict[str, bytes]]:
    import pickle

    try:
        value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - corrupt: the functions are parsed again
        return {}
    shaped = isinstance(value, dict) and all(isinstance(trees, dict) for trees in value.values())
    return value if shaped else {}


def _trees_header() -> Tuple[Any, ...]:
    """What pickled libcst trees depend on: edgelint (its shared leaves' keys), libcst and Python."""
    import libcst

    return (FORMAT, code_id(), libcst.LIBCST_VERSION, sys.version_info[:2])


def _store_pickled(file: Path, header: Tuple[Any, ...], value: Any, keep: bool = True) -> None:
    import pickle

    _replace(file, lambda handle: pickle.dump((header, value), handle, protocol=pickle.HIGHEST_PROTOCOL), binary=True)
    if keep and _kept_values is not None:
        try:
            _keep(file, _file_identity(os.stat(file)), header, value)
        except OSError:
            pass


def _keep(file: Path, identity: Tuple[int, int, int], header: Tuple[Any, ...], value: Any) -> None:
    if _kept_values is None:
        return
    _kept_values.pop(str(file), None)
    _kept_values[str(file)] = (identity, header, value)
    while len(_kept_values) > MAX_KEPT_VALUES:
        del _kept_values[next(iter(_kept_values))]


def _load(file: Any) -> Optional[Dict[str, Any]]:
    try:
        with open(file, encoding="utf-8") as handle:
            entry = json.load(handle)
    except (OSError, ValueError):
        return None  # missing or corrupt: lint again
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("code") != code_id():
        return None  # written by another edgelint
    return entry


def _write(file: Path, entry: Dict[str, Any]) -> None:
    """Replace `file` at once: concurrent readers see the old entry or the new one."""
    # json.dumps, not json.dump: dump encodes in Python, piece by piece; dumps in C, at once (10x).
    _replace(file, lambda handle: handle.write(json.dumps(entry)), binary=False)


def _replace(file: Path, dump: Callable[[Any], None], binary: bool) -> None:
    import tempfile  # with shutil, ~5 ms of start-up: imported by the runs that write

    directory = file.parent
    try:
        _prepare(directory)
        handle = tempfile.NamedTemporaryFile("wb" if binary else "w", encoding=None if binary else "utf-8",
                                             dir=directory, suffix=".tmp", delete=False)
        try:
            with handle:
                dump(handle)
            os.replace(handle.name, file)
        except BaseException:
            remove_quietly(handle.name)
            raise
        prune(directory, keep=file.name)
    except OSError:
        return  # a read-only or full disk costs speed, not correctness


def _mark_used(file: Any) -> None:
    try:
        if os.stat(file).st_mtime < time.time() - _TOUCH_AFTER_S:
            os.utime(file)
    except OSError:
        pass


def stat_of(path: str) -> Stat:
    """(size, mtime_ns) of `path`; None when it cannot be stat'ed."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_size, status.st_mtime_ns


def _prepare(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(parents=True, exist_ok=True)
    # Keep the cache out of version control and backups, as ruff and pytest do.
    (directory / ".gitignore").write_text("# Created by edgelint.\n*\n", encoding="utf-8")
    (directory / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8")


def _with_paths(item: Dict[str, Any], convert: Callable[[str], str]) -> Dict[str, Any]:
    related = [dict(place, path=convert(place["path"])) for place in item["related"]]
    subjects = [[(convert(path), line, column) for path, line, column in chain] for chain in item["subjects"]]
    return dict(item, path=convert(item["path"]), related=related, subjects=subjects)


def _item(finding: Finding, convert: Callable[[str], str]) -> Dict[str, Any]:
    """A finding as stored (`dataclasses.asdict`'s shape), its paths passed through `convert`:
    absolute, so that any spelling of the same files finds it. Written out field by field: asdict
    copies every value recursively, a tenth of a second for a project's findings."""
    fix = finding.fix
    return {
        "code": finding.code, "message": finding.message, "path": convert(finding.path), "line": finding.line,
        "column": finding.column, "end_line": finding.end_line, "end_column": finding.end_column,
        "severity": finding.severity, "name": finding.name,
        "fix": None if fix is None else {"message": fix.message, "applicability": fix.applicability, "edits": [
            {"line": edit.line, "column": edit.column, "end_line": edit.end_line, "end_column": edit.end_column,
             "content": edit.content} for edit in fix.edits]},
        "related": [{"message": place.message, "path": convert(place.path), "line": place.line,
                     "column": place.column, "end_line": place.end_line, "end_column": place.end_column}
                    for place in finding.related],
        "context": finding.context,
        "subjects": [[[convert(path), line, column] for path, line, column in chain] for chain in finding.subjects],
        "supersedes": list(finding.supersedes),
    }


def _finding(item: Dict[str, Any]) -> Finding:
    from edgelint.findings import Edit, Finding, Fix, RelatedLocation

    fix = item["fix"]
    if fix is not None:
        fix = Fix(fix["message"], fix["applicability"], tuple(Edit(**edit) for edit in fix["edits"]))
    return Finding(**dict(item, fix=fix, related=tuple(RelatedLocation(**place) for place in item["related"]),
                          subjects=tuple(tuple(map(tuple, chain)) for chain in item["subjects"]),
                          supersedes=tuple(item["supersedes"])))


def _sha(parts: Iterable[str]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()[:40]


def _checksum(text: str) -> str:
    """A 64-bit checksum: names and stamps checked on the cheap path (hashlib alone costs a flake8
    run on one file 2 % more); what it names is verified, or edgelint's own code."""
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


@functools.lru_cache(maxsize=None)
def code_id() -> str:
    """edgelint's version and code stamp: the size and mtime of its own modules, so that a changed
    rule is not answered from the cache even before the version number moves (a development
    checkout). The rule set is part of the code."""
    package = os.path.dirname(os.path.abspath(__file__))
    stamps = [FORMAT, __version__]
    for directory, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(name for name in dirnames if name != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                status = os.stat(path)
                stamps.append(f"{os.path.relpath(path, package)}:{status.st_size}:{status.st_mtime_ns}")
    return _checksum("\n".join(stamps))
