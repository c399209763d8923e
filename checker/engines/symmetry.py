"""Symmetry reduction: interchangeable processes (users) are explored once per orbit.

A spec declares ``symmetric_kinds``: processes of such a kind run the same declaration
from equal initial states (up to their ids), and nothing else in the spec singles one
out. Then renaming their ids is an automorphism of the system and of every property,
so it suffices to explore one representative per orbit of worlds.

The representative of a world orders the processes of each symmetric kind by a
signature of their local state with their own id abstracted, and renames the world
accordingly. Among processes whose signatures tie every order is tried and the least
world (in a fixed order of their keys) is taken; beyond ``MAX_TIE_ORDERS`` orders the
sorted one is taken: less reduction, never unsoundness (each representative is a
real member of its orbit).

Ids appear in values either as the whole string (``user1``) or as a prefix of a derived
id written ``<pid>#<suffix>`` (``user1#0``); renaming rewrites both, in every string a
walk over the value reaches (``checker.model.walk``: messages with their names, map keys and
values, tuples, sets, frozen dataclasses).

The explorer canonicalises compact world keys (``Semantics.key_of``): a renaming maps
state and message serials to serials, cached per renaming, so a state or message is
renamed once per renaming over the whole search.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections import Counter
from collections.abc import Callable
from typing import Any

from checker.errors import SpecError
from checker.model.process import PythonProcess
from checker.model.semantics import Key, Semantics, World
from checker.model.walk import Walk

ABSTRACT = "*"
MAX_TIE_ORDERS = 24  # beyond this many tie orders, take the sorted order (less reduction)

Renaming = dict[str, str]
_MISSING: Any = object()


class Renamer(Walk):
    """``rename_value`` as a walk (``checker.model.walk``) that visits names and keys too."""

    names = True

    def __init__(self, ren: Renaming) -> None:
        super().__init__()
        self.ren = ren

    def leaf(self, value: Any, path: str) -> Any:
        if type(value) is str:
            ren = self.ren
            hit = ren.get(value)
            if hit is not None:
                return hit
            head, sep, tail = value.partition("#")
            if sep and head in ren:
                return ren[head] + sep + tail
        return value


def rename_value(value: Any, ren: Renaming) -> Any:
    """``value`` with every process id in ``ren`` replaced (see the module docstring)."""
    return Renamer(ren).walk(value)


class _Plan:
    """One renaming of the symmetric processes, with its caches over serials."""

    __slots__ = ("ren", "src", "srcpos", "maps", "msgs", "ghosts")

    def __init__(self, ren: Renaming, where: list[int]) -> None:
        self.ren = ren
        srcpos = [0] * len(where)
        for i, j in enumerate(where):
            srcpos[j] = i
        self.srcpos = srcpos  # target position -> source position
        self.src = operator.itemgetter(*srcpos)  # a key -> source serials in target order
        self.maps: list[dict[int, int]] = [{} for _ in where]  # per target: source serial -> serial
        self.msgs: dict[int, int] = {}  # message serial -> renamed message serial
        self.ghosts: dict[tuple[Any, ...], tuple[Any, ...]] = {}


class Symmetry:
    """Maps each world to its orbit representative (``canonical``, ``canonical_key``)."""

    def __init__(self, sem: Semantics) -> None:
        self.sem = sem
        self.groups: list[tuple[int, ...]] = []
        for kind in sem.spec.symmetric_kinds:
            pids = sem.pids_of_kind.get(kind, ())
            if len(pids) >= 2:
                self.groups.append(tuple(sem.index[p] for p in pids))
        # a process implementation whose states cannot be renamed (no ``rename_state``)
        # switches the reduction off: renaming the users but not its state is unsound
        self.renamable = all(isinstance(i, PythonProcess) or hasattr(i, "rename_state") for i in sem.impls)
        self.enabled = bool(self.groups) and self.renamable
        self._sig: list[dict[int, int]] = [{} for _ in sem.pids]  # per process: serial -> signature
        self._abstract: dict[Any, int] = {}  # abstracted state -> its number (a signature)
        self._ghosts: dict[tuple[Any, ...], int] = {}  # ghost -> its number (orders ghosts)
        # serials of the symmetric processes -> the renamings to try (None: keep the world)
        self._orders: dict[tuple[int, ...], list[_Plan] | None] = {}
        self._plans: dict[tuple[tuple[int, ...], ...], _Plan] = {}
        self._members = operator.itemgetter(*[i for g in self.groups for i in g]) if self.enabled else None
        if self.enabled:
            self._check_initial_symmetry()

    def _check_initial_symmetry(self) -> None:
        sem = self.sem
        key = sem.initial_key()
        for group in self.groups:
            a, b = group[0], group[1]
            swap = {sem.pids[a]: sem.pids[b], sem.pids[b]: sem.pids[a]}
            if self._rename(key, _Plan(swap, [sem.index[swap.get(p, p)] for p in sem.pids])) != key:
                kind = sem.impls[a].kind
                raise SpecError(
                    f"{sem.spec.source}: kind {kind!r} is declared symmetric but swapping "
                    f"{sem.pids[a]} and {sem.pids[b]} changes the initial state; "
                    "give them equal initial states or remove it from symmetric_kinds"
                )

    def _signature(self, idx: int, s: int) -> int:
        """State ``s`` of process ``idx`` with its own id abstracted, as a number: abstracted
        states are numbered in order of first appearance (cached per state)."""
        table = self._sig[idx]
        sig = table.get(s)
        if sig is None:
            abstracted = self.rename_state(idx, self.sem.states[idx][s], {self.sem.pids[idx]: ABSTRACT})
            sig = self._abstract.setdefault(abstracted, len(self._abstract))
            table[s] = sig
        return sig

    def canonical(self, w: World) -> World:
        """The representative of ``w``'s orbit (see ``canonical_key``)."""
        sem = self.sem
        return sem.world_of(self.canonical_key(sem.key_of(w)))

    def canonical_key(self, key: Key) -> Key:
        """The key of the representative of the orbit of the world with key ``key``.

        Processes are ordered by signature; among processes whose signatures tie,
        every order is tried (up to ``MAX_TIE_ORDERS``) and the least key is chosen
        (``_less``), so the representative is unique. Signatures and keys are numbers
        given in order of first appearance, never ``hash()`` values, so the choice does
        not depend on ``PYTHONHASHSEED``. The orders depend only on the symmetric
        processes' states, so they are cached.
        """
        assert self._members is not None
        members = self._members(key)
        plans = self._orders.get(members, _MISSING)
        if plans is _MISSING:
            plans = self.plans_of(members)
        if plans is None:
            return key
        if len(plans) == 1:
            return self._rename(key, plans[0])
        best = key if not plans[0].ren else self._rename(key, plans[0])
        for plan in plans[1:]:
            cand = self._rename(key, plan) if plan.ren else key
            if self._less(cand, best):
                best = cand
        return best

    def _less(self, a: Key, b: Key) -> bool:
        """A total order on the keys of one orbit: state serials, then the network, then
        the ghost (by number); budgets are equal within an orbit."""
        n1 = self.sem.nprocs + 1
        ha, hb = a[:n1], b[:n1]
        if ha != hb:
            return ha < hb
        return self.ghost_rank(a[n1]) < self.ghost_rank(b[n1])

    def ghost_rank(self, ghost: tuple[Any, ...]) -> int:
        """The ghost's place in the order ``_less`` uses: numbered on first comparison."""
        ghosts = self._ghosts
        return ghosts.setdefault(ghost, len(ghosts))

    def plans_of(self, members: tuple[int, ...]) -> list[_Plan] | None:
        """The renamings ``canonical_key`` tries for a world whose symmetric processes (in
        group order) have the serials ``members`` (cached; ``None``: keep the world)."""
        plans = self._orders.get(members, _MISSING)
        if plans is _MISSING:
            key = [0] * self.sem.nprocs
            for i, s in zip((i for g in self.groups for i in g), members):
                key[i] = s
            plans = self._orders[members] = self._plans_for(tuple(key))
        result: list[_Plan] | None = plans
        return result

    def _plans_for(self, key: Key) -> list[_Plan] | None:
        """The renamings to try for a world whose symmetric processes are as in ``key``."""
        sig = self._signature
        per_group: list[list[tuple[int, ...]]] = []
        trivial = True
        total = 1  # how many orders there are to try (the product over groups)
        for group in self.groups:
            sigs = [sig(i, key[i]) for i in group]
            base = sorted(range(len(group)), key=sigs.__getitem__)
            ties = len(set(sigs)) < len(sigs)
            count = _tie_count(sigs) if ties else 1
            total *= count
            # the orders are built only when all of them can be tried: with many tied
            # processes there are factorially many (11 tied users: 39,916,800)
            orders = _tie_orders(base, sigs) if ties and total <= MAX_TIE_ORDERS else [base]
            per_group.append([tuple(o) for o in orders])
            if count > 1 or base != sorted(base):
                trivial = False
        if trivial:
            return None
        if total > MAX_TIE_ORDERS:
            return [self._plan(tuple(orders_[0] for orders_ in per_group))]
        combos: list[tuple[tuple[int, ...], ...]] = [()]
        for group_orders in per_group:
            combos = [c + (o,) for c in combos for o in group_orders]
            if len(combos) > MAX_TIE_ORDERS:
                combos = [tuple(orders_[0] for orders_ in per_group)]
                break
        return [self._plan(combo) for combo in combos]

    def _plan(self, combo: tuple[tuple[int, ...], ...]) -> _Plan:
        """The renaming that puts each group in the given order (cached)."""
        plan = self._plans.get(combo)
        if plan is None:
            pids = self.sem.pids
            ren: Renaming = {}
            for group, order in zip(self.groups, combo):
                for k, src in enumerate(order):
                    if src != k:
                        ren[pids[group[src]]] = pids[group[k]]
            plan = _Plan(ren, [self.sem.index[ren.get(p, p)] for p in pids])
            self._plans[combo] = plan
        return plan

    def _rename(self, key: Key, plan: _Plan) -> Key:
        """``key`` with the ids renamed by ``plan`` (states moved to their new positions)."""
        if not plan.ren:
            return key
        sem = self.sem
        n = sem.nprocs
        try:
            procs = tuple(map(operator.getitem, plan.maps, plan.src(key)))
        except KeyError:
            procs = self._fill(key, plan)
        net = key[n]
        if net:
            mm = plan.msgs
            serials = sem.knet.serials(net)
            try:
                renamed = list(map(mm.__getitem__, serials))
            except KeyError:
                renamed = [self._message(s, plan) for s in serials]
            net = sem.knet.canonical(renamed)
        ghost = key[n + 1]
        if any(ghost):
            ghost = self.renamed_ghost(plan, ghost)
        return procs + (net, ghost, key[n + 2], key[n + 3])

    @staticmethod
    def renamed_ghost(plan: _Plan, ghost: tuple[Any, ...]) -> tuple[Any, ...]:
        """The obligations ghost with the ids renamed by ``plan`` (cached in the plan)."""
        g = plan.ghosts.get(ghost)
        if g is None:
            g = tuple(tuple(sorted(rename_value(k, plan.ren) for k in e)) for e in ghost)
            plan.ghosts[ghost] = g
        return g

    def _fill(self, key: Key, plan: _Plan) -> tuple[int, ...]:
        """The renamed process serials of ``key``, renaming states not seen before."""
        return tuple([self.renamed_serial(plan, t, key[i]) for t, i in enumerate(plan.srcpos)])

    def renamed_serial(self, plan: _Plan, t: int, s: int) -> int:
        """The serial, at target position ``t``, of state ``s`` of the process that ``plan``
        moves there, renamed (cached in the plan)."""
        r = plan.maps[t].get(s)
        if r is None:
            sem = self.sem
            i = plan.srcpos[t]
            r = sem.serial_of(t, self.rename_state(i, sem.states[i][s], plan.ren))
            plan.maps[t][s] = r
        return r

    def rename_state(self, idx: int, state: Any, ren: Renaming) -> Any:
        """``state`` of process ``idx`` with the ids in ``ren`` replaced: through
        ``rename_value``, or the implementation's own ``rename_state(state, ren)``, which
        gets the renaming itself (a dict: a Lua snapshot is renamed inside Lua)."""
        impl = self.sem.impls[idx]
        renamer = Renamer(ren)
        if isinstance(impl, PythonProcess):
            return renamer.walk(state)
        return impl.rename_state(state, ren)  # type: ignore[attr-defined]

    def swaps(self) -> list[tuple[str, str, _Plan]]:
        """Per symmetric group, the renaming that swaps its first two processes."""
        sem = self.sem
        out: list[tuple[str, str, _Plan]] = []
        for group in self.groups:
            a, b = sem.pids[group[0]], sem.pids[group[1]]
            swap = {a: b, b: a}
            out.append((a, b, _Plan(swap, [sem.index[swap.get(p, p)] for p in sem.pids])))
        return out

    def renamed_key(self, key: Key, plan: _Plan) -> Key:
        """``key`` renamed by one of ``swaps()``'s plans."""
        return self._rename(key, plan)

    def renamed_message(self, s: int, plan: _Plan) -> int:
        """The serial of message ``s`` renamed by ``plan`` (cached in the plan)."""
        return self._message(s, plan)

    def _message(self, s: int, plan: _Plan) -> int:
        r = plan.msgs.get(s)
        if r is None:
            sem = self.sem
            r = sem.message_serial(rename_value(sem.messages.msgs[s], plan.ren))
            plan.msgs[s] = r
        return r


