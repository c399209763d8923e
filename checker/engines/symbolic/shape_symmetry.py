"""Canonical control shapes, optionally up to symmetry of interchangeable processes.

``ShapeCanon.canonical`` turns a symbolic state into the key of its control shape and
the data terms of its slots, in the shape's slot order. The shape is assembled from
interned *components* (one per local state, message in flight, open obligation), each
with its own slot numbering, so a key is a small tuple of integers.

With symmetry (``config.symmetry`` and a spec declaring ``symmetric_kinds``), a shape
is first renamed by every permutation of the processes of each symmetric kind (their ids
rewritten in strings, request ids ``<pid>#n``, map keys, message senders and
receivers; local states moved to the renamed process's position; the slots permuted
along) and the least key is taken: one shape per orbit. The slot terms are permuted to
match, so an edge goes from a canonical shape to the canonical representative of its
target with its argument terms in the representative's slot order.

Soundness rests on the assumption the explicit engine makes from ``symmetric_kinds``
(checker/engines/symmetry.py): renaming those processes is an automorphism of the transition
relation and of every checked property and invariant. Then a certificate over the
representatives (initiation, consecution of every edge into a representative, safety)
is an inductive invariant of the full system up to renaming, and since the properties
are invariant under renaming they hold in every reachable state. The initial state's
invariance is checked here (structure and data); the handlers' and properties' is the
spec's contract. Beyond ``MAX_PERMS`` permutations only the first ``MAX_PERMS`` are
tried: every candidate is a member of the orbit, so this reduces less, never unsoundly.

Fresh-name counters (``label@pid``) of the processes of a symmetric kind are set, per
label, to their maximum over the kind: names stay unique along every path (a counter
never decreases and each new name uses the current maximum), which the ``reach``
method's symbolic execution needs, and the counters do not depend on the renaming.
"""

from __future__ import annotations

import itertools
from typing import Any

import z3

from checker.errors import InternalError, SpecError
from checker.model.network import FifoNetwork
from checker.model.semantics import World
from checker.engines.symbolic.semantics import Fresh, SymSemantics, SymState
from checker.engines.symbolic.translate import Slot, instantiate, shape_of
from checker.engines.symmetry import rename_value
from checker.model.values import FrozenMap, Message
from checker.model.walk import Walk

MAX_PERMS = 720  # every permutation of up to 6 interchangeable processes

Renaming = dict[str, str]
Comp = tuple[int, tuple[z3.ArithRef, ...]]  # (component id, slot terms in local slot order)
# (proc component ids by position, message component ids in net order,
#  obligation component ids per response property, faults left, injections left, fresh)
Template = tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...], int, int, Fresh]


def rename(value: Any, ren: Renaming) -> Any:
    """``value`` (structure with ``Slot`` leaves) with every process id in ``ren``
    replaced: whole strings and the ``<pid>`` of ``<pid>#suffix``; maps re-sorted.
    The explicit engine's renaming (``checker.engines.symmetry.rename_value``); a ``Slot`` is a
    leaf, so it comes back as it is."""
    return rename_value(value, ren)


class _Renumber(Walk):
    """Slots renumbered 0.. in walk order, recording each one's old number and path."""

    paths = True

    def __init__(self) -> None:
        super().__init__()
        self.order: list[int] = []
        self.where: list[str] = []

    def leaf(self, value: Any, path: str) -> Any:
        if type(value) is Slot:
            self.order.append(value.n)
            self.where.append(path)
            return Slot(len(self.order) - 1)
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        raise InternalError(f"cannot renumber a {type(value).__name__} in a control shape")


def renumber(value: Any) -> tuple[Any, list[int], list[str]]:
    """``value`` with its slots renumbered 0.. in walk order (the order of
    ``translate.rebuild``: one walk), the old number of each new slot, and each slot's path."""
    w = _Renumber()
    return w.walk(value), w.order, w.where


