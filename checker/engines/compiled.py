"""The explorer's compiled core (``checker/engines/_core.c``) and its bridge to Python.

The core is the BFS successor loop of ``explore.py`` over native tables: the visited
states (the same packed bytes, ``checker.engines.packed``), the BFS tree, the memoised
outcomes of deliveries and initiatives, the symmetry renamings and the ghost's changes.
Where it meets something new (a delivery not run before, a state or message not yet
renamed, a new state to check) it asks the ``Bridge``, which answers from the very
objects the pure-Python loop uses (``Semantics``, ``Symmetry``, ``KeyCodec``, the
explorer's ``_check``), in the order that loop would ask them. So both loops number
states, messages, tails and representatives alike and store the same states in the same
order: verdicts, counts and traces are equal (``tests/unit/test_compiled_core.py``).

The core is built by ``pip install`` where a C compiler is present (an optional
extension: an install without one still works, on the pure-Python loop). It runs every
search over the unordered network (Python or Lua processes, ``--conform`` too);
``TIM3CHECK_CORE=python`` turns it off. ``core_unavailable`` says why it does not run.
"""

from __future__ import annotations

import importlib
import os
from array import array
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from checker.model.network import SerialBag
from checker.model.semantics import Key, Semantics, Step

if TYPE_CHECKING:
    from checker.engines.explore import _Explorer
    from checker.engines.symmetry import _Plan

def _load_core() -> Any:
    """The built extension, or ``None`` (no compiler at install time: the pure-Python loop)."""
    try:
        return importlib.import_module("checker.engines._core")
    except ImportError:
        return None


_core: Any = _load_core()

RANK_GAP = 1 << 32  # the space between two message ranks after a respacing
RANK_END = 1 << 62  # every rank lies strictly between -RANK_END and RANK_END
CORE_ENV = "TIM3CHECK_CORE"  # "python": never the compiled core
T = TypeVar("T")
CORE_ABI = 6  # the interface between this bridge and _core.c (its ABI constant): bumped on every change


def core_unavailable(sem: Semantics) -> str | None:
    """Why the compiled core cannot run this search (``None``: it can)."""
    if os.environ.get(CORE_ENV, "").strip().lower() == "python":
        return f"{CORE_ENV}=python"
    if _core is None:
        return "the compiled core is not built (no C compiler at install time)"
    if getattr(_core, "ABI", None) != CORE_ABI:
        return "the compiled core is older than this checkout (run `pip install -e .` again to rebuild it)"
    if not isinstance(sem.knet, SerialBag):
        return "the network is not the unordered bag"
    return None


class CoreUnsupported(Exception):
    """The search met something the core cannot hold (messages without a total order):
    ``explore`` runs the whole search again on the pure-Python loop."""


