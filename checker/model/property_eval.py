"""How a property is judged on one world: the single definition every engine shares.

What a property's kind means is ``checker.model.expectation.expectation``; here its form is
judged on a world:

* ``INVARIANT``: violated where ``check(view)`` is false (``quiescent_only``: where the
  world is quiescent, nothing in flight, and ``check(view)`` is false);
* ``OBLIGATIONS``: violated where the world is quiescent and the property still has open
  obligations (``world.ghost`` at its index in ``sem.response_props``);
* ``REACHABLE``: never "violated" at a world; ``goals_met`` says which of its required
  goals a world witnesses;
* ``CONFORMANCE`` and ``FINDING``: judged on steps, never at a world.

A property whose check raises ``AttributeError``/``KeyError``/``TypeError`` is a broken
spec: ``SpecError`` naming the spec file and the property.

``Judge`` is the explorer's form of the same definitions over compact world keys: it
memoises each check (``CheckMemo``), relying on the spec contract that a check is a
pure function of what it reads through its ``View``; ``PendingMemo`` memoises all the
tests still pending for a state in one trie (one walk per state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from checker.errors import InternalError, SpecError, UserError
from checker.model.expectation import Expectation, Form, expectation
from checker.model.semantics import Key, KeyView, Semantics, World, action_serials
from checker.model.spec import Property, View


def check_holds(sem: Semantics, prop: Property, view: View, exp: Expectation | None = None) -> bool:
    """The property's check (``expectation(prop).check``) on ``view``, as a bool; a check
    that crashes is a ``SpecError``, except on a system with implementations seen
    through an abstraction (a Lua process), where a state or message the check cannot
    read (a missing tag, a value the abstraction has no model value for) fails the
    check: never a pass."""
    e = exp or expectation(prop)
    if e.check is None:
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} ({prop.kind}) has no check function")
    try:
        return bool(e.check(view))
    except (AttributeError, KeyError, TypeError, UserError) as err:
        if not sem.transparent:
            sem.unreadable.setdefault(prop.name, f"{type(err).__name__}: {err}")
            return False
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} failed to evaluate: {err}") from err


def response_index(sem: Semantics, prop: Property) -> int:
    """Index of a response property's obligations in ``World.ghost``."""
    for i, p in enumerate(sem.response_props):
        if p.name == prop.name:
            return i
    raise InternalError(
        f"response property {prop.name!r} is not tracked by this Semantics (not selected in config.properties)"
    )


def open_obligations(sem: Semantics, prop: Property, world: World) -> tuple[Any, ...]:
    """The open obligations of a response property in ``world`` (sorted keys)."""
    return tuple(world.ghost[response_index(sem, prop)])


def violated_at(sem: Semantics, prop: Property, world: World, view: View | None = None) -> bool:
    """True iff ``prop`` is violated in ``world`` (see the module docstring).

    Pass ``view`` to reuse one ``View`` for several properties of the same world.
    Properties judged on steps or by reachability are never violated at a single
    world: returns False.
    """
    exp = expectation(prop)
    if not exp.at_worlds or (exp.at_quiescence and world.net):
        return False
    if exp.form is Form.OBLIGATIONS:
        return bool(world.ghost[response_index(sem, prop)])
    return not check_holds(sem, prop, view if view is not None else sem.view(world), exp)


def required_goals(sem: Semantics, prop: Property) -> list[str]:
    """The goals of a ``sometimes`` property that must be witnessed in this scenario."""
    return expectation(prop).required_goals(sem.config.params)


def goal_met(sem: Semantics, prop: Property, goal: str, view: View, exp: Expectation | None = None) -> bool:
    """Whether the world seen through ``view`` witnesses ``goal`` of a ``sometimes`` property."""
    fn = (exp or expectation(prop)).goals.get(goal)
    if fn is None:
        raise SpecError(f"{sem.spec.source}: property {prop.name!r} requires unknown goal {goal!r}")
    try:
        return bool(fn(view))
    except (AttributeError, KeyError, TypeError) as e:
        raise SpecError(f"{sem.spec.source}: goal {goal!r} of property {prop.name!r} failed to evaluate: {e}") from e