class ShapeCanon:
    """Canonical shape keys and slot terms of symbolic states (see the module docstring).

    ``canonical(st)`` returns ``(key, terms, template)``: equal keys mean equal shapes
    (up to the renamings tried); ``terms`` are the state's data in the shape's slot
    order; ``instantiate(template, variables)`` rebuilds the shape's world with slot
    ``i`` holding ``variables[i]``, and ``names(template)`` names the slots.
    """

    def __init__(self, ss: SymSemantics, symmetry: bool) -> None:
        self.ss = ss
        self.fifo = ss.fifo
        pids = tuple(inst.pid for inst in ss.instances)
        index = {p: i for i, p in enumerate(pids)}
        self.pids = pids
        groups: list[tuple[str, ...]] = []
        kinds: list[str] = []
        if symmetry:
            for kind in ss.spec.symmetric_kinds:
                members = tuple(inst.pid for inst, impl in zip(ss.instances, ss.impls) if impl.kind == kind)
                if len(members) >= 2:
                    groups.append(members)
                    kinds.append(kind)
        self.kinds = tuple(kinds)
        self.symmetric_pids = frozenset(p for g in groups for p in g)
        combos: list[tuple[tuple[int, ...], ...]] = [()]
        for g in groups:
            combos = [c + (p,) for c in combos for p in itertools.permutations(range(len(g)))]
        # (renaming, position of each process's state after renaming, inverse)
        self.perms: list[tuple[Renaming, tuple[int, ...], tuple[int, ...]]] = []
        for combo in itertools.islice(combos, MAX_PERMS):
            ren = {g[k]: g[p[k]] for g, p in zip(groups, combo) for k in range(len(g)) if p[k] != k}
            where = tuple(index[ren.get(p, p)] for p in pids)
            inv = [0] * len(pids)
            for i, j in enumerate(where):
                inv[j] = i
            self.perms.append((ren, where, tuple(inv)))
        self._ids: dict[Any, int] = {}
        self._objs: list[Any] = []
        self._renamed: list[dict[int, tuple[int, tuple[int, ...]]]] = [{} for _ in self.perms]
        self._paths: dict[int, list[str]] = {}
        self._local: dict[int, tuple[Any, Comp]] = {}  # id(value) -> (value, component), per expansion
        # (component, ids of its slot variables) -> the instantiated value (immutable, shared)
        self._instances: dict[tuple[int, tuple[int, ...]], Any] = {}
        if len(self.perms) > 1:
            self._check_initial()

    @property
    def enabled(self) -> bool:
        return len(self.perms) > 1

    # -- components ----------------------------------------------------------------------

    def _intern(self, obj: Any) -> int:
        cid = self._ids.get(obj)
        if cid is None:
            cid = len(self._objs)
            self._ids[obj] = cid
            self._objs.append(obj)
        return cid

    def forget_local(self) -> None:
        """Drop the per-expansion cache of decomposed values (call once per source shape)."""
        self._local = {}

    def _comp(self, value: Any) -> Comp:
        hit = self._local.get(id(value))
        if hit is not None:
            return hit[1]
        shape, found = shape_of(value)
        comp = (self._intern(shape), tuple(x.e for _, x in found))
        self._local[id(value)] = (value, comp)  # keeps id(value) from being reused
        return comp

    def _rename(self, pi: int, cid: int) -> tuple[int, tuple[int, ...]]:
        """Component ``cid`` renamed by permutation ``pi``: (its id, old slot of each new slot)."""
        table = self._renamed[pi]
        hit = table.get(cid)
        if hit is None:
            obj, order, _ = renumber(rename(self._objs[cid], self.perms[pi][0]))
            hit = (self._intern(obj), tuple(order))
            table[cid] = hit
        return hit

    # -- canonical form --------------------------------------------------------------------

    def _fresh(self, fresh: Fresh) -> Fresh:
        if not self.symmetric_pids or not fresh:
            return fresh
        top: dict[str, int] = {}
        out: dict[str, int] = {}
        for k, n in fresh.items():
            label, sep, pid = k.rpartition("@")
            if sep and pid in self.symmetric_pids:
                top[label] = max(top.get(label, 0), n)
            else:
                out[k] = n
        for label, n in top.items():
            for pid in self.symmetric_pids:
                out[f"{label}@{pid}"] = n
        return FrozenMap(out)

    def _messages(self, net: tuple[Any, ...]) -> tuple[Message, ...]:
        return FifoNetwork.messages(net) if self.fifo else net

    def _net_order(self, pi: int, msgs: list[Comp]) -> tuple[tuple[int, ...], list[tuple[int, int]]]:
        """The renamed messages' ids in canonical net order, and (old index, new id) in it."""
        if pi == 0:
            renamed = [(c[0], i) for i, c in enumerate(msgs)]
        else:
            renamed = [(self._rename(pi, c[0])[0], i) for i, c in enumerate(msgs)]
        if self.fifo:  # channels sorted by (src, dst), each queue in order
            chans: dict[tuple[str, str], list[tuple[int, int]]] = {}
            for cid, i in renamed:
                m = self._objs[cid]
                chans.setdefault((m.src, m.dst), []).append((cid, i))
            renamed = [x for k in sorted(chans) for x in chans[k]]
        else:
            renamed.sort()
        return tuple(cid for cid, _ in renamed), [(i, cid) for cid, i in renamed]

    def canonical(self, st: SymState) -> tuple[Any, tuple[z3.ArithRef, ...], Template]:
        w = st.world
        procs = [self._comp(p) for p in w.procs]
        msgs = [self._comp(m) for m in self._messages(w.net)]
        ghost = [[self._comp(k) for k in g] for g in w.ghost]
        fresh = self._fresh(st.fresh)
        # least key: first by local states, then (among the ties) by network, obligations
        best_pk: tuple[int, ...] | None = None
        ties: list[int] = []
        for pi, (_, _, inv) in enumerate(self.perms):
            if pi == 0:
                pk = tuple(procs[inv[j]][0] for j in range(len(procs)))
            else:
                pk = tuple(self._rename(pi, procs[inv[j]][0])[0] for j in range(len(procs)))
            if best_pk is None or pk < best_pk:
                best_pk, ties = pk, [pi]
            elif pk == best_pk:
                ties.append(pi)
        assert best_pk is not None
        best: tuple[Any, ...] | None = None
        chosen = ties[0]
        for pi in ties:
            nk, _ = self._net_order(pi, msgs)
            gk = tuple(tuple(sorted(self._rename(pi, c[0])[0] for c in g)) for g in ghost)
            cand = (nk, gk)
            if best is None or cand < best:
                best, chosen = cand, pi
        assert best is not None
        net_ids, ghost_ids = best
        key = (best_pk, net_ids, ghost_ids, w.faults_left, w.injections_left, fresh)
        # the slot terms, in the representative's slot order
        terms: list[z3.ArithRef] = []
        inv = self.perms[chosen][2]
        for j in range(len(procs)):
            cid, ts = procs[inv[j]]
            self._extend(terms, chosen, cid, ts)
        for i, _ in self._net_order(chosen, msgs)[1]:
            self._extend(terms, chosen, *msgs[i])
        for g in ghost:
            for cid, ts in sorted(g, key=lambda c: self._rename(chosen, c[0])[0]):
                self._extend(terms, chosen, cid, ts)
        template: Template = (best_pk, net_ids, ghost_ids, w.faults_left, w.injections_left, fresh)
        return key, tuple(terms), template

    def _extend(self, terms: list[z3.ArithRef], pi: int, cid: int, ts: tuple[z3.ArithRef, ...]) -> None:
        if pi == 0:
            terms.extend(ts)
        else:
            terms.extend(ts[k] for k in self._rename(pi, cid)[1])

    # -- shapes ------------------------------------------------------------------------------

    def _slots(self, cid: int) -> list[str]:
        paths = self._paths.get(cid)
        if paths is None:
            paths = renumber(self._objs[cid])[2]
            self._paths[cid] = paths
        return paths

    def names(self, t: Template) -> list[str]:
        """Readable, distinct variable names of the slots of shape ``t``."""
        procs, net, ghost = t[0], t[1], t[2]
        out = [self.pids[j] + p for j, cid in enumerate(procs) for p in self._slots(cid)]
        out += [f"net[{k}]{p}" for k, cid in enumerate(net) for p in self._slots(cid)]
        out += [f"ghost[{i}][{k}]{p}" for i, g in enumerate(ghost) for k, cid in enumerate(g) for p in self._slots(cid)]
        if len(set(out)) != len(out):
            raise InternalError("two slots of a control shape got the same variable name")
        return out

    def instantiate(self, t: Template, variables: list[z3.ArithRef]) -> SymState:
        """The state of shape ``t`` with slot ``i`` holding ``variables[i]`` (no path condition).

        Its components are remembered as decomposed until ``forget_local``."""
        pos = 0
        oracle = self.ss.oracle

        def inst(cid: int) -> Any:
            nonlocal pos
            k = len(self._slots(cid))
            terms = tuple(variables[pos:pos + k])
            key = (cid, tuple(x.get_id() for x in terms))
            v = self._instances.get(key)
            if v is None:
                v = self._instances[key] = instantiate(self._objs[cid], oracle, list(terms))
            pos += k
            self._local[id(v)] = (v, (cid, terms))  # its decomposition is known
            return v

        procs = tuple(inst(c) for c in t[0])
        msgs = tuple(inst(c) for c in t[1])
        ghost = tuple(tuple(inst(c) for c in g) for g in t[2])
        net = FifoNetwork.canonical(list(msgs)) if self.fifo else msgs
        if pos != len(variables):
            raise InternalError("a control shape was instantiated with the wrong number of variables")
        return SymState(World(procs, net, ghost, t[3], t[4]), t[5], self.ss.init_pc)

    def messages(self, t: Template) -> list[Message]:
        """The messages in flight in shape ``t`` (data slots as ``Slot``)."""
        return [self._objs[c] for c in t[1]]

    # -- the spec's side of the contract ---------------------------------------------------------

    def _check_initial(self) -> None:
        """Every renaming maps the initial state to itself (structure and data terms)."""
        init = self.ss.initial()
        self.forget_local()
        procs = [self._comp(p) for p in init.world.procs]
        base = [t for c in procs for t in c[1]]
        for pi, (ren, _, inv) in enumerate(self.perms[1:], start=1):
            pk = tuple(self._rename(pi, procs[inv[j]][0])[0] for j in range(len(procs)))
            terms: list[z3.ArithRef] = []
            for j in range(len(procs)):
                self._extend(terms, pi, *procs[inv[j]])
            if pk != tuple(c[0] for c in procs) or any(not a.eq(b) for a, b in zip(terms, base)):
                pair = ", ".join(f"{a}↔{b}" for a, b in ren.items() if a < b)
                raise SpecError(f"{self.ss.spec.source}: kinds {', '.join(self.kinds)} are declared symmetric but "
                                f"renaming {pair} changes the initial state; give them equal initial states "
                                f"or remove them from symmetric_kinds")
        self.forget_local()

