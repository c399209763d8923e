"""The property expression language: a tiny, safe subset of Python expressions.

Allowed: observable names, the builtin names (``BUILTIN_NAMES``), integer/float/string
literals, ``true``/``false``, ``+ - *`` and unary minus, comparisons (``== != < <= > >=``,
chains too), ``and or not``, parentheses, and calls of the functions in ``FUNCTIONS``.
Anything else (attributes, subscripts, lambdas, comprehensions, ``/``) is rejected by
``parse_expression`` with an ``ExprSyntaxError`` saying what to write instead.

``parse_expression`` returns a frozen tree (``Expr``); ``evaluate(expr, env)`` computes it
against an ``ExprEnv`` (the engine's view of one state or step). Evaluation is strict:
arithmetic and ordering need numbers, ``and``/``or``/``not`` need booleans; anything else
raises ``ObservableValueError`` naming the sub-expression.
"""

from __future__ import annotations

import ast
import difflib
import keyword
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol, TypeVar, Union

from checker.manifest.errors import ObservableValueError

# name -> meaning (shown in docs and errors)
BUILTIN_NAMES: tuple[tuple[str, str], ...] = (
    ("quiescent", "true when no message is in flight and every wallet is done or waiting"),
    ("requests", "operations the wallets have sent so far"),
    ("unanswered", "operations sent that have no answer yet"),
    ("extra_answers", "answers beyond the first, summed over all operations"),
)
# name -> (allowed argument counts (empty: one or more), argument kinds, meaning)
FUNCTIONS: tuple[tuple[str, tuple[int, ...], str, str], ...] = (
    ("sum", (1,), "value", "sum of the values of a table (or list) of numbers"),
    ("len", (1,), "value", "number of entries of a table or list"),
    ("abs", (1,), "value", "absolute value"),
    ("min", (), "value", "smallest argument"),
    ("max", (), "value", "largest argument"),
    ("received", (1, 3), "str", "messages the wallets received with this Action (and this tag value)"),
    ("in_flight", (1,), "str", "messages with this Action in flight"),
    ("in_flight_sum", (2, 4), "str", "sum of one tag's numeric values over in-flight messages with an Action "
     "(and a second tag equal to a value: in_flight_sum('Mint-Response', 'Amount', 'Status', 'success'))"),
    ("delta", (1,), "observable", "(response properties only) change of an observable in this step"),
)
_FUNCTION_NAMES = tuple(f[0] for f in FUNCTIONS)
_LITERAL_NAMES: Mapping[str, bool] = MappingProxyType({"true": True, "false": False, "True": True, "False": False})
_ALLOWED = (
    "observable names, numbers, 'strings', true/false, + - *, comparisons "
    "(== != < <= > >=), and/or/not, parentheses and the functions " + ", ".join(f"{f[0]}()" for f in FUNCTIONS)
)
Scalar = Union[int, float, bool, str]
T = TypeVar("T", str, float)


@dataclass(frozen=True, slots=True)
class Const:
    value: Scalar


@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "not"
    operand: Expr


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "+", "-", "*"
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare:
    ops: tuple[str, ...]
    operands: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # "and" or "or"
    values: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Expr, ...]


Expr = Union[Const, Name, Unary, Binary, Compare, BoolOp, Call]


