"""AO execution semantics over a built spec: worlds, steps and successors.

``Semantics`` is the one interpretation of a spec that every concrete engine (explore,
replay, simulate) shares. A ``World`` is the whole system: every process's local state,
the messages in flight, the open obligations of response properties, and the remaining
fault and adversary budgets. ``successors(world)`` yields every ``(Step, World)`` one
atomic step away, in the order of the step kernel (``checker.model.step_kernel``):

1. delivery of each deliverable message to its target (one step per branch of the
   matching handler; an unmatched message goes to the Inbox and changes nothing; a
   handler that calls ``ctx.error`` changes nothing and sends nothing), then
   ``handler-error`` (fault): the delivery happens but its effects are discarded;
2. ``loss`` (fault): a message in flight disappears;
3. initiatives (a user sending its next request);
4. ``adversary`` injections.

This module is the kernel's concrete frame (``KeyFrame``): states, messages and the
bag as serial numbers, handler outcomes memoised; the kernel decides the steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.model.choices import Chooser, all_paths
from checker.config import CheckConfig
from checker.errors import HandlerError, InternalError, SpecError
from checker.model.expectation import Form, expectation
from checker.model import step_kernel
from checker.model.network import MessageTable, SerialBag, network_for, serial_network_for
from checker.model.process import Finding, ProcessImpl, PythonProcess, impl_of
from checker.model.spec import ProcessInstance, Property, Spec, StepInfo, StepKind
from checker.model.step_kernel import ADVERSARY as ADVERSARY
from checker.model.step_kernel import GhostOps, Path, Step as Step
from checker.model.step_kernel import adversary_templates, apply_obligations, delivered, initiated, with_handler_error
from checker.model.values import Message, make_message
from checker.model.walk import DERIVED
# the purity check (always on): the first PURITY_CHECKS distinct outcome computations
# (a (state, message) delivery or a state's initiatives, per process and fault budget)
# of Python processes are executed twice and must agree path for path
PURITY_CHECKS = 2_000


@dataclass(frozen=True, slots=True, eq=False)
class World:
    """A global state: local states (system order), network, obligations, budgets.

    Hashed on first use (worlds are values; the explorer itself keys states by
    ``Semantics.key_of``). ``phash`` holds the content hash of each local state; leave
    it empty and it is computed, or pass the hashes you already have.
    """

    procs: tuple[Any, ...]
    net: tuple[Any, ...]
    ghost: tuple[tuple[Any, ...], ...]
    faults_left: int
    injections_left: int
    phash: tuple[int, ...] = field(default=(), repr=False, metadata=DERIVED)  # not walked: recomputed
    _h: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.phash:
            object.__setattr__(self, "phash", tuple(map(hash, self.procs)))

    def __hash__(self) -> int:
        h = self._h
        if h is None:
            h = hash((self.phash, self.net, self.ghost, self.faults_left, self.injections_left))
            object.__setattr__(self, "_h", h)
        return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, World):
            return NotImplemented
        return (
            hash(self) == hash(other)
            and self.phash == other.phash
            and self.net == other.net
            and self.ghost == other.ghost
            and self.faults_left == other.faults_left
            and self.injections_left == other.injections_left
            and self.procs == other.procs
        )


_GhostOps = GhostOps
# (step, serial of the new local state, serials of the sends, faults left, obligation changes)
_Outcome = tuple[Step, int, tuple[int, ...], int, _GhostOps]
# a compact world: (state serial per process..., network over message serials, ghost,
# faults left, injections left); see ``Semantics.key_of``
Key = tuple[Any, ...]


class StepContext:
    """The ``Ctx`` a handler sees during one execution path (the symbolic engine
    subclasses it and overrides ``params`` and ``choose_value``)."""

    __slots__ = ("_sem", "self_id", "_ch", "sends", "choices", "faults_left")

    def __init__(self, sem: Semantics, pid: str, ch: Chooser, faults_left: int) -> None:
        self._sem = sem
        self.self_id = pid
        self._ch = ch
        self.sends: list[Message] = []
        self.choices: list[tuple[str, Any]] = []
        self.faults_left = faults_left

    @property
    def params(self) -> Any:
        return self._sem.config.params

    def send(self, dst: str, action: str, **tags: Any) -> None:
        sem = self._sem
        if action not in sem.action_names:
            raise SpecError(f"{sem.spec.source}: {self.self_id} sends undeclared Action {action!r}; declare it in the spec's actions")
        if dst not in sem.index:
            raise SpecError(f"{sem.spec.source}: {self.self_id} sends {action} to unknown process {dst!r}")
        self.sends.append(make_message(self.self_id, dst, action, tags))

    def knows(self, pid: str) -> bool:
        """Whether ``pid`` is a process of the system (a message to it can be delivered)."""
        return pid in self._sem.index

    def emit(self, msg: Message) -> None:
        """Queue a message built by a process implementation (its own vocabulary, so its
        Action need not be declared); its target must be a process of the system."""
        if msg.dst not in self._sem.index:
            sem = self._sem
            raise SpecError(f"{sem.spec.source}: {self.self_id} sends {msg.action} to unknown process {msg.dst!r}; "
                            "add that process to the system (or a sink for it)")
        self.sends.append(msg)

    def reply(self, msg: Message, action: str, **tags: Any) -> None:
        self.send(msg.src, action, **tags)

    def fault(self, name: str) -> bool:
        sem = self._sem
        if name not in sem.spec.faults:
            raise SpecError(f"{sem.spec.source}: ctx.fault({name!r}) names an undeclared fault; declare it in the spec's faults (in a manifest: under [faults])")
        if name not in sem.config.faults or self.faults_left <= 0:
            return False
        hit = self._ch.pick(name, 2) == 1
        self.choices.append((name, hit))
        if hit:
            self.faults_left -= 1
        return hit

    def choose(self, label: str, options: Sequence[Any]) -> Any:
        v = options[self._ch.pick(label, len(options))]
        self.choices.append((label, v))
        return v

    def choose_value(self, label: str, domain: str) -> Any:
        return self.choose(label, self._sem.domains[domain])

    def error(self, reason: str) -> Any:
        raise HandlerError(reason)

    def pids(self, kind: str) -> tuple[str, ...]:
        return self._sem.pids_of_kind.get(kind, ())


class WorldView:
    """The ``View`` (``checker.model.spec.View``) of a ``World``: ``w.token``, ``w["user1"]``, ..."""

    __slots__ = ("_w", "_sem")

    def __init__(self, sem: Semantics, world: World) -> None:
        self._w = world
        self._sem = sem

    def __getattr__(self, name: str) -> Any:
        idx = self._sem.index.get(name)
        if idx is None:
            raise AttributeError(f"no process {name!r} (processes: {', '.join(self._sem.index)})")
        return self._sem.observe(idx, self._w.procs[idx])

    __getitem__ = __getattr__

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        """Local states of every process of ``kind``, in system order."""
        idx, sem = self._sem.index, self._sem
        return tuple(sem.observe(idx[p], self._w.procs[idx[p]]) for p in self._sem.pids_of_kind.get(kind, ()))

    @property
    def in_flight(self) -> tuple[Message, ...]:
        sem = self._sem
        msgs: tuple[Message, ...] = sem.net.messages(self._w.net)
        return msgs if sem.transparent else tuple(map(sem.observe_message, msgs))

    @property
    def quiescent(self) -> bool:
        return not self._w.net

    def in_flight_of(self, action: str) -> tuple[Message, ...]:
        """The messages in flight with Action ``action`` (in ``in_flight`` order). Reading
        only these, rather than the whole network, lets a memoised check hit far more."""
        return tuple(m for m in self.in_flight if m.action == action)

    def obligations(self, prop: str) -> tuple[Any, ...] | None:
        """The open obligations (trigger keys not yet discharged) of response property
        ``prop``, or ``None`` where this run does not track it (not selected)."""
        for i, p in enumerate(self._sem.response_props):
            if p.name == prop:
                return tuple(self._w.ghost[i])
        return None

    @property
    def params(self) -> Any:
        return self._sem.config.params


def action_serials(sem: Semantics, key: Key, action: str) -> tuple[int, ...]:
    """The serials of the messages in flight in ``key`` with Action ``action``, through a
    table per Action of which message serials carry it (``sem.action_flags``, extended as
    ``sem.msg_views`` grows), so no message in flight is read."""
    flags = sem.action_flags.get(action)
    if flags is None:
        flags = sem.action_flags[action] = []
    views = sem.msg_views
    if len(flags) < len(views):
        flags.extend([m.action == action for m in views[len(flags):]])
    return tuple([s for s in sem.knet.serials(key[sem.nprocs]) if flags[s]])


class KeyView:
    """The ``View`` (``checker.model.spec.View``) of the world with compact key ``key`` (see
    ``Semantics.key_of``), reading local states straight from the serial tables: no
    ``World`` is built."""

    __slots__ = ("_sem", "_key")

    def __init__(self, sem: Semantics, key: Key) -> None:
        self._sem = sem
        self._key = key

    def __getattr__(self, name: str) -> Any:
        sem = self._sem
        idx = sem.index.get(name)
        if idx is None or idx < 0:
            raise AttributeError(f"no process {name!r} (processes: {', '.join(sem.pids)})")
        return sem.observed[idx][self._key[idx]]

    __getitem__ = __getattr__

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        sem, key = self._sem, self._key
        idx = sem.index
        return tuple(sem.observed[idx[p]][key[idx[p]]] for p in sem.pids_of_kind.get(kind, ()))

    @property
    def in_flight(self) -> tuple[Message, ...]:
        sem = self._sem
        if not sem.transparent:
            views = sem.msg_views
            return tuple(views[s] for s in sem.knet.serials(self._key[sem.nprocs]))
        msgs: tuple[Message, ...] = sem.net.messages(sem.knet.to_world(self._key[sem.nprocs]))
        return msgs

    @property
    def quiescent(self) -> bool:
        return not self._key[self._sem.nprocs]

    def in_flight_of(self, action: str) -> tuple[Message, ...]:
        msgs = self._sem.msg_views
        return tuple(msgs[s] for s in action_serials(self._sem, self._key, action))

    def obligations(self, prop: str) -> tuple[Any, ...] | None:
        for i, p in enumerate(self._sem.response_props):
            if p.name == prop:
                return tuple(self._key[self._sem.nprocs + 1][i])
        return None

    @property
    def params(self) -> Any:
        return self._sem.config.params


class Semantics:
    """The step relation of one spec under one ``CheckConfig``.

    Two equivalent views of it: ``successors(world)`` over ``World`` values, and
    ``expand(key)`` over compact world keys (the explorer's hot path; see ``key_of``).
    ``successors`` is defined through ``expand``, so both enumerate the same steps in
    the same order.
    """

    def __init__(self, spec: Spec, config: CheckConfig) -> None:
        self.spec = spec
        self.config = config
        params = config.params
        self.instances: tuple[ProcessInstance, ...] = tuple(spec.build(params))
        # the process seam: every engine runs a process through its implementation
        self.impls: tuple[ProcessImpl, ...] = tuple(impl_of(inst.decl, spec.source) for inst in self.instances)
        # True when properties see states and messages as they are (Python processes only)
        self.transparent = all(isinstance(i, PythonProcess) for i in self.impls)
        self.pids = tuple(p.pid for p in self.instances)
        self.index = {pid: i for i, pid in enumerate(self.pids)}
        kinds: dict[str, list[str]] = {}
        for inst, impl in zip(self.instances, self.impls):
            kinds.setdefault(impl.kind, []).append(inst.pid)
        self.adversary = "adversary" in config.faults
        if self.adversary:
            self.index[ADVERSARY] = -1
        self.pids_of_kind = {k: tuple(v) for k, v in kinds.items()}
        self.domains = dict(spec.domains(params))
        self.action_names = frozenset(a.name for a in spec.actions)
        self.net: Any = network_for(config.network)
        self.loss = "loss" in config.faults
        self.handler_error = "handler-error" in config.faults
        # the selected properties with obligations (``Form.OBLIGATIONS``): their open
        # obligations are the world's ghost, one entry each in this order
        self.response_props: tuple[Property, ...] = tuple(
            p for p in spec.properties if _selected(p, config) and expectation(p).form is Form.OBLIGATIONS
        )
        # (trigger, discharge) of each, from its expectation
        self.obligation_rules = tuple((e.trigger, e.discharge) for e in map(expectation, self.response_props))
        n = len(self.instances)
        self.nprocs = n
        # equal local states are shared and numbered per process (serials, in order of
        # first appearance): a world key holds serials, so keys hash and compare at C speed
        self._serial: list[dict[Any, int]] = [{} for _ in range(n)]
        self.states: list[list[Any]] = [[] for _ in range(n)]
        # what properties see of each state serial (the same list where observe is the identity)
        self.observed: list[list[Any]] = [
            self.states[i] if isinstance(impl, PythonProcess) else [] for i, impl in enumerate(self.impls)
        ]
        self.hashes: list[list[int]] = [[] for _ in range(n)]
        self.messages = MessageTable()
        # what properties see of each message serial (the table itself when transparent)
        self.msg_views: list[Message] = self.messages.msgs if self.transparent else []
        self.action_flags: dict[str, list[bool]] = {}  # Action -> per message serial: carries it (action_serials)
        self.knet: Any = serial_network_for(config.network, self.messages)  # SerialBag | SerialFifo
        self._dst: list[int] = []  # message serial -> index of its target (-1: the adversary)
        self._plain: list[tuple[Step, Step]] = []  # message serial -> (unhandled, lose) steps
        # per process: (state serial, message serial or -1, fault budget) -> outcomes
        self._memo: list[dict[tuple[int, int, int], tuple[_Outcome, ...]]] = [{} for _ in range(n)]
        self._ghost_memo: dict[tuple[Any, ...], tuple[tuple[Any, ...], ...]] = {}
        self._purity_left = PURITY_CHECKS
        self._injections = (
            [(step_kernel.injected(m), (self.message_serial(m),)) for m in self._adversary_messages()]
            if self.adversary
            else []
        )
        self._initiators = tuple(i for i, impl in enumerate(self.impls) if impl.initiatives())
        self._bag = isinstance(self.knet, SerialBag)  # inline its take (the hot path)
        self._frame = KeyFrame(self)
        self._view_class: type[KeyView] | None = None
        # --conform: steps that are not steps of the model, by id(step) -> why
        self.divergent: dict[int, str] = {}
        # properties that could not read an implementation's state (first reason each)
        self.unreadable: dict[str, str] = {}
        # findings an implementation reported on a step, by id(step)
        self.findings: dict[int, tuple[Finding, ...]] = {}
        self.conformance: Any = None
        if config.conform:
            from checker.model.conformance import Conformance

            self.conformance = Conformance(self)

    # -- construction -------------------------------------------------------------

    def initial(self) -> World:
        return self.world_of(self.initial_key())

    def initial_key(self) -> Key:
        """The key of the initial world."""
        procs = tuple(self.serial_of(i, p.init) for i, p in enumerate(self.instances))
        inj = self.config.adversary_messages if self.adversary else 0
        return procs + ((), tuple(() for _ in self.response_props), self.config.max_faults, inj)

    def view(self, world: World) -> WorldView:
        return WorldView(self, world)

    def handler_ids(self) -> list[str]:
        """Every handler and initiative of the system as ``kind:name`` (coverage keys)."""
        seen: dict[str, None] = {}
        for impl in self.impls:
            for name in impl.handler_names():
                seen[f"{impl.kind}:{name}"] = None
            for it in impl.initiatives():
                seen[f"{impl.kind}:{it.name}"] = None
        return list(seen)

    def kind_of(self, pid: str) -> str:
        i = self.index[pid]
        return ADVERSARY if i < 0 else self.impls[i].kind

    def observe(self, idx: int, state: Any) -> Any:
        """What properties see of ``state`` of process ``idx``."""
        return self.impls[idx].observe(state)

    def describe(self, idx: int, state: Any) -> Any:
        """``state`` of process ``idx`` as traces show it (its implementation's account)."""
        return self.impls[idx].describe_state(state)

    def observe_message(self, m: Message) -> Message:
        """What properties see of message ``m`` (as its sender's implementation says)."""
        i = self.index.get(m.src, -1)
        return m if i < 0 else self.impls[i].observe_message(m)

    # -- compact keys ---------------------------------------------------------------

    def serial_of(self, idx: int, state: Any) -> int:
        """The serial of a local state of process ``idx`` (numbered on first sight)."""
        table = self._serial[idx]
        s = table.get(state)
        if s is None:
            s = len(self.states[idx])
            table[state] = s
            self.states[idx].append(state)
            self.hashes[idx].append(hash(state))
            obs = self.observed[idx]
            if obs is not self.states[idx]:
                obs.append(self.impls[idx].observe(state))
        return s

    def message_serial(self, m: Message) -> int:
        """The serial of message ``m`` (numbered on first sight)."""
        table = self.messages
        s = table.serial.get(m)
        if s is None:
            s = table.add(m)
            if not self.transparent:
                self.msg_views.append(self.observe_message(m))
            self._dst.append(self.index.get(m.dst, -1))
            self._plain.append((step_kernel.ignored(m), step_kernel.lost(m)))
        return s

    def key_of(self, w: World) -> Key:
        """The compact key of ``w``: ``(state serial per process..., network of message
        serials, ghost, faults left, injections left)``. Equal worlds, equal keys."""
        procs = tuple(self.serial_of(i, p) for i, p in enumerate(w.procs))
        for m in self.net.messages(w.net):
            self.message_serial(m)
        return procs + (self.knet.from_world(w.net), w.ghost, w.faults_left, w.injections_left)

    def world_of(self, key: Key) -> World:
        """The world whose key is ``key``."""
        n = self.nprocs
        states, hashes = self.states, self.hashes
        procs = tuple([states[i][key[i]] for i in range(n)])
        phash = tuple([hashes[i][key[i]] for i in range(n)])
        return World(procs, self.knet.to_world(key[n]), key[n + 1], key[n + 2], key[n + 3], phash)

    # -- the step relation --------------------------------------------------------

    def successors(self, w: World) -> Iterator[tuple[Step, World]]:
        """Every ``(step, world)`` one atomic step from ``w``, in the order of the module docstring."""
        world_of = self.world_of
        for step, key in self.expand(self.key_of(w)):
            yield step, world_of(key)

    def kernel_expand(self, key: Key) -> Iterator[tuple[Step, Key]]:
        """The step kernel's ``expand`` over this semantics' ``KeyFrame``: the
        definition that ``expand`` specialises."""
        return step_kernel.expand(self._frame, key)

    def expand(self, key: Key) -> Iterator[tuple[Step, Key]]:
        """``successors`` over keys: every ``(step, key)`` one atomic step from ``key``.

        Exactly ``kernel_expand(key)`` (``tests/unit/test_step_kernel.py`` checks it step
        for step), with the ``KeyFrame`` methods written inline: the explorer's hot loop,
        where the kernel's generic calls per message cost about a quarter of its time.
        Every step object, outcome and rule comes from the kernel; only this loop over
        the four phases of ``step_kernel.expand`` is repeated here.
        """
        n = self.nprocs
        knet = self.knet
        net, ghost, faults_left, inj = key[n], key[n + 1], key[n + 2], key[n + 3]
        memo = self._memo
        dst = self._dst
        head = key[:n]
        for handle, ms in knet.deliverable(net):
            rest = net[:handle] + net[handle + 1 :] if self._bag else knet.take(net, handle)
            idx = dst[ms]
            if idx < 0:  # the adversary ignores what it receives
                yield self._plain[ms][0], head + (rest, ghost, faults_left, inj)
                continue
            s = key[idx]
            outs = memo[idx].get((s, ms, faults_left))
            if outs is None:
                outs = self._delivery_outcomes(idx, s, ms, faults_left)
                memo[idx][(s, ms, faults_left)] = outs
            for step, a, sends, fl, gops in outs:
                net2 = knet.put(rest, sends) if sends else rest
                g2 = self._ghost_after(ghost, gops) if gops else ghost
                if a == s:
                    yield step, head + (net2, g2, fl, inj)
                else:
                    yield step, key[:idx] + (a,) + key[idx + 1 : n] + (net2, g2, fl, inj)
        if self.loss and faults_left > 0:
            for handle, ms in knet.droppable(net):
                yield self._plain[ms][1], head + (knet.take(net, handle), ghost, faults_left - 1, inj)
        for idx in self._initiators:
            s = key[idx]
            outs = memo[idx].get((s, -1, faults_left))
            if outs is None:
                outs = self._initiative_outcomes(idx, s, faults_left)
                memo[idx][(s, -1, faults_left)] = outs
            for step, a, sends, fl, gops in outs:
                net2 = knet.put(net, sends) if sends else net
                g2 = self._ghost_after(ghost, gops) if gops else ghost
                yield step, key[:idx] + (a,) + key[idx + 1 : n] + (net2, g2, fl, inj)
        if inj > 0:
            for step, sends in self._injections:
                yield step, head + (knet.put(net, sends), ghost, faults_left, inj - 1)

    def key_view(self, key: Key) -> KeyView:
        """A ``KeyView`` of ``key`` whose process names are class attributes (faster than
        ``__getattr__``; for direct evaluation, not for ``CheckMemo`` recording)."""
        cls = self._view_class
        if cls is None:
            def reader(i: int) -> property:
                return property(lambda v: self.observed[i][v._key[i]])

            attrs: dict[str, Any] = {"__slots__": ()}
            attrs.update({pid: reader(i) for i, pid in enumerate(self.pids) if pid.isidentifier() and not hasattr(KeyView, pid)})
            cls = self._view_class = type("FastKeyView", (KeyView,), attrs)
        view: KeyView = cls(self, key)
        return view

    def steps(self) -> Iterator[Step]:
        """Every distinct step object ``expand`` has yielded so far (each once)."""
        for memo in self._memo:
            for outs in memo.values():
                for out in outs:
                    yield out[0]
        for pair in self._plain:
            yield from pair
        for step, _ in self._injections:
            yield step

    def outcomes(self, idx: int, s: int, ms: int, faults_left: int) -> tuple[_Outcome, ...]:
        """The memoised outcomes of delivering message ``ms`` (-1: running the initiatives) to
        process ``idx`` in state ``s`` with ``faults_left``, computed on a miss (``expand``
        inlines the same lookup)."""
        memo = self._memo[idx]
        outs = memo.get((s, ms, faults_left))
        if outs is None:
            outs = (self._delivery_outcomes(idx, s, ms, faults_left) if ms >= 0
                    else self._initiative_outcomes(idx, s, faults_left))
            memo[(s, ms, faults_left)] = outs
        return outs

    def _ghost_after(self, ghost: tuple[tuple[Any, ...], ...], gops: _GhostOps) -> tuple[tuple[Any, ...], ...]:
        hit = self._ghost_memo.get((ghost, gops))
        if hit is None:
            hit = apply_obligations(ghost, gops)
            self._ghost_memo[(ghost, gops)] = hit
        return hit

    def _delivery_outcomes(self, idx: int, s: int, ms: int, faults_left: int) -> tuple[_Outcome, ...]:
        """Every outcome of delivering message ``ms`` to process ``idx`` in state ``s``:
        one per execution path of the process implementation's ``deliver`` (the kernel's
        ``delivered``), then the kernel's ``handler-error`` step."""
        pid = self.pids[idx]
        msg = self.messages.msgs[ms]
        impl = self.impls[idx]
        before = self.states[idx][s]

        def one(ch: Chooser) -> Path:
            ctx = StepContext(self, pid, ch, faults_left)
            return delivered(pid, msg, impl.deliver(before, msg, ctx), ctx)

        h = impl.match(msg) if isinstance(impl, PythonProcess) else None
        paths = self._paths(one, "handler", h.name if h is not None else "?", pid, msg)
        if h is not None and self._purity_left > 0:
            self._purity_left -= 1
            self._same_again(paths, self._paths(one, "handler", h.name, pid, msg), "handler", h.name, pid, msg)
        ran = [p for _, p in paths]
        outs = [self._outcome(idx, s, ms, p) for p in ran]
        if self.conformance is not None:
            for out in outs:
                why = self.conformance.check(idx, out[0], before, self.states[idx][out[1]], out[0].sends, faults_left)
                if why is not None:
                    self.divergent[id(out[0])] = why
        outs += [self._outcome(idx, s, ms, p) for p in with_handler_error(ran, self.handler_error, faults_left, pid, msg)[len(ran):]]
        return tuple(outs)

    def _initiative_outcomes(self, idx: int, s: int, faults_left: int) -> tuple[_Outcome, ...]:
        """Every branch of every initiative of process ``idx`` in state ``s`` (the kernel's ``initiated``)."""
        pid = self.pids[idx]
        before = self.states[idx][s]
        outs: list[_Outcome] = []
        source = self.spec.source
        for it in self.impls[idx].initiatives():
            def one(ch: Chooser, fn: Any = it.fn, name: str = it.name) -> Path | None:
                return initiated(source, pid, name, fn, before, StepContext(self, pid, ch, faults_left))

            paths = self._paths(one, "initiative", it.name, pid, None)
            if self._purity_left > 0 and isinstance(self.impls[idx], PythonProcess):
                self._purity_left -= 1
                self._same_again(paths, self._paths(one, "initiative", it.name, pid, None), "initiative", it.name, pid, None)
            outs += [self._outcome(idx, s, -1, p) for _, p in paths if p is not None]
        return tuple(outs)

    def _paths(self, one: Any, what: str, name: str, pid: str, msg: Message | None) -> list[tuple[Chooser, Any]]:
        """``all_paths(one)``; a choice whose options change between re-executions is a spec error."""
        try:
            return all_paths(one)
        except InternalError as e:
            if "not deterministic" not in str(e):
                raise
            raise SpecError(_impure_text(self.spec.source, what, name, pid, msg, str(e))) from e

    def _same_again(self, first: list[tuple[Chooser, Any]], again: list[tuple[Chooser, Any]],
                    what: str, name: str, pid: str, msg: Message | None) -> None:
        """The purity check: a second execution gives the same paths with the same outcomes."""
        a = [(tuple(ch.taken), tuple(ch.arities), r) for ch, r in first]
        b = [(tuple(ch.taken), tuple(ch.arities), r) for ch, r in again]
        if a != b:
            why = (f"{len(a)} execution paths, then {len(b)}" if len(a) != len(b)
                   else next(f"first {x[2]!r}, then {y[2]!r}" for x, y in zip(a, b) if x != y))
            raise SpecError(_impure_text(self.spec.source, what, name, pid, msg, f"executed twice: {why}"))

    def _outcome(self, idx: int, s: int, ms: int, path: Path) -> _Outcome:
        """The outcome of one path of process ``idx`` in state ``s`` (on message ``ms``,
        -1 for an initiative): (step, serial of the new local state, serials of the
        sends, faults left, obligation changes). Outcomes depend only on (process, local
        state, message, fault budget): implementations are pure, so ``expand`` memoises
        them. A path's findings are recorded by its step."""
        step = path.step
        if path.findings:
            self.findings[id(step)] = path.findings
        if path.state is None:
            return (step, s, (), path.faults_left, ())
        a = self.serial_of(idx, path.state)
        send_serials = tuple(self.message_serial(m) for m in step.sends)
        gops: _GhostOps = ()
        if self.response_props:
            obs = self.observed[idx]
            views = self.msg_views
            info = StepInfo(self.pids[idx], step.kind, step.handler, None if ms < 0 else views[ms], obs[s], obs[a],
                            tuple(views[m] for m in send_serials))
            gops = self._obligation_changes(info)
        return (step, a, send_serials, path.faults_left, gops)

    def _obligation_changes(self, info: StepInfo) -> _GhostOps:
        """(property index, opened keys, closed keys) for each response property the step touches."""
        return step_kernel.obligation_changes(self.spec.source, self.response_props, self.obligation_rules, info,
                                              self.transparent)

    def _adversary_messages(self) -> list[Message]:
        """Every message the adversary may inject (the kernel's ``adversary_templates``:
        every tag value of every domain)."""
        targets = [(inst.pid, impl) for inst, impl in zip(self.instances, self.impls)]
        return [make_message(ADVERSARY, t.dst, t.action, t.fixed)
                for t in adversary_templates(self.spec.source, self.spec.actions, targets, self.domains, lambda _d: False)]


class KeyFrame:
    """``Semantics`` as a frame of the step kernel over compact world keys (the
    explorer's hot path): a message is its serial, a delivery's outcomes are memoised
    per (process, state serial, message serial, fault budget)."""

    __slots__ = ("sem", "n", "knet", "loss", "initiators", "injections", "_memo", "_dst", "_plain", "_bag")

    def __init__(self, sem: Semantics) -> None:
        self.sem = sem
        self.n = sem.nprocs
        self.knet = sem.knet
        self.loss = sem.loss
        self.initiators = sem._initiators
        self.injections = sem._injections
        self._memo = sem._memo
        self._dst = sem._dst
        self._plain = sem._plain
        self._bag = isinstance(sem.knet, SerialBag)  # inline its take

    def budgets(self, key: Key) -> tuple[int, int]:
        n = self.n
        return key[n + 2], key[n + 3]

    def deliverable(self, key: Key) -> Any:
        return self.knet.deliverable(key[self.n])

    def droppable(self, key: Key) -> Any:
        return self.knet.droppable(key[self.n])

    def deliveries(self, key: Key, handle: Any, ms: int) -> Iterator[tuple[Step, Key]]:
        n = self.n
        net = key[n]
        rest = net[:handle] + net[handle + 1 :] if self._bag else self.knet.take(net, handle)
        idx = self._dst[ms]
        if idx < 0:  # the adversary ignores what it receives
            yield self._plain[ms][0], key[:n] + (rest,) + key[n + 1 :]
            return
        ghost, faults_left, inj = key[n + 1], key[n + 2], key[n + 3]
        s = key[idx]
        outs = self.sem.outcomes(idx, s, ms, faults_left)
        put = self.knet.put
        for step, a, sends, fl, gops in outs:
            net2 = put(rest, sends) if sends else rest
            g2 = self.sem._ghost_after(ghost, gops) if gops else ghost
            if a == s:
                yield step, key[:n] + (net2, g2, fl, inj)
            else:
                yield step, key[:idx] + (a,) + key[idx + 1 : n] + (net2, g2, fl, inj)

    def lose(self, key: Key, handle: Any, ms: int) -> tuple[Step, Key]:
        n = self.n
        return self._plain[ms][1], key[:n] + (self.knet.take(key[n], handle), key[n + 1], key[n + 2] - 1, key[n + 3])

    def initiatives(self, key: Key, idx: int) -> Iterator[tuple[Step, Key]]:
        n = self.n
        net, ghost, faults_left, inj = key[n], key[n + 1], key[n + 2], key[n + 3]
        s = key[idx]
        outs = self.sem.outcomes(idx, s, -1, faults_left)
        put = self.knet.put
        for step, a, sends, fl, gops in outs:
            net2 = put(net, sends) if sends else net
            g2 = self.sem._ghost_after(ghost, gops) if gops else ghost
            yield step, key[:idx] + (a,) + key[idx + 1 : n] + (net2, g2, fl, inj)

    def inject(self, key: Key, injection: tuple[Step, tuple[int, ...]]) -> tuple[Step, Key]:
        n = self.n
        step, sends = injection
        return step, key[:n] + (self.knet.put(key[n], sends), key[n + 1], key[n + 2], key[n + 3] - 1)


def _impure_text(source: str, what: str, name: str, pid: str, msg: Message | None, why: str) -> str:
    on = f" on message {msg.describe()}" if msg is not None else ""
    return (f"{source}: {what} {name!r} of {pid} is not a pure function of (state, message, ctx){on}: {why}; "
            "a handler must not use random, the clock or mutable globals (make every choice through ctx)")


def _apply_obligations(ghost: tuple[tuple[Any, ...], ...], changes: _GhostOps) -> tuple[tuple[Any, ...], ...]:
    """Close then open obligations (the kernel's ``apply_obligations``, keys as they compare)."""
    return apply_obligations(ghost, changes)


def _selected(p: Property, config: CheckConfig) -> bool:
    return config.properties is None or p.name in config.properties
