"""AO execution semantics over a built spec: worlds, steps and successors.

``Semantics`` is the one interpretation of a spec that every concrete engine (explore,
replay, simulate) shares. A ``World`` is the whole system: every process's local state,
the messages in flight, the open obligations of response properties, and the remaining
fault and adversary budgets. ``successors(world)`` yields every ``(Step, World)`` one
atomic step away, in a deterministic order:

1. delivery of each deliverable message to its target (one step per branch of the
   matching handler; an unmatched message goes to the Inbox and changes nothing; a
   handler that calls ``ctx.error`` changes nothing and sends nothing);
2. ``handler-error`` (fault): the delivery happens but its effects are discarded;
3. ``loss`` (fault): a message in flight disappears;
4. initiatives (a user sending its next request);
5. ``adversary`` injections.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.choices import Chooser, all_paths
from checker.config import CheckConfig
from checker.errors import HandlerError, SpecError
from checker.network import network_for
from checker.spec import Handler, ProcessInstance, Property, Spec, StepInfo
from checker.values import Message, make_message

ADVERSARY = "adversary"


@dataclass(frozen=True, slots=True, eq=False)
class World:
    """A global state: local states (system order), network, obligations, budgets.

    Hashed once at construction (worlds are keys of the visited set). ``phash`` holds
    the content hash of each local state; leave it empty and it is computed, or pass
    the parent's hashes with the changed one replaced (the explorer's fast path).
    """

    procs: tuple[Any, ...]
    net: tuple[Any, ...]
    ghost: tuple[tuple[Any, ...], ...]
    faults_left: int
    injections_left: int
    phash: tuple[int, ...] = field(default=(), repr=False)
    _h: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        ph = self.phash or tuple(map(hash, self.procs))
        object.__setattr__(self, "phash", ph)
        object.__setattr__(self, "_h", hash((ph, self.net, self.ghost, self.faults_left, self.injections_left)))

    def __hash__(self) -> int:
        return self._h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, World):
            return NotImplemented
        return (
            self._h == other._h
            and self.phash == other.phash
            and self.net == other.net
            and self.ghost == other.ghost
            and self.faults_left == other.faults_left
            and self.injections_left == other.injections_left
            and self.procs == other.procs
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One atomic step. ``kind`` is deliver | error | unhandled | handler-error | lose |
    initiative | inject. ``choices`` are the (label, value) picks taken inside it."""

    kind: str
    pid: str
    handler: str | None
    msg: Message | None
    choices: tuple[tuple[str, Any], ...]
    sends: tuple[Message, ...]
    reason: str | None = None

    def key(self) -> tuple[Any, ...]:
        """What identifies the step when a trace is replayed."""
        return (self.kind, self.pid, self.handler, self.msg, self.choices)


# (step, new local state, its hash, sends, faults left, obligation changes)
_Outcome = tuple[Step, Any, int, tuple[Message, ...], int, tuple[tuple[int, tuple[Any, ...], tuple[Any, ...]], ...]]


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

    def reply(self, msg: Message, action: str, **tags: Any) -> None:
        self.send(msg.src, action, **tags)

    def fault(self, name: str) -> bool:
        sem = self._sem
        if name not in sem.spec.faults:
            raise SpecError(f"{sem.spec.source}: ctx.fault({name!r}) names an undeclared fault; declare it in the spec's faults")
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


class View:
    """Read-only access to a world for properties: ``w.token``, ``w["user1"]``, ..."""

    __slots__ = ("_w", "_sem")

    def __init__(self, sem: Semantics, world: World) -> None:
        self._w = world
        self._sem = sem

    def __getattr__(self, name: str) -> Any:
        idx = self._sem.index.get(name)
        if idx is None:
            raise AttributeError(f"no process {name!r} (processes: {', '.join(self._sem.index)})")
        return self._w.procs[idx]

    __getitem__ = __getattr__

    def of_kind(self, kind: str) -> tuple[Any, ...]:
        """Local states of every process of ``kind``, in system order."""
        idx = self._sem.index
        return tuple(self._w.procs[idx[p]] for p in self._sem.pids_of_kind.get(kind, ()))

    @property
    def in_flight(self) -> tuple[Message, ...]:
        msgs: tuple[Message, ...] = self._sem.net.messages(self._w.net)
        return msgs

    @property
    def quiescent(self) -> bool:
        return not self._w.net

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