class ExprSyntaxError(Exception):
    """An expression the language does not allow: ``what`` is wrong, ``fix`` says what to write."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what}; {fix}")
        self.what = what
        self.fix = fix


class ExprEnv(Protocol):
    """What an expression reads of one state (or, for ``delta``, one step)."""

    def value(self, name: str) -> object:
        """The value of an observable or a builtin name."""

    def received(self, action: str, tag: str | None = None, value: str | None = None) -> int:
        """Messages the wallets received with ``action`` (and, if given, ``tag`` = ``value``)."""

    def in_flight(self, action: str) -> int: ...

    def in_flight_sum(self, action: str, tag: str, where: str | None = None, value: str | None = None) -> int | float: ...

    def delta(self, name: str) -> int | float: ...


_BINOPS: tuple[tuple[type[ast.operator], str], ...] = ((ast.Add, "+"), (ast.Sub, "-"), (ast.Mult, "*"))
_CMPOPS: tuple[tuple[type[ast.cmpop], str], ...] = (
    (ast.Eq, "=="),
    (ast.NotEq, "!="),
    (ast.Lt, "<"),
    (ast.LtE, "<="),
    (ast.Gt, ">"),
    (ast.GtE, ">="),
)
_REJECTED: tuple[tuple[type[ast.AST], str], ...] = (
    (ast.Attribute, "attribute access (x.y)"),
    (ast.Subscript, "indexing (x[k])"),
    (ast.Lambda, "lambda"),
    (ast.IfExp, "conditional expressions (a if c else b)"),
    (ast.ListComp, "comprehensions"),
    (ast.GeneratorExp, "comprehensions"),
    (ast.SetComp, "comprehensions"),
    (ast.DictComp, "comprehensions"),
    (ast.List, "list literals"),
    (ast.Tuple, "tuples"),
    (ast.Dict, "dict literals"),
    (ast.Set, "set literals"),
    (ast.NamedExpr, "assignment (:=)"),
    (ast.JoinedStr, "f-strings"),
    (ast.Await, "await"),
    (ast.Starred, "*args"),
)


def parse_expression(text: str, names: Collection[str], *, allow_delta: bool = False) -> Expr:
    """Parse ``text``; ``names`` are the observable names it may use (besides the builtins).

    Raises ``ExprSyntaxError`` for anything outside the language, an unknown name or
    function, a wrong number or kind of arguments, or ``delta`` where it is not allowed.
    """
    stripped = text.strip()
    if not stripped:
        raise ExprSyntaxError("the expression is empty", f"write an expression using {_ALLOWED}")
    for lua, py in (("~=", "!="), ("&&", "and"), ("||", "or")):
        if lua in stripped:
            raise ExprSyntaxError(f"'{lua}' is not an operator here", f"write '{py}'")
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as e:
        hint = "use '==' to compare" if _single_equals(stripped) else f"the language allows {_ALLOWED}"
        raise ExprSyntaxError(f"not a valid expression ({e.msg} at column {e.offset})", hint) from None
    return _Parser(frozenset(names), allow_delta).expr(tree.body)


def _single_equals(text: str) -> bool:
    return any(
        c == "=" and (i == 0 or text[i - 1] not in "=!<>") and (i + 1 >= len(text) or text[i + 1] != "=")
        for i, c in enumerate(text)
    )


class _Parser:
    def __init__(self, observables: frozenset[str], allow_delta: bool) -> None:
        self.observables = observables
        self.allow_delta = allow_delta
        self.builtins = frozenset(n for n, _ in BUILTIN_NAMES)

    def expr(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, (bool, int, float, str)):
                return Const(v)
            raise ExprSyntaxError(f"the literal {v!r} is not allowed", "use numbers, 'strings', true or false")
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return Unary("-", self.expr(node.operand))
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                return Unary("not", self.expr(node.operand))
            raise ExprSyntaxError("the operator '~' is not allowed", f"the language allows {_ALLOWED}")
        if isinstance(node, ast.BinOp):
            for cls, sym in _BINOPS:
                if isinstance(node.op, cls):
                    return Binary(sym, self.expr(node.left), self.expr(node.right))
            op = _op_text(node.op)
            raise ExprSyntaxError(
                f"the operator '{op}' is not allowed",
                "only + - * are (compute divisions or remainders in the observable's Lua)",
            )
        if isinstance(node, ast.Compare):
            ops: list[str] = []
            for o in node.ops:
                cmp = next((s for c, s in _CMPOPS if isinstance(o, c)), None)
                if cmp is None:
                    raise ExprSyntaxError(
                        f"the comparison '{_op_text(o)}' is not allowed", "compare with == != < <= > >="
                    )
                ops.append(cmp)
            return Compare(tuple(ops), tuple(self.expr(e) for e in [node.left, *node.comparators]))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return BoolOp(op, tuple(self.expr(v) for v in node.values))
        if isinstance(node, ast.Call):
            return self.call(node)
        for rejected, what in _REJECTED:
            if isinstance(node, rejected):
                raise ExprSyntaxError(
                    f"{what} is not allowed in a property expression",
                    f"compute it in an observable's Lua instead; the language allows {_ALLOWED}",
                )
        raise ExprSyntaxError(
            f"'{ast.unparse(node)}' is not allowed in a property expression", f"the language allows {_ALLOWED}"
        )

    def name(self, ident: str) -> Expr:
        if ident in _LITERAL_NAMES:
            return Const(_LITERAL_NAMES[ident])
        if ident in self.observables or ident in self.builtins:
            return Name(ident)
        if ident in _FUNCTION_NAMES:
            raise ExprSyntaxError(f"'{ident}' is a function", f"call it: {ident}(...)")
        known = sorted(self.observables | self.builtins)
        close = difflib.get_close_matches(ident, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "declare it under [observables]"
        return _raise(f"unknown name '{ident}' (not an observable or builtin)", hint)

    def call(self, node: ast.Call) -> Expr:
        if not isinstance(node.func, ast.Name):
            raise ExprSyntaxError(
                f"only named functions can be called, not {ast.unparse(node.func)}",
                "call one of " + ", ".join(_FUNCTION_NAMES),
            )
        fname = node.func.id
        spec = next((f for f in FUNCTIONS if f[0] == fname), None)
        if spec is None:
            close = difflib.get_close_matches(fname, _FUNCTION_NAMES, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else "call one of " + ", ".join(_FUNCTION_NAMES)
            raise ExprSyntaxError(f"unknown function '{fname}'", hint)
        if node.keywords:
            raise ExprSyntaxError(f"{fname}() takes no keyword arguments", "pass arguments by position")
        _, arities, kind, _ = spec
        n = len(node.args)
        if (arities and n not in arities) or (not arities and n < 1):
            counts = " or ".join(str(a) for a in arities)
            want = f"{counts} argument{'s' if arities != (1,) else ''}" if arities else "one or more arguments"
            raise ExprSyntaxError(f"{fname}() takes {want}, got {n}", f"write {_example(fname)}")
        if fname == "delta" and not self.allow_delta:
            raise ExprSyntaxError(
                "delta() is only meaningful in a response property's trigger or discharge",
                'use kind = "response" or compare the observable itself',
            )
        if kind == "str":
            args: list[Expr] = []
            for a in node.args:
                if not (isinstance(a, ast.Constant) and isinstance(a.value, str)):
                    raise ExprSyntaxError(
                        f"{fname}() takes string literals (Action or tag names)", f"write {_example(fname)}"
                    )
                args.append(Const(a.value))
            return Call(fname, tuple(args))
        if kind == "observable":
            a = node.args[0]
            if not (isinstance(a, ast.Name) and a.id in self.observables):
                raise ExprSyntaxError("delta() takes the name of an observable", f"write {_example(fname)}")
            return Call(fname, (Name(a.id),))
        return Call(fname, tuple(self.expr(a) for a in node.args))


def _raise(what: str, fix: str) -> Expr:
    raise ExprSyntaxError(what, fix)


def _op_text(op: ast.AST) -> str:
    table = {
        ast.Div: "/",
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.Pow: "**",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.BitAnd: "&",
        ast.MatMult: "@",
        ast.Is: "is",
        ast.IsNot: "is not",
        ast.In: "in",
        ast.NotIn: "not in",
    }
    return next((s for cls, s in table.items() if isinstance(op, cls)), type(op).__name__)


def _example(fname: str) -> str:
    return {
        "sum": "sum(positions)",
        "len": "len(requests_open)",
        "abs": "abs(x - y)",
        "min": "min(x, y)",
        "max": "max(x, y)",
        "received": "received('MintTIM3-Response') or received('MintTIM3-Response', 'Status', 'success')",
        "in_flight": "in_flight('UpdatePosition')",
        "in_flight_sum": "in_flight_sum('UpdatePosition', 'Amount')",
        "delta": "delta(supply)",
    }[fname]


def is_identifier(name: str) -> bool:
    """True for a name an expression can use (letters, digits, ``_``; not a keyword)."""
    return name.isidentifier() and not keyword.iskeyword(name) and name.isascii()


def reserved_names() -> frozenset[str]:
    """Names an observable may not take (builtins, functions, true/false)."""
    return frozenset(n for n, _ in BUILTIN_NAMES) | frozenset(_FUNCTION_NAMES) | frozenset(_LITERAL_NAMES)


def static_kind(expr: Expr) -> str:
    """``"bool"``, ``"number"``, ``"string"`` or ``"any"`` (observables: known only at run time)."""
    if isinstance(expr, Const):
        v = expr.value
        return "bool" if isinstance(v, bool) else "string" if isinstance(v, str) else "number"
    if isinstance(expr, Name):
        return "bool" if expr.id == "quiescent" else "any" if expr.id not in dict(BUILTIN_NAMES) else "number"
    if isinstance(expr, Unary):
        return "bool" if expr.op == "not" else "number"
    if isinstance(expr, Binary):
        return "number"
    if isinstance(expr, (Compare, BoolOp)):
        return "bool"
    return "number"


def check_types(expr: Expr) -> None:
    """Reject operands whose static kind cannot work (``1 and x``, ``'a' + 1``, ``not 3``)."""
    if isinstance(expr, Unary):
        check_types(expr.operand)
        k = static_kind(expr.operand)
        bad = ("number", "string") if expr.op == "not" else ("bool", "string")
        if k in bad:
            raise ExprSyntaxError(f"'{expr.op}' cannot apply to {show(expr.operand)}", "check the operand")
    elif isinstance(expr, Binary):
        for side in (expr.left, expr.right):
            check_types(side)
            if static_kind(side) in ("bool", "string"):
                raise ExprSyntaxError(f"'{expr.op}' needs numbers, not {show(side)}", "use numbers on both sides")
    elif isinstance(expr, BoolOp):
        for v in expr.values:
            check_types(v)
            if static_kind(v) in ("number", "string"):
                raise ExprSyntaxError(
                    f"'{expr.op}' needs true/false operands, not {show(v)}", f"compare it: {show(v)} != 0"
                )
    elif isinstance(expr, Compare):
        for v in expr.operands:
            check_types(v)
    elif isinstance(expr, Call):
        for v in expr.args:
            check_types(v)


def names_in(expr: Expr) -> frozenset[str]:
    """Every observable or builtin name the expression reads (``delta`` arguments included)."""
    if isinstance(expr, Name):
        return frozenset((expr.id,))
    if isinstance(expr, Unary):
        return names_in(expr.operand)
    if isinstance(expr, Binary):
        return names_in(expr.left) | names_in(expr.right)
    if isinstance(expr, (Compare, BoolOp, Call)):
        parts = expr.operands if isinstance(expr, Compare) else expr.values if isinstance(expr, BoolOp) else expr.args
        out: frozenset[str] = frozenset()
        for p in parts:
            out |= names_in(p)
        return out
    return frozenset()


def show(expr: Expr) -> str:
    """The expression as text (for reports and errors)."""
    if isinstance(expr, Const):
        v = expr.value
        return ("true" if v else "false") if isinstance(v, bool) else repr(v)
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Unary):
        return f"not {show(expr.operand)}" if expr.op == "not" else f"-{show(expr.operand)}"
    if isinstance(expr, Binary):
        return f"({show(expr.left)} {expr.op} {show(expr.right)})"
    if isinstance(expr, Compare):
        out = show(expr.operands[0])
        for op, e in zip(expr.ops, expr.operands[1:]):
            out += f" {op} {show(e)}"
        return out
    if isinstance(expr, BoolOp):
        return "(" + f" {expr.op} ".join(show(v) for v in expr.values) + ")"
    return f"{expr.func}(" + ", ".join(show(a) for a in expr.args) + ")"


# ------------------------------------------------------------------ evaluation


def evaluate(expr: Expr, env: ExprEnv) -> object:
    """The value of ``expr`` in ``env``; ``ObservableValueError`` if an operand has the wrong type."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Name):
        return env.value(expr.id)
    if isinstance(expr, Unary):
        v = evaluate(expr.operand, env)
        if expr.op == "not":
            return not _bool(v, expr.operand)
        return -_number(v, expr.operand)
    if isinstance(expr, Binary):
        a = _number(evaluate(expr.left, env), expr.left)
        b = _number(evaluate(expr.right, env), expr.right)
        return a + b if expr.op == "+" else a - b if expr.op == "-" else a * b
    if isinstance(expr, Compare):
        left = evaluate(expr.operands[0], env)
        for op, node in zip(expr.ops, expr.operands[1:]):
            right = evaluate(node, env)
            if not _compare(op, left, right, expr):
                return False
            left = right
        return True
    if isinstance(expr, BoolOp):
        if expr.op == "and":
            return all(_bool(evaluate(v, env), v) for v in expr.values)
        return any(_bool(evaluate(v, env), v) for v in expr.values)
    return _call(expr, env)


