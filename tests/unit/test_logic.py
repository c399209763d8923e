"""checker.model.logic: branch-free combinators agree with Python's own logic on plain values
and build the right formula on symbolic ones."""

from __future__ import annotations

from collections import Counter

import z3
from hypothesis import given
from hypothesis import strategies as st

from checker.model.logic import conj, disj, equal, same_multiset
from checker.engines.symbolic.values import Oracle, SymInt, to_z3_bool

keys = st.tuples(st.sampled_from(["u1", "u2"]), st.integers(-2, 2))


@given(st.lists(st.booleans(), max_size=6))
def test_conj_disj_are_all_any(bs: list[bool]) -> None:
    assert conj(bs) is all(bs) and disj(bs) is any(bs)


@given(st.lists(keys, max_size=5), st.lists(keys, max_size=5))
def test_same_multiset_is_counter_equality(a: list[tuple[str, int]], b: list[tuple[str, int]]) -> None:
    assert same_multiset(a, b) is (Counter(a) == Counter(b))


def test_equal_on_tuples_of_different_shape() -> None:
    assert equal(("u1", 1), ("u1", 1)) is True and equal(("u1", 1), ("u1",)) is False and equal(1, (1,)) is False


def _valid(f: z3.BoolRef) -> bool:
    s = z3.Solver()
    s.add(z3.Not(f))
    return bool(s.check() == z3.unsat)


def test_same_multiset_symbolic_is_a_matching() -> None:
    o = Oracle()
    x, y, a, b = z3.Ints("x y a b")
    sx, sy, sa, sb = (SymInt(o, v) for v in (x, y, a, b))
    f = to_z3_bool(same_multiset([("u1", sx), ("u1", sy)], [("u1", sa), ("u1", sb)]))
    assert _valid(f == z3.Or(z3.And(x == a, y == b), z3.And(x == b, y == a)))
    g = to_z3_bool(same_multiset([("u1", sx), ("u2", sy)], [("u2", sa), ("u1", sb)]))
    assert _valid(g == z3.And(x == b, y == a))  # plainly different users are never matched
    assert same_multiset([("u1", sx)], [("u2", sa)]) is False