def goals_met(sem: Semantics, prop: Property, world: World, view: View | None = None) -> list[str]:
    """The required goals of a ``sometimes`` property that ``world`` witnesses, in order."""
    v = view if view is not None else sem.view(world)
    exp = expectation(prop)
    return [g for g in exp.required_goals(sem.config.params) if goal_met(sem, prop, g, v, exp)]


# A part of the world a check may read through its View: a process index (>= 0), the
# network (NET), quiescence (QUIET), the obligations (GHOST), whether one response
# property has open obligations (``obligations_part``, -4 and below: ``PendingMemo`` only),
# the messages in flight with one Action (its name), or the process indices of one kind
# (a tuple).
NET = -1
QUIET = -2
GHOST = -3
Part = int | str | tuple[int, ...]
MEMO_TRIAL = 4096  # evaluations before a memo that mostly misses is switched off


class _RecordingView(KeyView):
    """A ``KeyView`` that records each part of the world read, in order, with its value
    as a key: a serial, a tuple of serials, the network key, a bool or the ghost."""

    __slots__ = ("reads",)

    def __init__(self, sem: Semantics, key: Key) -> None:
        super().__init__(sem, key)
        self.reads: list[tuple[Part, Any]] = []

    def __getattr__(self, name: str) -> Any:
        value = KeyView.__getattr__(self, name)
        idx = self._sem.index[name]
        self.reads.append((idx, self._key[idx]))
        return value

    __getitem__ = __getattr__

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        sem = self._sem
        part = tuple(sem.index[p] for p in sem.pids_of_kind.get(kind, ()))
        self.reads.append((part, tuple(self._key[i] for i in part)))
        return KeyView.of_kind(self, kind)

    @property
    def in_flight(self) -> tuple[Any, ...]:
        self.reads.append((NET, self._key[self._sem.nprocs]))
        return KeyView.in_flight.fget(self)  # type: ignore[attr-defined,no-any-return]

    @property
    def quiescent(self) -> bool:
        quiet = not self._key[self._sem.nprocs]
        self.reads.append((QUIET, quiet))
        return quiet

    def in_flight_of(self, action: str) -> tuple[Any, ...]:
        serials = action_serials(self._sem, self._key, action)
        self.reads.append((action, serials))
        msgs = self._sem.msg_views
        return tuple(msgs[s] for s in serials)

    def obligations(self, prop: str) -> tuple[Any, ...] | None:
        self.reads.append((GHOST, self._key[self._sem.nprocs + 1]))
        return KeyView.obligations(self, prop)


