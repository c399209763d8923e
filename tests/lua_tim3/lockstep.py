"""Lockstep of the TIM3 Lua processes with the Python model, driven straight on the
aos runtime (``checker.ao.runtime.AoProcess``), independently of the engines' adapter.

``LuaTim3`` loads the four Lua processes of one coordinator version and boots them with
``lua_observe.boot_messages``. ``Lockstep`` walks the model's worlds breadth first (the
model's own ``Semantics``) and, for every delivery the model makes to the coordinator or
a manager, delivers the same message to a Lua state whose observation is the model's
state before, with ``Checker.fault`` answering the model's fault choices, and checks:

* the same handler ran (or none: Inbox), it raised exactly when the model's did;
* the observed Lua state after equals the model's next state (``lua_observe``: exact,
  absent entries and ints included);
* the Lua sends, abstracted (``observe_send``), equal the model's sends, in order;
* the Lua asked ``Checker.fault`` for the model's faults, at the same points, in order.

``probe`` then delivers every message of a universe (every message the walk delivered
to the process, and everything the adversary may send it) in every reachable local
state, comparing each branch of the model's handler with the Lua's: per-process
refinement over all reachable states, not just the states the walk paired them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.ao.runtime import AoMessage, AoProcess, Outcome
from checker.model.choices import Chooser, all_paths
from checker.config import CheckConfig
from checker.model.semantics import Semantics, StepContext, World
from checker.model.values import Message
from spec.tim3 import SPEC
from spec.tim3.lua_observe import OBSERVERS, ObserveError, boot_messages, lua_file, model_tags, observe_send

OWNER = "owner"
LUA_PIDS = ("coordinator", "lock", "token", "state")
REQUESTS = ("MintTIM3", "BurnTIM3")  # user requests: the AO message Id is the Request tag


class Divergence(AssertionError):
    """A Lua step that is not the model's step."""


class LuaTim3:
    """The four Lua processes of coordinator ``version``, loaded and booted."""

    def __init__(self, version: str, params: Any, files: Mapping[str, Path] | None = None) -> None:
        keys = {"coordinator": version, "lock": "lock", "token": "token", "state": "state"}
        paths = {pid: (files or {}).get(pid) or lua_file(key) for pid, key in keys.items()}
        self.procs = {pid: AoProcess(pid, [path], owner=OWNER) for pid, path in paths.items()}
        self.booted: dict[str, Any] = {}
        self.serial = 0
        for pid, msgs in boot_messages(params).items():
            state = self.procs[pid].initial
            for i, tags in enumerate(msgs):
                out = self.procs[pid].deliver(state, AoMessage(f"boot:{pid}:{i}", OWNER, pid, tags, owner=OWNER))
                assert out.error is None and out.handlers, f"boot of {pid}: {tags} -> {out.error}"
                state = out.state
            self.booted[pid] = state

    def ao_message(self, msg: Message) -> AoMessage:
        """The model's message as the Lua process receives it: string tags (Lua's
        tostring), the Request tag as the Id of a user's request."""
        if msg.action in REQUESTS:
            mid = str(msg["Request"])
        else:
            self.serial += 1
            mid = f"m{self.serial}"
        return AoMessage(mid, msg.src, msg.dst, model_tags(msg), owner=msg.src)

    def deliver(self, state: Any, msg: Message, hooks: Any) -> Outcome:
        return self.procs[msg.dst].deliver(state, self.ao_message(msg), hooks)


class FaultReplay:
    """``Checker.fault`` answering the model's choices, in order; records every ask."""

    def __init__(self, choices: tuple[tuple[str, Any], ...], live: frozenset[str]) -> None:
        self.queue = list(choices)
        self.live = live
        self.asked: list[str] = []
        self.unexpected: list[str] = []  # live faults the Lua asked where the model does not

    def fault(self, name: str) -> bool:
        self.asked.append(name)
        if self.queue and self.queue[0][0] == name:
            return bool(self.queue.pop(0)[1])
        if name in self.live:
            self.unexpected.append(name)
        return False


@dataclass
class ModelStep:
    kind: str  # deliver | error | unhandled
    handler: str | None
    after: Any
    sends: tuple[Message, ...]
    choices: tuple[tuple[str, Any], ...]


def model_paths(sem: Semantics, state: Any, msg: Message, faults_left: int) -> list[ModelStep]:
    """Every branch of the model's delivery of ``msg`` to ``msg.dst`` in ``state``."""
    impl = sem.impls[sem.index[msg.dst]]  # the model's PythonProcess

    def one(ch: Chooser) -> ModelStep:
        ctx = StepContext(sem, msg.dst, ch, faults_left)
        d = impl.deliver(state, msg, ctx)
        choices = tuple(ctx.choices)
        if d.handler is None:
            return ModelStep("unhandled", None, state, (), choices)
        if d.error is not None:
            return ModelStep("error", d.handler, state, (), choices)
        return ModelStep("deliver", d.handler, d.state, tuple(ctx.sends), choices)

    return [r for _, r in all_paths(one)]


