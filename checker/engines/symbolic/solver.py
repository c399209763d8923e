"""Asking z3, the one way: a solver frame per question, and an answer in which
``unknown`` is never a pass.

``ask(solver, *facts)`` asserts ``facts`` in a frame of ``solver`` (push, add, check,
pop, with the pop in ``finally``) and returns an ``Answer``: ``sat`` (with its model when
asked for), ``unsat``, or ``unknown`` (with z3's reason: an rlimit or a timeout). Only a
definite ``unsat`` rules anything out (``impossible``); an unknown answer counts as
``possible``: a branch is kept, an edge followed, a certificate or an induction step
rejected, a BMC depth left undecided. Callers keep the reason so that the verdicts that
depended on it are UNKNOWN with it. ``assuming(solver, *facts)`` holds facts for several
questions (a frame too).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import z3


class LimitReached(BaseException):
    """``--timeout`` or ``--max-memory`` reached inside a z3 engine (``str``: the limit).

    A ``BaseException`` so that no handler-level ``except Exception`` turns it into a
    spec error: it unwinds to the engine, which reports every undecided verdict UNKNOWN."""


class _Budget:
    """The limits of the run in progress (set by ``limits``): a deadline on the monotonic
    clock and a peak-memory cap, checked by ``check_limits`` and before each solver call."""

    deadline: float | None = None
    timeout: float | None = None
    max_memory_mb: int | None = None
    calls = 0


_budget = _Budget()


@contextmanager
def limits(timeout: float | None, max_memory_mb: int | None) -> Iterator[None]:
    """Every solver call and ``check_limits`` inside the block honour these limits."""
    saved = (_budget.deadline, _budget.timeout, _budget.max_memory_mb)
    _budget.deadline = time.monotonic() + timeout if timeout is not None else None
    _budget.timeout, _budget.max_memory_mb = timeout, max_memory_mb
    try:
        yield
    finally:
        _budget.deadline, _budget.timeout, _budget.max_memory_mb = saved


def check_limits() -> None:
    """Raise ``LimitReached`` once the deadline has passed or peak memory exceeds the cap
    (memory is read every 64 calls)."""
    b = _budget
    if b.deadline is not None and time.monotonic() >= b.deadline:
        raise LimitReached(f"timeout {b.timeout:g}s")
    if b.max_memory_mb is not None:
        b.calls += 1
        if b.calls % 64 == 0 and resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 >= b.max_memory_mb:
            raise LimitReached(f"max-memory {b.max_memory_mb} MB")


def make_solver(rlimit: int, timeout_ms: int | None = None, logic: str | None = None) -> z3.Solver:
    """A solver with a deterministic work limit (``rlimit``) and an optional timeout."""
    s = z3.SolverFor(logic) if logic else z3.Solver()
    s.set("rlimit", rlimit)
    if timeout_ms is not None:
        s.set("timeout", timeout_ms)
    return s


@dataclass(frozen=True)
class Answer:
    """z3's answer to one question (see the module docstring)."""

    result: z3.CheckSatResult
    model: z3.ModelRef | None = None
    reason: str = ""  # why z3 answered unknown

    @property
    def sat(self) -> bool:
        return bool(self.result == z3.sat)

    @property
    def unsat(self) -> bool:
        return bool(self.result == z3.unsat)

    @property
    def unknown(self) -> bool:
        return not self.sat and not self.unsat

    @property
    def impossible(self) -> bool:
        """The facts cannot hold together: only a definite ``unsat`` says so."""
        return self.unsat

    @property
    def possible(self) -> bool:
        """The facts may hold together: ``sat`` or ``unknown``."""
        return not self.unsat


def answer(solver: z3.Solver, model: bool = False) -> Answer:
    """``solver.check()`` on what it holds, as an ``Answer`` (no frame: for a solver used
    for one question, such as Spacer's)."""
    check_limits()
    if _budget.deadline is not None:  # the solver may use at most the time that is left
        solver.set("timeout", max(1, int((_budget.deadline - time.monotonic()) * 1000)))
    r = solver.check()
    if r == z3.sat:
        return Answer(r, solver.model() if model else None)
    if r == z3.unsat:
        return Answer(r)
    reason = solver.reason_unknown()
    check_limits()  # an answer cut short by the deadline is the limit, not a solver unknown
    return Answer(r, reason=reason)


def ask(solver: z3.Solver, *facts: z3.BoolRef, model: bool = False) -> Answer:
    """Whether ``facts`` hold together with what ``solver`` holds (in a frame)."""
    with assuming(solver, *facts):
        return answer(solver, model)


@contextmanager
def assuming(solver: z3.Solver, *facts: z3.BoolRef) -> Iterator[z3.Solver]:
    """``solver`` holding ``facts`` for the questions asked inside the block."""
    solver.push()
    try:
        solver.add(*facts)
        yield solver
    finally:
        solver.pop()