class IndexedBytes(Sequence[bytes]):
    """A read-only sequence of ``size()`` byte strings, item ``j`` being ``get(j)``."""

    def __init__(self, get: Callable[[int], bytes], size: Callable[[], int]) -> None:
        self._get, self._size = get, size

    def __len__(self) -> int:
        return self._size()

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i: int | slice) -> bytes | list[bytes]:
        n = self._size()
        if isinstance(i, slice):
            return [self._get(j) for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("index out of range")
        return self._get(i)

    def __iter__(self) -> Iterator[bytes]:
        get = self._get
        return (get(j) for j in range(self._size()))


class CoreStates(IndexedBytes):
    """The core's stored states (packed bytes), by index."""

    def __init__(self, core: Any) -> None:
        super().__init__(core.state, lambda: int(core.states))
        self.core = core

    def quiescent(self) -> Iterator[bytes]:
        """The states with no message in flight, in order (found in the core)."""
        state = self.core.state
        return (state(j) for j in int_table(self.core.quiescent()))


def indexed_states(indices: array[int], states: Sequence[bytes]) -> IndexedBytes:
    """``states[j]`` for each ``j`` of ``indices`` (the back edges' targets)."""
    return IndexedBytes(lambda k: states[indices[k]], lambda: len(indices))


def int_table(raw: bytes) -> array[int]:
    """An ``array("i")`` from the core's int32 table bytes."""
    out = array("i")
    out.frombytes(raw)
    return out


class Numbers(Generic[T]):
    """Values numbered 0, 1, ... in order of first sight (``key``: what tells two apart,
    the value itself by default); ``values[k]`` is value number ``k``."""

    def __init__(self, key: Callable[[T], Hashable] | None = None) -> None:
        self.values: list[T] = []
        self._no: dict[Hashable, int] = {}
        self._key = key

    def number(self, value: T) -> int:
        k = value if self._key is None else self._key(value)
        no = self._no.get(k)
        if no is None:
            no = self._no[k] = len(self.values)
            self.values.append(value)
        return no


class Ranks:
    """Numbers that order values as they compare (``<``), given one value at a time: each new
    value takes a number between its neighbours'; when there is none left between them,
    every value is numbered afresh ``RANK_GAP`` apart (``add`` says so). The bag orders
    messages this way (``SerialBag``), so the core compares two messages by their ranks."""

    def __init__(self) -> None:
        self.order: list[Any] = []  # the values, sorted
        self.ranks: list[int] = []  # their numbers, increasing
        self._at: dict[int, int] = {}  # id(value) -> its number (the values are kept alive in ``order``)

    def add(self, value: Any) -> bool:
        """Number ``value`` (not yet added); True when every number changed."""
        order, ranks = self.order, self.ranks
        pos = bisect_left(order, value)
        respaced = False
        if not ranks:
            r = 0
        elif pos == len(ranks):
            r = ranks[-1] + RANK_GAP
        elif pos == 0:
            r = ranks[0] - RANK_GAP
        else:
            if ranks[pos] - ranks[pos - 1] < 2:
                respaced = True
                ranks[:] = [i * RANK_GAP for i in range(len(ranks))]
                self._at = {id(v): n for v, n in zip(order, ranks)}
            r = (ranks[pos - 1] + ranks[pos]) // 2
        if not -RANK_END < r < RANK_END:  # a long run at one end: space them out again
            respaced = True
            ranks[:] = [i * RANK_GAP for i in range(len(ranks))]
            self._at = {id(v): n for v, n in zip(order, ranks)}
            r = ranks[-1] + RANK_GAP if pos == len(ranks) else ranks[0] - RANK_GAP
        order.insert(pos, value)
        ranks.insert(pos, r)
        self._at[id(value)] = r
        return respaced

    def rank(self, value: Any) -> int:
        """The number of an added value."""
        return self._at[id(value)]


class Bridge:
    """The core's callbacks (see ``_core.c``): numbers for the Python objects it cannot hold
    (steps, ghosts, ghost changes, symmetry plans) and the answers to its misses."""

    def __init__(self, explorer: _Explorer) -> None:
        self.explorer = explorer
        sem = self.sem = explorer.sem
        self.codec = explorer.codec
        self._ghosts: Numbers[Any] = Numbers()
        self.ghosts = self._ghosts.values  # ghost number -> ghost (the core reads this list)
        self._steps: Numbers[Step] = Numbers(id)  # steps are told apart by identity
        self.steps = self._steps.values  # step number -> step
        self._ops: Numbers[Any] = Numbers()  # the ghost's changes (what a step opens and closes)
        self.ranks = Ranks()  # every message so far, numbered in the bag's order
        canon = explorer.canon
        self.sym = canon.sym if canon is not None else None
        self.guard_obj = canon.guard if canon is not None else None
        self._plan_numbers: Numbers[_Plan] = Numbers(id)  # the symmetry plans (renamings) the core was given
        self._plans = self._plan_numbers.values
        self.stop_early = sem.config.limits.stop_at_first_violation
        self._tests: tuple[Any, ...] = ()  # the pending tests the core was last given
        limits = sem.config.limits
        members: list[int] = [i for g in self.sym.groups for i in g] if self.sym is not None else []
        injections = [(self.step(step), sends) for step, sends in sem._injections]
        self.core = _core.Core(
            self, sem.nprocs, sem.loss, bool(explorer.cycles), list(sem._initiators), injections, members,
            self.guard_obj.left if self.guard_obj is not None else 0,
            -1 if limits.max_depth is None else limits.max_depth,
            0 if limits.max_states is None else limits.max_states)

    # -- numbering -------------------------------------------------------------------

    def step(self, step: Step) -> int:
        return self._steps.number(step)

    def ghost(self, ghost: Any) -> int:
        return self._ghosts.number(ghost)

    def op(self, gops: Any) -> int:
        return self._ops.number(gops) if gops else -1

    def core_key(self, key: Key) -> Key:
        """``key`` as the core takes it: its ghost as a number."""
        n = self.sem.nprocs
        return key[: n + 1] + (self.ghost(key[n + 1]),) + key[n + 2 :]

    # -- the core's misses ------------------------------------------------------------

    def outcomes(self, idx: int, s: int, ms: int, fl: int) -> list[tuple[int, int, tuple[int, ...], int, int, bool]]:
        """The outcomes of delivering ``ms`` (-1: the initiatives) to process ``idx`` in state
        ``s``: from ``Semantics``' memo, computed there on a miss (as ``expand`` does); the
        last field says whether each transition of the step is to be ``noted``."""
        sem = self.sem
        outs = sem.outcomes(idx, s, ms, fl)
        findings, divergent = sem.findings, sem.divergent
        return [(self.step(step), a, sends, fl2, self.op(gops), id(step) in findings or id(step) in divergent)
                for step, a, sends, fl2, gops in outs]

    def noted(self, i: int, step_no: int) -> None:
        """A transition from state ``i`` by a step with findings or that is not a model step:
        the first of each is kept for its shortest trace (as the pure-Python loop does)."""
        self.explorer.note_step(i, self.steps[step_no])

    def ghost_after(self, g: int, op: int) -> int:
        return self.ghost(self.sem._ghost_after(self.ghosts[g], self._ops.values[op]))

    def tail(self, g: int, fl: int, inj: int) -> int:
        return self.codec.tail_number((self.ghosts[g], fl, inj))

    def messages(self, first: int) -> tuple[list[tuple[int, int, int, int]], list[int] | None]:
        """(target, unhandled step, lose step, rank) of each message from serial ``first`` on
        (``Ranks``); when the ranks were spaced out again, also every serial's rank."""
        sem = self.sem
        msgs = sem.messages.msgs
        respaced = False
        for m in msgs[first:]:
            try:  # the bag keeps messages in their order (``SerialBag``): the core needs all of them ordered
                respaced = self.ranks.add(m) or respaced
            except TypeError as e:
                raise CoreUnsupported(f"messages without a total order: {e}") from e
        rank = self.ranks.rank
        out = [(sem._dst[s], self.step(sem._plain[s][0]), self.step(sem._plain[s][1]), rank(msgs[s]))
               for s in range(first, len(msgs))]
        return out, ([rank(m) for m in msgs] if respaced else None)

    def plans(self, members: tuple[int, ...]) -> list[int] | None:
        assert self.sym is not None
        plans = self.sym.plans_of(members)
        if plans is None:
            return None
        return [self._plan_numbers.number(plan) for plan in plans]

    def plan(self, p: int) -> tuple[bool, list[int]]:
        plan = self._plans[p]
        return bool(plan.ren), list(plan.srcpos)

    def rename_state(self, p: int, t: int, s: int) -> int:
        assert self.sym is not None
        return self.sym.renamed_serial(self._plans[p], t, s)

    def rename_message(self, p: int, s: int) -> int:
        assert self.sym is not None
        return self.sym.renamed_message(s, self._plans[p])

    def rename_ghost(self, p: int, g: int) -> int:
        assert self.sym is not None
        return self.ghost(self.sym.renamed_ghost(self._plans[p], self.ghosts[g]))

    def ghost_rank(self, g: int) -> int:
        assert self.sym is not None
        return self.sym.ghost_rank(self.ghosts[g])

    def ghost_open(self, g: int) -> int:
        return int(any(self.ghosts[g]))

    def guard(self, key: Key) -> int:
        guard = self.guard_obj
        assert guard is not None
        if guard.left:
            guard.check(key)
        return guard.left

    def check(self, j: int, key: Key, hits: tuple[int, tuple[int, ...]]) -> bool:
        """The explorer's checks of new state ``j``, which the core could not judge from the
        memos (a miss, or a test fires); True: stop (at the first violation)."""
        self.told(hits)
        ex = self.explorer
        ex._check(j, key)
        return self.stop_early and bool(ex.violation)

    def told(self, hits: tuple[int, tuple[int, ...]]) -> None:
        """Count the core's memo hits (the pending memo's, each test's own) where the memos
        count theirs: they decide when a memo that mostly misses is switched off."""
        memo = self.explorer.pending_memo
        memo.hits += hits[0]
        for t, h in zip(self._tests, hits[1]):
            if h and t is not None and t.memo is not None:
                t.memo.hits += h

    def memo_root(self) -> tuple[Any, tuple[Any, ...]]:
        """What the core walks to judge a new state: the pending memo's trie (``None``:
        switched off, or empty) and each pending test as (at quiescence, its memo's trie or
        ``None``, the result it fires on, the ghost index of an obligations test or -1)."""
        memo = self.explorer.pending_memo
        self._tests = memo.tests
        tests = tuple(None if t is None else
                      (t.at_quiescence, None if t.memo is None or not t.memo.enabled else t.memo.root,
                       t.fires_on, t.ghost if t.memo is None else -1)
                      for t in memo.tests)
        return (memo.root if memo.enabled else None), tests

    def action_flags(self, action: str, first: int) -> list[bool]:
        """Whether each message from serial ``first`` on has Action ``action``
        (``semantics.action_serials``' table)."""
        sem = self.sem
        return [m.action == action for m in sem.msg_views[first:]]