class CheckMemo:
    """``fn(view)`` over compact keys, memoised by the values of the parts it reads.

    Sound because a check is a pure function of the world read through its View (the
    spec contract, see ``checker.model.spec.Property``): the first evaluation records which
    parts it read, in order (a part read again is not recorded again: its value is
    fixed by then); a later world whose values of those parts are equal, read in the
    same order, gets the same result. The memo is a trie: each node names the next part
    read and maps its value to the next node or to the result. A memo that
    mostly misses after ``MEMO_TRIAL`` evaluations is dropped (direct evaluation).
    """

    __slots__ = ("sem", "fn", "root", "hits", "misses", "enabled", "view")

    def __init__(self, sem: Semantics, fn: Callable[[View], bool]) -> None:
        self.sem = sem
        self.fn = fn
        self.root: Any = None  # a node [part, {value: node or result}] or a result (bool)
        self.hits = 0
        self.misses = 0
        self.enabled = True
        self.view: KeyView | None = None  # reused for direct evaluation once switched off

    def __call__(self, key: Key) -> bool:
        view = self.view
        if view is not None:
            view._key = key
            return self.fn(view)
        node = self.root
        n = self.sem.nprocs
        while type(node) is list:
            part = node[0]
            if type(part) is int:
                value = key[part] if part >= 0 else key[n] if part == NET else not key[n] if part == QUIET else key[n + 1]
            elif type(part) is str:  # the messages in flight with that Action
                value = action_serials(self.sem, key, part)
            else:
                value = tuple([key[i] for i in part])
            node = node[1].get(value)
        if node is not None:
            self.hits += 1
            result: bool = node
            return result
        return self._miss(key)

    def traced(self, key: Key, seen: dict[Part, Any]) -> bool:
        """``self(key)``, adding to ``seen`` (in order) each part of ``key`` the check
        reads for it with its value (the trie path on a hit, the recorded reads on a
        miss); a part already in ``seen`` is kept, its value taken from there."""
        if self.view is None:
            node = self.root
            while type(node) is list:
                part = node[0]
                if part in seen:
                    value = seen[part]
                else:
                    value = seen[part] = key[part] if type(part) is int and part >= 0 else part_value(self.sem, key, part)
                node = node[1].get(value)
            if node is not None:
                self.hits += 1
                return bool(node)
            result, reads = self._evaluate(key)
        else:  # switched off: evaluated directly, reads recorded
            view = _RecordingView(self.sem, key)
            result, reads = bool(self.fn(view)), view.reads
        for part, value in reads:
            if part not in seen:
                seen[part] = value
        return result

    def _miss(self, key: Key) -> bool:
        return self._evaluate(key)[0]

    def _evaluate(self, key: Key) -> tuple[bool, list[tuple[Part, Any]]]:
        """A miss: evaluate, record the reads in the trie, check purity."""
        self.misses += 1
        if self.misses >= MEMO_TRIAL and self.misses > self.hits:
            self.enabled, self.root = False, None
            self.view = self.sem.key_view(key)
        view = _RecordingView(self.sem, key)
        result = bool(self.fn(view))
        first: dict[Part, Any] = {}
        for part, value in view.reads:  # a part read again: its value is fixed by the path
            if part not in first:
                first[part] = value
        reads = list(first.items())
        if not self.enabled:
            return result, reads
        if not reads:
            self.root = result
            return result, reads
        if self.root is None:
            self.root = [reads[0][0], {}]
        node = self.root
        for k, (part, value) in enumerate(reads):
            if type(node) is not list or node[0] != part:
                raise _impure(self.sem, "read the world differently on equal values")
            nxt = node[1].get(value)
            if nxt is None:
                nxt = [reads[k + 1][0], {}] if k + 1 < len(reads) else result
                node[1][value] = nxt
            node = nxt
        if node != result or type(node) is not bool:
            raise _impure(self.sem, "gave two results on equal values")
        return result, reads


def _impure(sem: Semantics, what: str) -> SpecError:
    return SpecError(
        f"{sem.spec.source}: a property check {what}: checks must be pure functions of the world they are given"
    )


def obligations_part(gi: int) -> int:
    """The part "response property ``gi`` (its index in ``World.ghost``) has open
    obligations": a bool, read by ``PendingMemo`` only."""
    return GHOST - 1 - gi


def part_value(sem: Semantics, key: Key, part: Part) -> Any:
    """The value of ``part`` (see ``Part``) in the world with compact key ``key``."""
    n = sem.nprocs
    if type(part) is int:
        if part >= 0:
            return key[part]
        if part == NET:
            return key[n]
        if part == QUIET:
            return not key[n]
        if part == GHOST:
            return key[n + 1]
        return bool(key[n + 1][GHOST - 1 - part])
    if type(part) is str:
        return action_serials(sem, key, part)
    assert isinstance(part, tuple)
    return tuple([key[i] for i in part])


@dataclass(frozen=True, slots=True)
class KeyTest:
    """One test on a compact key, by its shape: it fires where (``at_quiescence``: the
    world is quiescent and) ``memo(key) == fires_on`` (an invariant's check fires on
    False, a goal on True) or, with no memo, where the obligations of response property
    ``ghost`` are open. ``direct`` is the same test as one function of the key."""

    direct: Callable[[Key], bool]
    at_quiescence: bool
    memo: CheckMemo | None
    fires_on: bool = False
    ghost: int = -1