def _call(expr: Call, env: ExprEnv) -> object:
    f = expr.func
    if f in ("received", "in_flight", "in_flight_sum"):
        strs = [a.value for a in expr.args if isinstance(a, Const) and isinstance(a.value, str)]
        if f == "received":
            return env.received(strs[0], *strs[1:3]) if len(strs) == 3 else env.received(strs[0])
        if f == "in_flight":
            return env.in_flight(strs[0])
        return env.in_flight_sum(strs[0], strs[1], *strs[2:4]) if len(strs) == 4 else env.in_flight_sum(strs[0], strs[1])
    if f == "delta":
        arg = expr.args[0]
        assert isinstance(arg, Name)
        return env.delta(arg.id)
    values = [evaluate(a, env) for a in expr.args]
    if f in ("sum", "len"):
        items = _items(values[0], expr.args[0])
        if f == "len":
            return len(items)
        return sum((_number(v, expr) for v in items), 0)
    if f == "abs":
        return abs(_number(values[0], expr.args[0]))
    nums = [_number(v, a) for v, a in zip(values, expr.args)]
    return min(nums) if f == "min" else max(nums)


def _items(value: object, node: Expr) -> list[object]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, (list, tuple, frozenset, set)):
        return list(value)
    raise ObservableValueError(
        f"{show(node)} is {_describe(value)}, not a table; sum() and len() take a table observable"
    )


def _number(value: object, node: Expr) -> int | float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    extra = " (Lua keeps it as a string: write tonumber(...) in the observable's lua)" if _numeric_str(value) else ""
    raise ObservableValueError(f"{show(node)} is {_describe(value)}, not a number{extra}")


def _bool(value: object, node: Expr) -> bool:
    if isinstance(value, bool):
        return value
    raise ObservableValueError(f"{show(node)} is {_describe(value)}, not true/false; compare it (x != 0)")


def _compare(op: str, a: object, b: object, node: Expr) -> bool:
    if op == "==":
        return _same(a, b)
    if op == "!=":
        return not _same(a, b)
    if isinstance(a, str) and isinstance(b, str):
        return _order(op, a, b)
    return _order(op, _number(a, node), _number(b, node))


def _order(op: str, x: T, y: T) -> bool:
    if op == "<":
        return bool(x < y)
    if op == "<=":
        return bool(x <= y)
    if op == ">":
        return bool(x > y)
    return bool(x >= y)


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _numeric_str(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def _describe(value: object) -> str:
    if value is None:
        return "nil"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Mapping, Sequence, set, frozenset)):
        return "a table"
    return repr(value)
