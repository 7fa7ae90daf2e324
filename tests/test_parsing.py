"""edgelint.model.parsing: trees that share leaf nodes (whitespace, punctuation, names, literals)
are still exact trees of their text, never share a node that carries anything else, and leave
libcst as it was."""
from __future__ import annotations

import ast
import os

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgelint.model import parsing
from edgelint.model.parsing import parse_module
from edgelint.model.literals import literal_value
from edgelint.positions import PositionIndex
from tests.helpers import FIXTURES

SOURCE = '''\
import json  # the one import


async def on_fetch(request, env):
    # count the visit
    key = f"views:{request.url}"  # per page
    views = int(await env.VIEWS.get(key) or 0)
    await env.VIEWS.put(key, str(views + 1))
    return [views, (key,), {"a": 1}]  # done
'''


# hypothesmith compiles its programs to score them; Python's warnings about them are noise here.
pytestmark = [pytest.mark.filterwarnings("ignore::SyntaxWarning"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _nodes(tree: cst.CSTNode):
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def test_trees_give_back_their_exact_text_comments_included():
    commented = SOURCE.replace("# per page", "# per site").replace("# done", "# finished")
    assert parse_module(SOURCE).code == SOURCE
    assert parse_module(commented).code == commented  # a comment is never taken from a shared node


def test_leaf_nodes_are_shared_between_trees_and_nothing_else_is():
    first, second = parse_module(SOURCE), parse_module(SOURCE)
    first_nodes, second_nodes = list(_nodes(first)), list(_nodes(second))
    shared = {id(node) for node in first_nodes} & {id(node) for node in second_nodes}
    kinds = {type(node).__name__ for node in first_nodes if id(node) in shared}
    assert {"SimpleWhitespace", "Comma", "Newline", "Name", "SimpleString", "Integer"} <= kinds
    assert kinds <= set(parsing.SHARED_CLASSES)
    assert not any(type(node) is cst.Comment for node in first_nodes if id(node) in shared)
    assert all(parsing.is_shared(node) == (id(node) in shared) for node in first_nodes)


def test_a_shared_node_has_no_position_to_report():
    tree = parse_module(SOURCE)
    index = PositionIndex([(1, SOURCE.count("\n"), tree)], SOURCE)
    call = next(node for node in _nodes(tree) if isinstance(node, cst.Call))
    assert index.span(call)[0] > 1
    name = next(node for node in _nodes(tree) if isinstance(node, cst.Name))
    with pytest.raises(ValueError, match="shared Name"):
        index.span(name)


def test_long_texts_are_not_kept_for_sharing():
    docstring = '"""' + "x" * (parsing.MAX_SHARED_TEXT + 1) + '"""\n'
    first, second = parse_module(docstring), parse_module(docstring)
    assert first.body[0].body[0].value is not second.body[0].body[0].value
    short = '"""short"""\n'
    assert parse_module(short).body[0].body[0].value is parse_module(short).body[0].body[0].value


def test_libcst_is_left_as_it_was_even_when_parsing_fails():
    with pytest.raises(cst.ParserSyntaxError):
        parse_module("def broken(:\n")
    for name in parsing.SHARED_CLASSES:
        if hasattr(cst, name):
            assert isinstance(getattr(cst, name), type), name
    assert isinstance(cst.parse_module("x = 1\n").body[0].body[0].targets[0].target, cst.Name)


def test_the_fixture_projects_parse_back_to_their_text():
    for path in sorted(FIXTURES.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert parse_module(text).code == text, path


@settings(max_examples=int(os.environ.get("EDGELINT_FUZZ_EXAMPLES", "30")), deadline=None, derandomize=True,
          database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hypothesmith.from_grammar())
def test_generated_programs_parse_back_to_their_text(program):
    try:
        expected = cst.parse_module(program).code
    except Exception:  # noqa: BLE001 - what libcst itself refuses is out of scope here
        return
    assert parse_module(program).code == expected


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(), st.sampled_from(["", "r", "u", "R", "b", "rb"]), st.sampled_from(["'", '"', "'''", '"""']))
def test_string_literal_values_are_what_python_evaluates(content, prefix, quote):
    literal = prefix + quote + content + quote
    try:
        expected = ast.literal_eval(literal)
    except (SyntaxError, ValueError):
        return  # not a valid literal (a quote or newline inside, a non-ASCII byte string, ...)
    assert literal_value(cst.SimpleString(literal)) == expected


TRICKY_CALLS = '''\
@route(path("/x"))
async def handler(request, env, a=default(), *, b=other()):
    value = first() if test() else second(third())
    table = {key(): value(), other_key(): other_value()}
    merged = call(a=keyword(), *star())
    nested = outer(inner(deepest()))(then())
    items = [make(x) for x in source() if keep(x)]
    lazily = lambda: late()
    await env.KV.put(f"k:{name(request)}", str(count(await env.KV.get("k"))))
    return response(json.dumps({"ok": check(value)}), status=status())
'''


@pytest.mark.parametrize("source", [TRICKY_CALLS] + [path.read_text(encoding="utf-8")
                                                     for path in sorted((FIXTURES / "demo-worker").rglob("*.py"))],
                         ids=lambda source: source.split("\n", 1)[0][:30])
def test_call_spans_from_the_calls_libcst_built_are_where_libcst_says_they_are(source):
    """Spans come from `ast`, paired with libcst's calls in the order the parser built them (no
    walk of the tree) or, when that order disagrees, in source order: either way libcst's own
    PositionProvider must agree on every call."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    calls: list = []
    tree = parse_module(source, calls)
    index = PositionIndex([(1, source.count("\n") + 1, tree)], source, {1: calls})
    positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
    assert calls
    for call in calls:
        where = positions[call]
        assert index.span(call, 1) == (where.start.line, where.start.column, where.end.line, where.end.column)
