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
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import z3

from checker import stop


class LimitReached(BaseException):
    """``--timeout`` or ``--max-memory`` reached inside a z3 engine (``str``: the limit).

    A ``BaseException`` so that no handler-level ``except Exception`` turns it into a
    spec error: it unwinds to the engine, which reports every undecided verdict UNKNOWN."""


class _Budget:
    """The limits of the run in progress (set by ``limits`` and ``share``): a deadline on
    the monotonic clock (with the text of the limit it stands for) and a peak-memory cap,
    checked by ``check_limits`` and before each solver call."""

    deadline: float | None = None
    label: str = ""
    max_memory_mb: int | None = None
    calls = 0


_budget = _Budget()


class _InCall:
    """The z3 context of the solver call in progress (``calling``), interrupted by a stop
    request. Only a call in progress: z3 keeps an interrupt that finds no call running
    until the next check, and meanwhile fails every push and model evaluation."""

    ctx: z3.Context | None = None

    def interrupt(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            ctx.interrupt()


_in_call = _InCall()
stop.interruptible(_in_call)  # a stop request ends the solver call in progress


@contextmanager
def calling(ctx: z3.Context) -> Iterator[None]:
    """Around a long z3 call (a check, a tactic) in ``ctx``: a stop request interrupts it.
    The stop is looked at after the call is marked, so a request either comes before (and
    ``LimitReached`` is raised here) or finds the call and interrupts it."""
    saved = _in_call.ctx
    _in_call.ctx = ctx
    try:
        check_limits()
        yield
    finally:
        _in_call.ctx = saved


@contextmanager
def _deadline(seconds: float | None, label: str, max_memory_mb: int | None) -> Iterator[None]:
    """Inside the block the deadline is ``seconds`` from now (``label`` names it) unless
    the enclosing one comes first; the memory cap is ``max_memory_mb`` if given."""
    saved = (_budget.deadline, _budget.label, _budget.max_memory_mb)
    if seconds is not None:
        end = time.monotonic() + seconds
        if _budget.deadline is None or end < _budget.deadline:
            _budget.deadline, _budget.label = end, label
    if max_memory_mb is not None:
        _budget.max_memory_mb = max_memory_mb
    try:
        yield
    finally:
        _budget.deadline, _budget.label, _budget.max_memory_mb = saved


def limits(timeout: float | None, max_memory_mb: int | None) -> AbstractContextManager[None]:
    """Every solver call and ``check_limits`` inside the block honour these limits (an
    enclosing ``limits`` block's deadline still applies when it comes first)."""
    return _deadline(timeout, f"timeout {timeout:g}s" if timeout is not None else "", max_memory_mb)


def share(seconds: float | None, label: str) -> AbstractContextManager[None]:
    """A part of the enclosing time limit: ``LimitReached(label)`` once ``seconds`` have
    passed (the enclosing deadline, when earlier, keeps its own label)."""
    return _deadline(seconds, label, None)


def time_left() -> float | None:
    """Seconds to the deadline in force (``None``: none)."""
    return None if _budget.deadline is None else max(0.0, _budget.deadline - time.monotonic())


def check_limits() -> None:
    """Raise ``LimitReached`` once a stop is requested (``checker.stop``: Ctrl-C, SIGTERM),
    the deadline has passed or peak memory exceeds the cap (memory is read every 64 calls)."""
    b = _budget
    reason = stop.requested()
    if reason is not None:
        raise LimitReached(reason)
    if b.deadline is not None and time.monotonic() >= b.deadline:
        raise LimitReached(b.label)
    if b.max_memory_mb is not None:
        b.calls += 1
        if b.calls % 64 == 0 and resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 >= b.max_memory_mb:
            raise LimitReached(f"max-memory {b.max_memory_mb} MB")


def bounded(solver: z3.Solver) -> None:
    """Before ``solver.check()``: ``check_limits``, and the solver may use at most the
    time that is left."""
    check_limits()
    stop.beat()  # a symbolic delivery that asks z3 is working, not stuck (the handler watchdog)
    if _budget.deadline is not None:
        solver.set("timeout", max(1, int((_budget.deadline - time.monotonic()) * 1000)))


def recover() -> None:
    """After a stop request interrupted z3: clear the context's cancel flag (z3 keeps it
    until the next check; model evaluation raises ``canceled`` meanwhile), so that the
    results found before the stop can still be turned into concrete traces."""
    stop.settle()
    z3.Solver().check()


def make_solver(rlimit: int, timeout_ms: int | None = None, logic: str | None = None) -> z3.Solver:
    """A solver with a deterministic work limit (``rlimit``) and an optional timeout;
    z3's own Ctrl-C handler off (it would swallow the signal: ``checker.stop`` interrupts)."""
    s = z3.SolverFor(logic) if logic else z3.Solver()
    s.set("rlimit", rlimit)
    s.set("ctrl_c", False)
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
    bounded(solver)
    with calling(solver.ctx):
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