class PendingMemo:
    """Which of ``tests`` fire on a compact key (their indices, in order), all of them
    memoised in one trie: one walk per key over the distinct parts the tests read.

    The read sequence of a key is every test's reads in test order (an at-quiescence
    test reads QUIET and, only if quiescent, its check or its ``obligations_part``; a
    check's reads are its ``CheckMemo``'s path), a part already in the sequence left
    out (its value is already fixed by the path). Sound by ``CheckMemo``'s argument: a
    pure check's reads and answer are functions of the values it has read, so each next
    part of the sequence, and the answers, are functions of the values before it; a key
    that agrees with a recorded one on every part of its sequence walks to the same leaf,
    the tuple of the tests that fired. A node whose recorded part differs from a new
    key's sequence, or a leaf that differs, is an impure check: ``SpecError``. A memo
    that mostly misses after ``MEMO_TRIAL`` misses (misses > hits) is switched off: each
    test is then called separately (``KeyTest.direct``, itself memoised by ``CheckMemo``).
    ``None`` in ``tests`` is a test that never fires at a world.
    """

    __slots__ = ("sem", "tests", "root", "hits", "misses", "enabled")

    def __init__(self, sem: Semantics, tests: Sequence[KeyTest | None]) -> None:
        self.sem = sem
        self.tests = tuple(tests)
        # a node [part, {value: node or leaf}], or [part, value, node or leaf] while it has
        # one child (a quarter of the memory), or a leaf (tuple of indices)
        self.root: Any = None
        self.hits = 0
        self.misses = 0
        self.enabled = True

    def __call__(self, key: Key) -> tuple[int, ...]:
        node = self.root
        n = self.sem.nprocs
        while type(node) is list:
            part = node[0]
            if type(part) is int:
                if part >= 0:
                    value = key[part]
                elif part == QUIET:
                    value = not key[n]
                elif part == NET:
                    value = key[n]
                elif part == GHOST:
                    value = key[n + 1]
                else:
                    value = bool(key[n + 1][GHOST - 1 - part])
            elif type(part) is str:  # the messages in flight with that Action
                value = action_serials(self.sem, key, part)
            else:
                value = tuple([key[i] for i in part])
            if len(node) == 3:
                node = node[2] if node[1] == value else None
            else:
                node = node[1].get(value)
        if node is not None:
            self.hits += 1
            leaf: tuple[int, ...] = node
            return leaf
        return self._miss(key)

    def without(self, fired: Sequence[int]) -> PendingMemo:
        """A memo of the tests other than those at indices ``fired`` (in order)."""
        gone = set(fired)
        return PendingMemo(self.sem, [t for i, t in enumerate(self.tests) if i not in gone])

    def separately(self, key: Key) -> tuple[int, ...]:
        """The tests that fire on ``key``, each called on its own (no combined memo)."""
        return tuple(i for i, t in enumerate(self.tests) if t is not None and t.direct(key))

    def traced(self, key: Key) -> tuple[tuple[int, ...], list[tuple[Part, Any]]]:
        """The tests that fire on ``key`` and its read sequence (parts with values)."""
        seen: dict[Part, Any] = {}
        fired: list[int] = []
        n = self.sem.nprocs
        for i, t in enumerate(self.tests):
            if t is None:
                continue
            if t.at_quiescence:
                quiet = not key[n]
                if QUIET not in seen:
                    seen[QUIET] = quiet
                if not quiet:
                    continue
            if t.memo is None:
                open_ = bool(key[n + 1][t.ghost])
                part = GHOST - 1 - t.ghost  # obligations_part(t.ghost)
                if part not in seen:
                    seen[part] = open_
                if open_:
                    fired.append(i)
                continue
            if t.memo.traced(key, seen) == t.fires_on:
                fired.append(i)
        return tuple(fired), list(seen.items())

    def _miss(self, key: Key) -> tuple[int, ...]:
        if not self.enabled:
            return self.separately(key)
        self.misses += 1
        if self.misses >= MEMO_TRIAL and self.misses > self.hits:
            self.enabled, self.root = False, None
            return self.separately(key)
        fired, reads = self.traced(key)
        if not reads:
            if self.root is not None and self.root != fired:
                raise _impure(self.sem, "read the world differently on equal values")
            self.root = fired
            return fired
        if self.root is None:
            self.root = [reads[0][0]]
        node = self.root
        last = len(reads) - 1
        for k, (part, value) in enumerate(reads):
            if type(node) is not list or node[0] != part:
                raise _impure(self.sem, "read the world differently on equal values")
            if len(node) == 1:  # new: its first child
                child = fired if k == last else [reads[k + 1][0]]
                node += (value, child)
            elif len(node) == 3:
                if node[1] == value:
                    child = node[2]
                else:  # a second child: the node branches
                    child = fired if k == last else [reads[k + 1][0]]
                    node[1:] = [{node[1]: node[2], value: child}]
            else:
                child = node[1].get(value)
                if child is None:
                    child = fired if k == last else [reads[k + 1][0]]
                    node[1][value] = child
            node = child
        if node != fired:
            raise _impure(self.sem, "gave two results on equal values")
        return fired


