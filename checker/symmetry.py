"""Symmetry reduction: interchangeable processes (users) are explored once per orbit.

A spec declares ``symmetric_kinds``: processes of such a kind run the same declaration
from equal initial states (up to their ids), and nothing else in the spec singles one
out. Then renaming their ids is an automorphism of the system and of every property,
so it suffices to explore one representative per orbit of worlds.

The representative of a world orders the processes of each symmetric kind by a
signature of their local state with their own id abstracted, and renames the world
accordingly (one renaming, not one per permutation). Ties keep the current order, so
two worlds of one orbit may get different representatives: less reduction, never
unsoundness (each representative is a real member of its orbit).

Ids appear in values either as the whole string (``user1``) or as a prefix of a derived
id written ``<pid>#<suffix>`` (``user1#0``); renaming rewrites both, inside strings,
tuples, messages, ``FrozenMap`` keys and values, and frozen dataclasses.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

from checker.errors import SpecError
from checker.semantics import Semantics, World
from checker.values import FrozenMap, Message

ABSTRACT = "*"
MAX_TIE_ORDERS = 24  # beyond this many tie orders, take the sorted order (less reduction)

Renaming = dict[str, str]


def rename_value(value: Any, ren: Renaming, fields: dict[type, tuple[str, ...]]) -> Any:
    """``value`` with every process id in ``ren`` replaced (see the module docstring)."""
    if isinstance(value, str):
        hit = ren.get(value)
        if hit is not None:
            return hit
        head, sep, tail = value.partition("#")
        if sep and head in ren:
            return ren[head] + sep + tail
        return value
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, Message):
        return Message(*(rename_value(v, ren, fields) for v in value))
    if isinstance(value, tuple):
        return tuple(rename_value(v, ren, fields) for v in value)
    if isinstance(value, FrozenMap):
        return FrozenMap({rename_value(k, ren, fields): rename_value(v, ren, fields) for k, v in value.items()})
    cls = type(value)
    names = fields.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(value):
            return value
        names = tuple(f.name for f in dataclasses.fields(value) if f.init)
        fields[cls] = names
    return cls(**{n: rename_value(getattr(value, n), ren, fields) for n in names})


class Symmetry:
    """Maps each world to its orbit representative (``canonical``)."""

    def __init__(self, sem: Semantics) -> None:
        self.sem = sem
        self.groups: list[tuple[int, ...]] = []
        for kind in sem.spec.symmetric_kinds:
            pids = sem.pids_of_kind.get(kind, ())
            if len(pids) >= 2:
                self.groups.append(tuple(sem.index[p] for p in pids))
        self.enabled = bool(self.groups)
        self._fields: dict[type, tuple[str, ...]] = {}
        self._sig: dict[int, tuple[Any, int]] = {}  # id(local state) -> (state, signature)
        self._renamed: dict[tuple[Any, ...], Any] = {}  # (renaming key, id or value) -> renamed
        self._ren_keep: list[Any] = []
        self._plans: dict[tuple[tuple[int, ...], ...], tuple[Renaming, tuple[Any, ...], list[int]]] = {}
        if self.enabled:
            self._check_initial_symmetry()

    def _check_initial_symmetry(self) -> None:
        w = self.sem.initial()
        for group in self.groups:
            a, b = group[0], group[1]
            swap = {self.sem.pids[a]: self.sem.pids[b], self.sem.pids[b]: self.sem.pids[a]}
            if self._apply(w, (swap, tuple(sorted(swap.items())), [self.sem.index[swap.get(p, p)] for p in self.sem.pids])) != w:
                kind = self.sem.instances[a].decl.kind
                raise SpecError(
                    f"{self.sem.spec.source}: kind {kind!r} is declared symmetric but swapping "
                    f"{self.sem.pids[a]} and {self.sem.pids[b]} changes the initial state; "
                    "give them equal initial states or remove it from symmetric_kinds"
                )

    def _signature(self, idx: int, state: Any) -> int:
        """A hash of ``state`` with its own process id abstracted (cached per state)."""
        entry = self._sig.get(id(state))
        if entry is None:
            abstracted = rename_value(state, {self.sem.pids[idx]: ABSTRACT}, self._fields)
            entry = (state, hash(abstracted))
            self._sig[id(state)] = entry
        return entry[1]

    def canonical(self, w: World) -> World:
        """The representative of ``w``'s orbit.

        Processes are ordered by signature; among processes whose signatures tie,
        every order is tried (up to ``MAX_TIE_ORDERS``) and the world with the least
        hash is chosen, so the representative is unique up to hash collisions.
        """
        procs = w.procs
        sig = self._signature
        per_group: list[list[tuple[int, ...]]] = []
        trivial = True
        for group in self.groups:
            sigs = [sig(i, procs[i]) for i in group]
            base = sorted(range(len(group)), key=sigs.__getitem__)
            orders = _tie_orders(base, sigs) if len(set(sigs)) < len(sigs) else [base]
            per_group.append([tuple(o) for o in orders])
            if len(orders) > 1 or base != sorted(base):
                trivial = False
        if trivial:
            return w
        combos: list[tuple[tuple[int, ...], ...]] = [()]
        for group_orders in per_group:
            combos = [c + (o,) for c in combos for o in group_orders]
            if len(combos) > MAX_TIE_ORDERS:
                combos = [tuple(orders_[0] for orders_ in per_group)]
                break
        best = w
        first = True
        for combo in combos:
            cand = self._apply(w, self._plan(combo))
            if first or cand._h < best._h:
                best, first = cand, False
        return best

    def _plan(self, combo: tuple[tuple[int, ...], ...]) -> tuple[Renaming, tuple[Any, ...], list[int]]:
        """For one order per group: the renaming, its cache key and the position map."""
        plan = self._plans.get(combo)
        if plan is None:
            pids = self.sem.pids
            ren: Renaming = {}
            for group, order in zip(self.groups, combo):
                for k, src in enumerate(order):
                    if src != k:
                        ren[pids[group[src]]] = pids[group[k]]
            where = [self.sem.index[ren.get(p, p)] for p in pids]
            plan = (ren, tuple(sorted(ren.items())), where)
            self._plans[combo] = plan
        return plan

    def _apply(self, w: World, plan: tuple[Renaming, tuple[Any, ...], list[int]]) -> World:
        ren, rkey, where = plan
        if not ren:
            return w
        sem = self.sem
        renamed = self._renamed
        procs: list[Any] = list(w.procs)
        phash: list[int] = list(w.phash)
        for i, state in enumerate(w.procs):
            j = where[i]
            key = (rkey, id(state))
            hit = renamed.get(key)
            if hit is None:
                hit = sem.intern_state(j, rename_value(state, ren, self._fields))
                renamed[key] = hit
                self._ren_keep.append(state)  # keeps id(state) from being reused
            procs[j], phash[j] = hit
        msgs = [self._message(m, ren, rkey) for m in sem.net.messages(w.net)]
        net = sem.net.canonical(msgs)
        ghost = w.ghost
        if any(ghost):
            ghost = tuple(tuple(sorted(rename_value(k, ren, self._fields) for k in g)) for g in ghost)
        return World(tuple(procs), net, ghost, w.faults_left, w.injections_left, tuple(phash))

    def _message(self, m: Message, ren: Renaming, rkey: tuple[Any, ...]) -> Message:
        key = (rkey, m)
        hit = self._renamed.get(key)
        if hit is None:
            hit = rename_value(m, ren, self._fields)
            self._renamed[key] = hit
        out: Message = hit
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


def canonicaliser(sem: Semantics, enabled: bool) -> Callable[[World], World] | None:
    """``Symmetry(sem).canonical`` when the spec declares symmetric kinds and ``enabled``."""
    if not enabled:
        return None
    sym = Symmetry(sem)
    return sym.canonical if sym.enabled else None
