"""The property expression language: what parses, what is refused, how it evaluates."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from checker.manifest.errors import ObservableValueError
from checker.manifest.expr import (
    BUILTIN_NAMES,
    Call,
    Const,
    ExprSyntaxError,
    Name,
    check_types,
    evaluate,
    names_in,
    parse_expression,
    reserved_names,
    show,
)

OBS = ("supply", "positions", "locked", "flag", "label")


class Env:
    """A fixed state: observable values, builtins, and what the wallets received."""

    def __init__(self, values: Mapping[str, object], deltas: Mapping[str, int] | None = None) -> None:
        self.values = dict(values)
        self.deltas = dict(deltas or {})
        self.calls: list[tuple[str | None, ...]] = []

    def value(self, name: str) -> object:
        return self.values[name]

    def received(self, action: str, tag: str | None = None, value: str | None = None) -> int:
        self.calls.append(("received", action, str(tag), str(value)))
        return 2 if tag is None else 1

    def in_flight(self, action: str) -> int:
        return 3

    def in_flight_sum(self, action: str, tag: str, where: str | None = None, value: str | None = None) -> int | float:
        extra: tuple[str | None, ...] = (where, value) if where is not None else ()
        self.calls.append(("in_flight_sum", action, tag) + extra)
        return -1

    def delta(self, name: str) -> int | float:
        return self.deltas.get(name, 0)


STATE = {
    "supply": 3,
    "positions": {"user1": 1, "user2": 2},
    "locked": 3.0,
    "flag": True,
    "label": "x",
    "quiescent": False,
    "requests": 2,
    "unanswered": 0,
    "extra_answers": 0,
}


def ev(text: str, values: Mapping[str, object] = STATE, *, delta: bool = False) -> object:
    e = parse_expression(text, OBS, allow_delta=delta)
    check_types(e)
    return evaluate(e, Env(values, {"supply": 2}))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("supply == sum(positions)", True),
        ("supply <= locked", True),
        ("supply < locked", False),
        ("1 < 2 <= supply < 4", True),
        ("1 < 2 > supply", False),
        ("len(positions) * 2 - 1", 3),
        ("-supply + 4", 1),
        ("+supply", 3),
        ("abs(1 - supply)", 2),
        ("min(supply, 1, 2)", 1),
        ("max(supply, locked)", 3),
        ("not quiescent and flag", True),
        ("quiescent or supply == 3", True),
        ("not (supply != 3)", True),
        ("label == 'x'", True),
        ('label != "y"', True),
        ("'a' < 'b'", True),
        ("true", True),
        ("False", False),
        ("unanswered == 0 and extra_answers == 0", True),
        ("requests", 2),
        ("received('Done') + received('Done', 'Status', 'ok')", 3),
        ("in_flight('UpdatePosition')", 3),
        ("supply == sum(positions) + in_flight_sum('UpdatePosition', 'Amount') + 1", True),
        ("flag == 1", False),  # a boolean is not the number 1
    ],
)
def test_evaluates(text: str, value: object) -> None:
    assert ev(text) == value


def test_delta_in_response_expressions() -> None:
    assert ev("delta(supply)", delta=True) == 2
    assert ev("delta(locked) == 0", delta=True) is True


def test_functions_receive_their_literal_arguments() -> None:
    env = Env(STATE)
    evaluate(parse_expression("received('A', 'Status', 'ok') + in_flight_sum('U', 'Amount')", OBS), env)
    assert env.calls == [("received", "A", "Status", "ok"), ("in_flight_sum", "U", "Amount")]


def test_and_or_short_circuit() -> None:
    """The right side is not evaluated (an observable that is nil there would raise)."""
    values = dict(STATE, label=None)
    assert ev("flag or label > 1", values) is True
    assert ev("not flag and label > 1", values) is False


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("supply + label", "'label' is the string 'x', not a number"),
        ("supply < '3'", "not a number"),
        ("sum(supply) == 1", "supply is 3, not a table"),
        ("flag and supply > 0 and label", "label is the string 'x', not true/false"),
        ("sum(positions) < missing", "missing is nil, not a number"),
    ],
)
def test_runtime_type_errors(text: str, what: str) -> None:
    values = dict(STATE, missing=None)
    e = parse_expression(text, (*OBS, "missing"))
    with pytest.raises(ObservableValueError) as info:
        evaluate(e, Env(values))
    assert what.replace("'label'", "label") in str(info.value)


def test_numeric_string_gets_a_tonumber_hint() -> None:
    e = parse_expression("supply + 1", OBS)
    with pytest.raises(ObservableValueError, match=r"write tonumber\(\.\.\.\)"):
        evaluate(e, Env(dict(STATE, supply="3")))


def test_sum_over_lists_and_len_of_tables() -> None:
    assert ev("sum(positions)", dict(STATE, positions=[1, 2, 3])) == 6
    assert ev("len(positions)", dict(STATE, positions={})) == 0


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "the expression is empty"),
        ("supply ~= 1", "'~=' is not an operator here"),
        ("supply == 1 && flag", "'&&' is not an operator here"),
        ("supply == 1 || flag", "'||' is not an operator here"),
        ("supply = 1", "not a valid expression"),
        ("supply.x", "attribute access"),
        ("positions['u']", "indexing"),
        ("[1, 2]", "list literals"),
        ("(1, 2)", "tuples"),
        ("{1: 2}", "dict literals"),
        ("{1}", "set literals"),
        ("1 if flag else 2", "conditional expressions"),
        ("[x for x in positions]", "comprehensions"),
        ("(x := 1)", "assignment"),
        ("f'{supply}'", "f-strings"),
        ("supply / 2", "the operator '/' is not allowed"),
        ("supply // 2", "the operator '//' is not allowed"),
        ("supply % 2", "the operator '%' is not allowed"),
        ("supply ** 2", "the operator '**' is not allowed"),
        ("~supply", "the operator '~' is not allowed"),
        ("supply is None", "the comparison 'is' is not allowed"),
        ("supply in positions", "the comparison 'in' is not allowed"),
        ("None", "the literal None is not allowed"),
        ("b'x' == supply", "the literal b'x' is not allowed"),
        ("supplie", "unknown name 'supplie'"),
        ("sum", "'sum' is a function"),
        ("exec('1')", "unknown function 'exec'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("supply.__class__", "attribute access"),
        ("sum(x=1)", "takes no keyword arguments"),
        ("sum()", "sum() takes 1 argument, got 0"),
        ("min()", "min() takes one or more arguments"),
        ("received('A', 'B')", "received() takes 1 or 3 arguments, got 2"),
        ("in_flight(supply)", "in_flight() takes string literals"),
        ("delta(supply)", "delta() is only meaningful"),
        ("'a' + 1", "'+' needs numbers"),
        ("not 3", "'not' cannot apply to 3"),
        ("-flag == 1 or -true", "'-' cannot apply to true"),
        ("1 or flag", "'or' needs true/false operands, not 1"),
    ],
)
def test_refused(text: str, what: str) -> None:
    with pytest.raises(ExprSyntaxError) as info:
        check_types(parse_expression(text, OBS))
    assert what in info.value.what, info.value.what
    assert info.value.fix


def test_delta_needs_an_observable_name_even_in_responses() -> None:
    with pytest.raises(ExprSyntaxError, match="takes the name of an observable"):
        parse_expression("delta(requests)", OBS, allow_delta=True)


def test_tree_helpers() -> None:
    e = parse_expression("sum(positions) + 1 == supply and not quiescent", OBS)
    assert names_in(e) == {"positions", "supply", "quiescent"}
    assert show(e) == "((sum(positions) + 1) == supply and not quiescent)"
    assert parse_expression("true", OBS) == Const(True)
    assert parse_expression("delta(supply)", OBS, allow_delta=True) == Call("delta", (Name("supply"),))
    assert {n for n, _ in BUILTIN_NAMES} <= reserved_names() and "sum" in reserved_names()