class Judge:
    """``violated_at`` and ``goal_met`` over the explorer's compact keys, each check
    memoised by a ``CheckMemo``; ``pending_memo`` judges several at once."""

    def __init__(self, sem: Semantics) -> None:
        self.sem = sem
        self._memos: dict[tuple[str, str], CheckMemo] = {}
        self._ghost_index = {p.name: i for i, p in enumerate(sem.response_props)}

    def _memo(self, prop: Property, goal: str | None) -> CheckMemo:
        memo = self._memos.get((prop.name, goal or ""))
        if memo is None:
            sem = self.sem
            exp = expectation(prop)
            if goal is None:
                memo = CheckMemo(sem, lambda v: check_holds(sem, prop, v, exp))
            else:
                memo = CheckMemo(sem, lambda v: goal_met(sem, prop, goal, v, exp))
            self._memos[(prop.name, goal or "")] = memo
        return memo

    def violated(self, prop: Property, key: Key) -> bool:
        """``violated_at(sem, prop, sem.world_of(key))``."""
        return self.violation_test(prop)(key)

    def violation_test(self, prop: Property) -> Callable[[Key], bool]:
        """``violated`` for one property, as a function of the key (its form dispatched once)."""
        n = self.sem.nprocs
        exp = expectation(prop)
        if exp.form is Form.INVARIANT:
            memo = self._memo(prop, None)
            if exp.quiescent_only:
                return lambda key: not key[n] and not memo(key)
            return lambda key: not memo(key)
        if exp.form is Form.OBLIGATIONS:
            gi = self._ghost_index.get(prop.name)
            if gi is None:
                gi = response_index(self.sem, prop)  # raises the InternalError
            return lambda key: not key[n] and bool(key[n + 1][gi])
        return lambda key: False  # judged by reachability or on steps, never at a world

    def goal(self, prop: Property, goal: str, key: Key) -> bool:
        """``goal_met(sem, prop, goal, view of key)``."""
        return self._memo(prop, goal)(key)

    def goal_test(self, prop: Property, goal: str) -> Callable[[Key], bool]:
        """``goal`` for one goal, as a function of the key."""
        return self._memo(prop, goal)

    def key_test(self, prop: Property, goal: str | None) -> KeyTest | None:
        """``violation_test(prop)`` (``goal`` None) or ``goal_test(prop, goal)`` by its
        shape, sharing their memos; None for a property never violated at a world."""
        if goal is not None:
            return KeyTest(self.goal_test(prop, goal), False, self._memo(prop, goal), fires_on=True)
        exp = expectation(prop)
        direct = self.violation_test(prop)
        if exp.form is Form.INVARIANT:
            return KeyTest(direct, exp.quiescent_only, self._memo(prop, None), fires_on=False)
        if exp.form is Form.OBLIGATIONS:
            gi = self._ghost_index.get(prop.name)
            return KeyTest(direct, True, None, ghost=response_index(self.sem, prop) if gi is None else gi)
        return None

    def pending_memo(self, tests: Sequence[tuple[Property, str | None]]) -> PendingMemo:
        """One ``PendingMemo`` of the tests (property, goal or None for a violation)."""
        return PendingMemo(self.sem, [self.key_test(p, g) for p, g in tests])
