"""Symbolic integers and booleans that run unchanged spec code over z3 terms.

``SymInt``/``SymBool`` wrap z3 expressions and support the operators handlers and
properties use (``+ - * unary-``, comparisons, ``==``/``!=``, ``sum()``, hashing).
``SymBool.__bool__`` is a branch point: it asks the ``Oracle`` which side to take. The
oracle prunes sides that are infeasible under the current path condition (z3), asks its
``Chooser`` (checker/model/choices.py) when both sides are feasible, and records the side taken
in the path condition. Re-executing a handler under every choice sequence with
``all_paths`` therefore enumerates its feasible symbolic branches.

Only this package imports z3.
"""

from __future__ import annotations

from typing import Any

import z3

from checker.model.choices import Chooser
from checker.errors import InternalError
from checker.engines.symbolic.solver import ask
from checker.engines.symbolic.solver import make_solver as make_solver  # (re-exported: it used to live here)

DEFAULT_RLIMIT = 5_000_000


class Infeasible(BaseException):
    """The current execution path has an unsatisfiable path condition; drop it.

    A ``BaseException`` so that spec code catching ``Exception`` cannot swallow it.
    """


class Oracle:
    """Decides symbolic branches for one execution, extending a base path condition.

    ``begin(chooser, base)`` starts an execution; ``pc`` then collects the conditions
    taken. ``unknown`` keeps the reason of the last solver ``unknown`` (both sides were
    then kept, so nothing is lost; verdicts that depend on it become UNKNOWN).
    """

    def __init__(self, rlimit: int = DEFAULT_RLIMIT, timeout_ms: int | None = None) -> None:
        self.solver = make_solver(rlimit, timeout_ms)
        self.chooser: Chooser | None = None
        self.base: tuple[z3.BoolRef, ...] = ()
        self.pc: list[z3.BoolRef] = []
        self.unknown: str | None = None
        self.checks = 0

    def begin(self, chooser: Chooser | None, base: tuple[z3.BoolRef, ...]) -> None:
        self.chooser = chooser
        self.base = base
        self.pc = []

    def assume(self, cond: z3.BoolRef) -> None:
        """Add a constraint that is not a branch (e.g. a fresh amount is positive)."""
        self.pc.append(cond)

    def feasible(self, extra: z3.BoolRef) -> bool:
        """Is base ∧ pc ∧ extra satisfiable? ``unknown`` counts as feasible (its reason kept)."""
        self.checks += 1
        a = ask(self.solver, *self.base, *self.pc, extra)
        if a.unknown:
            self.unknown = a.reason
        return a.possible

    def decide(self, cond: z3.BoolRef) -> bool:
        c = z3.simplify(cond)
        if z3.is_true(c):
            return True
        if z3.is_false(c):
            return False
        yes = self.feasible(c)
        no = self.feasible(z3.Not(c))
        if yes and no:
            if self.chooser is None:
                raise InternalError("a symbolic branch outside an enumerated execution")
            take = self.chooser.pick("branch", 2) == 0
        elif yes or no:
            take = yes
        else:
            raise Infeasible()
        self.pc.append(c if take else z3.simplify(z3.Not(c)))
        return take


def _term(x: Any) -> z3.ArithRef:
    if isinstance(x, SymInt):
        return x.e
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"cannot mix a symbolic integer with {type(x).__name__}")
    return z3.IntVal(x)


def _sym(oracle: Oracle, e: z3.ArithRef) -> SymInt | int:
    e = z3.simplify(e)
    if z3.is_int_value(e):
        return int(e.as_long())
    return SymInt(oracle, e)


class SymInt:
    """A symbolic integer. Results that simplify to a numeral become plain ``int``."""

    __slots__ = ("oracle", "e", "_key")

    def __init__(self, oracle: Oracle, e: z3.ArithRef) -> None:
        self.oracle = oracle
        self.e = e
        self._key: str | None = None

    def sort_key(self) -> str:
        """A deterministic textual key (used to order symbolic data canonically)."""
        if self._key is None:
            self._key = self.e.sexpr()
        return self._key

    def __add__(self, o: Any) -> SymInt | int:
        return _sym(self.oracle, self.e + _term(o))

    def __radd__(self, o: Any) -> SymInt | int:
        return _sym(self.oracle, _term(o) + self.e)

    def __sub__(self, o: Any) -> SymInt | int:
        return _sym(self.oracle, self.e - _term(o))

    def __rsub__(self, o: Any) -> SymInt | int:
        return _sym(self.oracle, _term(o) - self.e)

    def __mul__(self, o: Any) -> SymInt | int:
        return _sym(self.oracle, self.e * _term(o))

    __rmul__ = __mul__

    def __neg__(self) -> SymInt | int:
        return _sym(self.oracle, -self.e)

    def __pos__(self) -> SymInt:
        return self

    def __lt__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, self.e < _term(o))

    def __le__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, self.e <= _term(o))

    def __gt__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, self.e > _term(o))

    def __ge__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, self.e >= _term(o))

    def __eq__(self, o: object) -> SymBool:  # type: ignore[override]
        if not isinstance(o, (int, SymInt)) or isinstance(o, bool):
            return SymBool(self.oracle, z3.BoolVal(False))
        return SymBool(self.oracle, self.e == _term(o))

    def __ne__(self, o: object) -> SymBool:  # type: ignore[override]
        if not isinstance(o, (int, SymInt)) or isinstance(o, bool):
            return SymBool(self.oracle, z3.BoolVal(True))
        return SymBool(self.oracle, self.e != _term(o))

    def __hash__(self) -> int:
        return int(self.e.hash())

    def __bool__(self) -> bool:
        return self.oracle.decide(self.e != 0)

    def __index__(self) -> int:
        raise TypeError(f"symbolic integer {self} used where a concrete int is needed (spec structure must stay concrete)")

    def __repr__(self) -> str:
        return str(self.e)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return str(self.e)


class SymBool:
    """A symbolic boolean; converting it to ``bool`` is a branch point of the oracle."""

    __slots__ = ("oracle", "e")

    def __init__(self, oracle: Oracle, e: z3.BoolRef) -> None:
        self.oracle = oracle
        self.e = e

    def __bool__(self) -> bool:
        return self.oracle.decide(self.e)

    def __invert__(self) -> SymBool:
        return SymBool(self.oracle, z3.Not(self.e))

    def __and__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, z3.And(self.e, to_z3_bool(o)))

    def __or__(self, o: Any) -> SymBool:
        return SymBool(self.oracle, z3.Or(self.e, to_z3_bool(o)))

    def __hash__(self) -> int:
        return int(self.e.hash())

    def __repr__(self) -> str:
        return str(self.e)


def to_z3_bool(x: Any) -> z3.BoolRef:
    """A property or guard result (``bool`` or ``SymBool``) as a z3 formula."""
    if isinstance(x, SymBool):
        return x.e
    if isinstance(x, bool):
        return z3.BoolVal(x)
    raise TypeError(f"expected a boolean, got {type(x).__name__}")
