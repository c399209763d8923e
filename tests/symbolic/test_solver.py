"""Every z3 question goes through ``checker.engines.symbolic.solver``: a frame per question, and
``unknown`` is never a pass (never ``impossible``)."""

from __future__ import annotations

import z3

from checker.engines.symbolic.solver import ask, assuming, make_solver
from checker.engines.symbolic.values import Oracle


def _hard() -> list[z3.BoolRef]:
    x, y, z = z3.Ints("x y z")
    return [x > 0, y > 0, z > 0, x * x * x + y * y * y == z * z * z]


def test_answers_and_frames() -> None:
    s = make_solver(10_000_000)
    x = z3.Int("x")
    sat = ask(s, x > 1, model=True)
    assert sat.sat and sat.possible and not sat.impossible and sat.model is not None
    assert ask(s, x > 1, x < 0).impossible
    with assuming(s, x > 1):
        assert ask(s, x < 0).impossible
    assert ask(s, x < 0).sat and len(s.assertions()) == 0  # every frame popped


def test_unknown_is_possible_never_impossible() -> None:
    a = ask(make_solver(1), *_hard())
    assert a.unknown and a.reason and a.possible and not a.impossible and a.model is None
    oracle = Oracle(rlimit=1)
    assert oracle.feasible(z3.And(*_hard())) and oracle.unknown  # kept, and the reason recorded