def _tie_count(sigs: list[int]) -> int:
    """How many orders ``_tie_orders`` gives: the product of the factorials of the runs."""
    out = 1
    for n in Counter(sigs).values():
        out *= math.factorial(n)
    return out


def _tie_orders(base: list[int], sigs: list[int]) -> list[list[int]]:
    """``base`` (positions sorted by signature) and its variants that permute runs of
    equal signatures: the orders that sorting alone cannot tell apart."""
    orders = [base]
    k = 0
    while k < len(base):
        end = k
        while end + 1 < len(base) and sigs[base[end + 1]] == sigs[base[k]]:
            end += 1
        if end > k:
            run = base[k : end + 1]
            orders = [o[:k] + list(p) + o[end + 1 :] for o in orders for p in itertools.permutations(run)]
        k = end + 1
    return orders


class Canonicaliser:
    """``Symmetry.canonical_key``, each key first shown to the ``SymmetryGuard`` while it
    has checks left; ``sym`` and ``guard`` for the compiled core, which does the same."""

    __slots__ = ("sym", "guard", "_canonical")

    def __init__(self, sym: Symmetry) -> None:
        from checker.engines.symmetry_guard import SymmetryGuard

        self.sym = sym
        self.guard = SymmetryGuard(sym)
        self._canonical = sym.canonical_key

    def __call__(self, key: Key) -> Key:
        if self.guard.left:
            self.guard.check(key)
        return self._canonical(key)


def canonicaliser(sem: Semantics, enabled: bool) -> Canonicaliser | None:
    """``Symmetry(sem).canonical_key`` (guarded) when the spec declares symmetric kinds and ``enabled``."""
    if not enabled:
        return None
    sym = Symmetry(sem)
    if not sym.enabled:
        return None
    return Canonicaliser(sym)
