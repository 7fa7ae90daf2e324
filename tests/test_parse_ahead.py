"""A process that parses ahead of a cold one-pass analysis (edgelint.parse_ahead) changes nothing
but the time: on every fixture project, the labeled examples and a generated single-module Worker,
with the size threshold lowered so that every project is parsed ahead, the findings (positions,
fixes and related places included) are those of a run without it; the trees taken from the other
process share their leaf nodes as parsed ones do; and a process that dies early is parsed around."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import List

import pytest

from edgelint import engine, parse_ahead
from edgelint.model import parsing
from tests.helpers import FIXTURE_PROJECTS, assert_same_as_parsed_here, findings_at

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from corpus import write_monolith  # noqa: E402 - the bench's generator of Workers projects

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the other process is forked")


@pytest.fixture
def taken(monkeypatch) -> List[int]:
    """Every project is parsed ahead (at -j2); the trees each run took from the other process."""
    monkeypatch.setattr(engine, "MIN_AHEAD_TEXT", 0)
    monkeypatch.setattr(engine, "MIN_SHARED_TEXT", 10 ** 9)  # one pass: shares would parse in workers
    counts: List[int] = []
    original = parse_ahead.ParsedAhead.close

    def close(ahead):
        counts.append(len(ahead.taken))
        original(ahead)

    monkeypatch.setattr(parse_ahead.ParsedAhead, "close", close)
    return counts


def test_parsing_ahead_reports_what_parsing_here_reports_on_every_fixture(taken):
    trees = 0
    for project in FIXTURE_PROJECTS:
        alone = findings_at(project, jobs=1)
        assert not taken  # -j1: no other process
        assert findings_at(project, jobs=2) == alone, project.name
        trees += sum(taken)
        taken.clear()
    assert trees > 0  # (about 40 here: the other process's head start decides how many)


def test_a_single_module_worker_takes_trees_parsed_ahead(taken, tmp_path, monkeypatch):
    write_monolith(tmp_path, routes=60)
    alone = findings_at(tmp_path, jobs=1)
    compared: List[str] = []
    take = parse_ahead.ParsedAhead.take

    def checked(ahead, text):
        found = take(ahead, text)
        if found is not None:
            assert_same_as_parsed_here(text, *found)
            compared.append(text)
        return found

    monkeypatch.setattr(parse_ahead.ParsedAhead, "take", checked)
    assert findings_at(tmp_path, jobs=2) == alone and len(alone) > 20
    assert taken == [len(compared)] and compared


def test_a_process_that_dies_before_sending_anything_is_parsed_around(taken, tmp_path, monkeypatch):
    write_monolith(tmp_path, routes=20)
    alone = findings_at(tmp_path, jobs=1)
    monkeypatch.setattr(parse_ahead, "_parse_and_send", lambda texts, fd: os._exit(1))
    assert findings_at(tmp_path, jobs=2) == alone
    assert taken == [0]


def test_a_tree_that_does_not_arrive_whole_is_parsed_here(taken, tmp_path, monkeypatch):
    """A frame cut short (the other process killed while writing it) is never read as a tree."""
    write_monolith(tmp_path, routes=20)
    alone = findings_at(tmp_path, jobs=1)

    def killed_while_writing(texts, fd):
        frame = parse_ahead._framed(len(texts) - 1, texts[-1])
        os.write(fd, frame[:len(frame) // 2])
        os._exit(0)

    monkeypatch.setattr(parse_ahead, "_parse_and_send", killed_while_writing)
    assert findings_at(tmp_path, jobs=2) == alone
    assert taken == [0]


@pytest.mark.parametrize("whole", [False, True])
def test_a_tree_is_read_from_whole_frames_only(whole):
    texts = ["def first():\n    return 1\n", "def last(env):\n    return env.KV.get('k')\n"]
    read_end, write_end = os.pipe()
    frame = parse_ahead._framed(1, texts[1])
    os.write(write_end, frame if whole else frame[:len(frame) // 2])
    os.close(write_end)
    os.set_blocking(read_end, False)
    ahead = parse_ahead.ParsedAhead(texts, pid=0, fd=read_end)  # no process: never closed
    assert ahead.take(texts[0]) is None  # not sent; the pipe is read to its end, and closed
    assert ahead.fd == -1 and list(ahead._arrived) == (texts[1:] if whole else [])
    found = ahead.take(texts[1])
    assert (found is not None) == whole
    if whole:
        assert_same_as_parsed_here(texts[1], *found)


def test_an_edit_to_a_helper_every_route_uses_is_parsed_ahead_too(taken, tmp_path, monkeypatch):
    """After an edit, the roots that read an edited module run again: the edited modules' functions
    that the tree store does not hold (here: none, it keeps nothing) are parsed ahead of them (the
    shortcut that replays the other roots)."""
    monkeypatch.setattr(engine, "MIN_STORED_TEXT", 10 ** 9)
    from edgelint.config import Resolver
    from edgelint.discovery import discover
    from edgelint.rules import KNOWN_CODES, RULE_OPTIONS

    def cached_findings() -> List[tuple]:
        resolver = Resolver(KNOWN_CODES, RULE_OPTIONS)
        result = engine.lint_files(discover([str(tmp_path)], resolver, []), resolver, tmp_path, jobs=2, use_cache=True)
        return [(f.path, f.line, f.column, f.code, f.message, f.related, f.fix) for f in result.findings]

    write_monolith(tmp_path, routes=60)
    cached_findings()
    worker = tmp_path / "src" / "worker.py"
    text = worker.read_text(encoding="utf-8")
    edited = re.sub(r'return f"\{self\.prefix\}[^{]*\{key\}"', 'return f"{self.prefix}v2:{key}"', text, count=1)
    assert edited != text
    worker.write_text(edited, encoding="utf-8")
    taken.clear()
    assert cached_findings() == findings_at(tmp_path, jobs=1)
    assert len(taken) == 1 and taken[0] > 0


def test_a_tree_whose_leaves_cannot_be_shared_here_is_parsed_here(monkeypatch):
    """Once this process shares no more nodes (`parsing.MAX_SHARED`), a tree sent with leaves it has
    not seen is not taken (one node at several places would break positions): it is parsed here."""
    name = f"never_seen_{os.getpid()}_{id(monkeypatch)}"
    texts = ["def first():\n    return 1\n", f"def {name}(env):\n    return env.KV.get('{name}')\n"]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the other process parses it: its new leaves are shared there only
        os.write(write_end, parse_ahead._framed(1, texts[1]))
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    os.set_blocking(read_end, False)
    monkeypatch.setattr(parsing, "MAX_SHARED", len(parsing._shared))
    ahead = parse_ahead.ParsedAhead(texts, pid=0, fd=read_end)
    assert ahead.take(texts[0]) is None and list(ahead._arrived) == texts[1:]
    assert ahead.take(texts[1]) is None and not ahead.taken