class Semantics:
    """The step relation of one spec under one ``CheckConfig``."""

    def __init__(self, spec: Spec, config: CheckConfig) -> None:
        self.spec = spec
        self.config = config
        params = config.params
        self.instances: tuple[ProcessInstance, ...] = tuple(spec.build(params))
        self.pids = tuple(p.pid for p in self.instances)
        self.index = {pid: i for i, pid in enumerate(self.pids)}
        kinds: dict[str, list[str]] = {}
        for inst in self.instances:
            kinds.setdefault(inst.decl.kind, []).append(inst.pid)
        self.adversary = "adversary" in config.faults
        if self.adversary:
            self.index[ADVERSARY] = -1
        self.pids_of_kind = {k: tuple(v) for k, v in kinds.items()}
        self.domains = dict(spec.domains(params))
        self.action_names = frozenset(a.name for a in spec.actions)
        self.net: Any = network_for(config.network)
        self.loss = "loss" in config.faults
        self.handler_error = "handler-error" in config.faults
        self.response_props: tuple[Property, ...] = tuple(
            p for p in spec.properties if p.kind == "response" and _selected(p, config)
        )
        # aos: handlers are tried in list order; index them by Action for speed.
        self._handlers: list[dict[str, list[Handler]]] = []
        for inst in self.instances:
            by_action: dict[str, list[Handler]] = {}
            for h in inst.decl.handlers:
                by_action.setdefault(h.action, []).append(h)
            self._handlers.append(by_action)
        self._injections = self._adversary_messages() if self.adversary else []
        # equal local states are shared: saves memory and makes world equality cheap
        self._intern: list[dict[Any, tuple[Any, int]]] = [{} for _ in self.instances]
        # (process, id(local state), message or None, fault budget) -> (state, outcomes);
        # the entry keeps the state alive, so its id cannot be reused while cached
        self._memo: dict[tuple[Any, ...], tuple[Any, tuple[_Outcome, ...]]] = {}

    # -- construction -------------------------------------------------------------

    def initial(self) -> World:
        return World(
            procs=tuple(self._interned(i, p.init)[0] for i, p in enumerate(self.instances)),
            net=self.net.empty(),
            ghost=tuple(() for _ in self.response_props),
            faults_left=self.config.max_faults,
            injections_left=self.config.adversary_messages if self.adversary else 0,
        )

    def view(self, world: World) -> View:
        return View(self, world)

    def handler_ids(self) -> list[str]:
        """Every handler and initiative of the system as ``kind:name`` (coverage keys)."""
        seen: dict[str, None] = {}
        for inst in self.instances:
            for h in inst.decl.handlers:
                seen[f"{inst.decl.kind}:{h.name}"] = None
            for it in inst.decl.initiatives:
                seen[f"{inst.decl.kind}:{it.name}"] = None
        return list(seen)

    def kind_of(self, pid: str) -> str:
        i = self.index[pid]
        return ADVERSARY if i < 0 else self.instances[i].decl.kind

    def match(self, idx: int, msg: Message) -> Handler | None:
        """The first handler of process ``idx`` whose pattern matches ``msg``."""
        for h in self._handlers[idx].get(msg.action, ()):
            if h.sender is None or h.sender == msg.src:
                return h
        return None

    # -- the step relation --------------------------------------------------------

    def successors(self, w: World) -> Iterator[tuple[Step, World]]:
        net = self.net
        procs = w.procs
        memo = self._memo
        for handle, msg in net.deliverable(w.net):
            rest = net.take(w.net, handle)
            idx = self.index[msg.dst]
            if idx < 0:  # the adversary ignores what it receives
                yield Step("unhandled", msg.dst, None, msg, (), ()), _w(w, procs, rest)
                continue
            before = procs[idx]
            key = (idx, id(before), msg, w.faults_left)
            entry = memo.get(key)
            if entry is None:
                entry = (before, self._delivery_outcomes(idx, before, msg, w.faults_left))
                memo[key] = entry
            for out in entry[1]:
                yield out[0], self._world(w, idx, out, rest)
        if self.loss and w.faults_left > 0:
            for handle, msg in net.droppable(w.net):
                yield (
                    Step("lose", msg.dst, None, msg, (), ()),
                    World(procs, net.take(w.net, handle), w.ghost, w.faults_left - 1, w.injections_left, w.phash),
                )
        for idx, inst in enumerate(self.instances):
            if not inst.decl.initiatives:
                continue
            before = procs[idx]
            key = (idx, id(before), None, w.faults_left)
            entry = memo.get(key)
            if entry is None:
                outs: list[_Outcome] = []
                for it in inst.decl.initiatives:
                    outs.extend(self._outcomes(idx, it.name, it.fn, before, None, w.faults_left))
                entry = (before, tuple(outs))
                memo[key] = entry
            for out in entry[1]:
                yield out[0], self._world(w, idx, out, w.net)
        if w.injections_left > 0:
            for m in self._injections:
                yield (
                    Step("inject", ADVERSARY, None, None, (), (m,)),
                    World(procs, net.put(w.net, (m,)), w.ghost, w.faults_left, w.injections_left - 1, w.phash),
                )

    def _delivery_outcomes(self, idx: int, before: Any, msg: Message, faults_left: int) -> tuple[_Outcome, ...]:
        """Every outcome of delivering ``msg`` to process ``idx`` in local state ``before``."""
        pid = self.pids[idx]
        h = self.match(idx, msg)
        if h is None:  # aos: no handler matched, the message goes to the Inbox
            return ((Step("unhandled", pid, None, msg, (), ()), before, 0, (), faults_left, ()),)
        outs = self._outcomes(idx, h.name, h.fn, before, msg, faults_left)
        if self.handler_error and faults_left > 0:
            outs.append((Step("handler-error", pid, h.name, msg, (), ()), before, 0, (), faults_left - 1, ()))
        return tuple(outs)

    def _outcomes(
        self, idx: int, name: str, fn: Any, before: Any, msg: Message | None, faults_left: int
    ) -> list[_Outcome]:
        """Every branch of one handler or initiative, as outcomes ready to apply.

        An outcome is (step, interned new local state, its hash, sends, faults left,
        obligation changes). Outcomes depend only on (process, local state, message,
        fault budget), so ``successors`` memoises them.
        """
        pid = self.pids[idx]
        kind = "deliver" if msg is not None else "initiative"

        def one(ch: Chooser) -> tuple[str, Any, StepContext]:
            ctx = StepContext(self, pid, ch, faults_left)
            try:
                return "ok", (fn(before, ctx) if msg is None else fn(before, msg, ctx)), ctx
            except HandlerError as e:
                return "error", e.reason, ctx

        outs: list[_Outcome] = []
        for _, (status, value, ctx) in all_paths(one):
            choices = tuple(ctx.choices)
            if status == "error":
                outs.append((Step("error", pid, name, msg, choices, (), value), before, 0, (), ctx.faults_left, ()))
                continue
            if value is None:
                if msg is None:
                    continue  # initiative not enabled
                raise SpecError(f"{self.spec.source}: handler {name!r} of {pid} returned None; return the new state")
            if type(value) is not type(before):
                raise SpecError(
                    f"{self.spec.source}: {kind} {name!r} of {pid} returned a {type(value).__name__}, "
                    f"expected its state type {type(before).__name__}"
                )
            sends = tuple(ctx.sends)
            step = Step(kind, pid, name, msg, choices, sends)
            after, ahash = self._interned(idx, value)
            gops = self._obligation_changes(StepInfo(pid, kind, name, msg, before, after, sends))
            outs.append((step, after, ahash, sends, ctx.faults_left, gops))
        return outs

    def intern_state(self, idx: int, state: Any) -> tuple[Any, int]:
        """The shared copy of a local state of process ``idx`` and its hash."""
        return self._interned(idx, state)

    def _interned(self, idx: int, state: Any) -> tuple[Any, int]:
        """The shared copy of a local state of process ``idx`` and its hash."""
        table = self._intern[idx]
        entry = table.get(state)
        if entry is None:
            entry = (state, hash(state))
            table[state] = entry
        return entry

    def _world(self, w: World, idx: int, out: _Outcome, net: tuple[Any, ...]) -> World:
        """The world after applying outcome ``out`` of process ``idx`` to ``w``."""
        _, after, ahash, sends, faults_left, gops = out
        if after is w.procs[idx]:
            procs, phash = w.procs, w.phash
        else:
            procs = w.procs[:idx] + (after,) + w.procs[idx + 1 :]
            phash = w.phash[:idx] + (ahash,) + w.phash[idx + 1 :]
        if sends:
            net = self.net.put(net, sends)
        ghost = _apply_obligations(w.ghost, gops) if gops else w.ghost
        return World(procs, net, ghost, faults_left, w.injections_left, phash)

    def _obligation_changes(self, info: StepInfo) -> tuple[tuple[int, tuple[Any, ...], tuple[Any, ...]], ...]:
        """(property index, opened keys, closed keys) for each response property the step touches."""
        out = []
        for i, p in enumerate(self.response_props):
            opened = tuple(p.trigger(info)) if p.trigger else ()
            closed = tuple(p.discharge(info)) if p.discharge else ()
            if opened or closed:
                out.append((i, opened, closed))
        return tuple(out)

    def _adversary_messages(self) -> list[Message]:
        """Every message the adversary may inject: any declared Action to any process
        that handles it, with every combination of tag values from the tag domains."""
        out: list[Message] = []
        for a in self.spec.actions:
            targets = [inst.pid for i, inst in enumerate(self.instances) if a.name in self._handlers[i]]
            combos: list[dict[str, Any]] = [{}]
            for tag, dom in a.tags:
                if dom not in self.domains:
                    raise SpecError(f"{self.spec.source}: Action {a.name} tag {tag} uses unknown domain {dom!r}")
                combos = [{**c, tag: v} for c in combos for v in self.domains[dom]]
            for dst in targets:
                for c in combos:
                    out.append(make_message(ADVERSARY, dst, a.name, c))
        return out


def _apply_obligations(
    ghost: tuple[tuple[Any, ...], ...], changes: tuple[tuple[int, tuple[Any, ...], tuple[Any, ...]], ...]
) -> tuple[tuple[Any, ...], ...]:
    """Close then open obligations (each ghost entry is a sorted multiset of keys)."""
    out = list(ghost)
    for i, opened, closed in changes:
        keys = list(out[i])
        for k in closed:
            if k in keys:
                keys.remove(k)
        keys.extend(opened)
        out[i] = tuple(sorted(keys))
    return tuple(out)


def _w(w: World, procs: tuple[Any, ...], net: tuple[Any, ...]) -> World:
    return World(procs, net, w.ghost, w.faults_left, w.injections_left, w.phash)


def _selected(p: Property, config: CheckConfig) -> bool:
    return config.properties is None or p.name in config.properties