@dataclass
class Lockstep:
    """A lockstep run of one scenario (see the module docstring)."""

    version: str
    config: CheckConfig
    files: Mapping[str, Path] | None = None  # per process id, a Lua file instead of the shipped one
    sem: Semantics = field(init=False)
    lua: LuaTim3 = field(init=False)
    # per process: model local state -> a Lua snapshot observed as that state
    reps: dict[str, dict[Any, Any]] = field(init=False)
    # (pid, kind, handler) of every step compared, and the fault choices taken
    covered: set[tuple[str, str, str | None]] = field(default_factory=set)
    faults_seen: set[tuple[str, bool]] = field(default_factory=set)
    delivered: dict[str, set[Message]] = field(default_factory=dict)
    # model states reached by two different Lua snapshots (state the abstraction drops)
    aliases: set[tuple[str, Any]] = field(default_factory=set)
    compared: int = 0
    worlds: int = 0

    def __post_init__(self) -> None:
        self.sem = Semantics(SPEC, self.config)
        self.lua = LuaTim3(self.version, self.config.params, self.files)
        w0 = self.sem.initial()
        self.reps = {}
        for pid in LUA_PIDS:
            model = w0.procs[self.sem.index[pid]]
            lua = OBSERVERS[pid](self.lua.booted[pid].decode())
            if lua != model:
                raise Divergence(f"{pid} after boot: Lua {lua}, model {model}")
            self.reps[pid] = {model: self.lua.booted[pid]}
            self.delivered[pid] = set()

    def live_faults(self, faults_left: int) -> frozenset[str]:
        return frozenset(self.config.faults) & frozenset(SPEC.faults) if faults_left > 0 else frozenset()

    def compare(self, before: Any, msg: Message, step: ModelStep, faults_left: int) -> None:
        """Deliver ``msg`` to the Lua representative of the model state ``before`` along
        the model's branch ``step``, and check the outcome is the model's."""
        pid = msg.dst
        snap = self.reps[pid][before]
        hooks = FaultReplay(step.choices, self.live_faults(faults_left))
        out = self.lua.deliver(snap, msg, hooks)
        where = f"{pid} in {before} on {msg.describe()} (model branch {step.choices})"
        if out.reads:  # a field of the message the Lua reads that the model's message lacks
            raise Divergence(f"{where}: the Lua read absent message fields {out.reads}")
        if hooks.unexpected:
            raise Divergence(f"{where}: the Lua asks Checker.fault for {hooks.unexpected} where the model does not")
        if hooks.queue:
            raise Divergence(f"{where}: the Lua never asked for the model's fault choices {hooks.queue} (asked {hooks.asked})")
        ran = out.handlers[0].name if out.handlers else None
        if step.kind == "unhandled":
            if ran is not None or out.error is not None:
                raise Divergence(f"{where}: the model takes no handler (Inbox), the Lua ran {ran} (error {out.error})")
        elif ran != step.handler and not (out.error is not None and getattr(out.error, "handler", None) == step.handler):
            raise Divergence(f"{where}: the model runs {step.handler}, the Lua {ran}")
        if step.kind == "error":
            if out.error is None:
                raise Divergence(f"{where}: the model's handler raises, the Lua's does not")
        elif out.error is not None:
            raise Divergence(f"{where}: the Lua raised {out.error.message} at {out.error.where}, the model does not")
        try:
            after = OBSERVERS[pid](out.state.decode())
            sends = tuple(observe_send(pid, s.target, s.tags) for s in out.sends) if step.kind == "deliver" else ()
        except ObserveError as e:
            raise Divergence(f"{where}: {e}") from e
        if after != step.after:
            raise Divergence(f"{where}: Lua state after {after}, model {step.after}")
        if step.kind != "deliver" and out.sends:
            raise Divergence(f"{where}: nothing may be sent on {step.kind}, the Lua sent {out.sends}")
        if sends != step.sends:
            raise Divergence(f"{where}: Lua sent {sends}, model {step.sends}")
        rep = self.reps[pid].setdefault(step.after, out.state)
        if rep != out.state:  # the same model state, two different Lua states: hidden state
            self.aliases.add((pid, step.after))
        self.covered.add((pid, step.kind, step.handler))
        self.faults_seen.update((n, bool(v)) for n, v in step.choices)
        self.compared += 1

    def walk(self, max_worlds: int = 200_000) -> Lockstep:
        """Breadth first over the model's worlds; compare every delivery to a Lua process
        (each distinct (process state, message, branch) once)."""
        sem = self.sem
        w0 = sem.initial()
        seen = {sem.key_of(w0)}
        frontier: list[World] = [w0]
        done: set[tuple[str, Any, Message, tuple[tuple[str, Any], ...]]] = set()
        while frontier:
            nxt: list[World] = []
            for w in frontier:
                for step, w2 in sem.successors(w):
                    if step.pid in self.reps and step.kind in ("deliver", "error", "unhandled") and step.msg is not None:
                        idx = sem.index[step.pid]
                        before = w.procs[idx]
                        key = (step.pid, before, step.msg, step.choices)
                        self.delivered[step.pid].add(step.msg)
                        if key not in done:
                            done.add(key)
                            ms = ModelStep(step.kind, step.handler, w2.procs[idx], step.sends, step.choices)
                            self.compare(before, step.msg, ms, w.faults_left)
                    k = sem.key_of(w2)
                    if k not in seen:
                        seen.add(k)
                        nxt.append(w2)
                        if len(seen) > max_worlds:
                            raise AssertionError(f"scenario too large for a lockstep test (> {max_worlds} worlds)")
            frontier = nxt
        self.worlds = len(seen)
        return self

    def probe(self, extra: Iterable[Message] = ()) -> Lockstep:
        """Every message of the universe (see the module docstring) in every reachable
        local state of every Lua process, along every branch of the model."""
        universe = {pid: set(ms) for pid, ms in self.delivered.items()}
        for m in [*self.sem._adversary_messages(), *extra]:
            if m.dst in universe:
                universe[m.dst].add(m)
        budget = self.config.max_faults
        for pid in LUA_PIDS:
            for before in list(self.reps[pid]):
                for msg in sorted(universe[pid], key=repr):
                    for step in model_paths(self.sem, before, msg, budget):
                        self.compare(before, msg, step, budget)
        return self
