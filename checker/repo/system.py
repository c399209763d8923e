"""A manifest (``tim3check.toml``) as a ``Spec``: a team's Lua system, checked like a model.

``system_spec(manifest)`` builds, for each scenario:

* every process as a ``LuaProcess`` on this project's aos runtime, its files loaded in
  order, then booted: the manifest's boot messages are delivered in order from the
  owner, and what they send between processes is delivered too (first in, first out)
  until nothing is left; messages to wallets and sinks at boot are dropped;
* every wallet as a ``WalletProcess``, every sink as a ``SinkProcess``, the adversary
  (when enabled) as an ``AdversaryProcess`` sending any Action a handler pattern names;
* the manifest's properties over observables (Lua expressions evaluated in one
  process's globals), the built-in ``stall`` property, and findings from execution
  (``checker.ao.impl.FindingRules``: contract mismatches, unhandled messages, Lua
  runtime errors, untrusted changes, value hazards, order dependence).

Scenario parameters: ``ops`` (operations per wallet), ``wallets`` (how many of the
listed wallets take part) and ``aos`` (the runtime variant).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.ao.impl import FindingRules, LuaProcess, lua_tonumber
from checker.ao.runtime import AoMessage, AoProcess
from checker.ao.snapshot import Snapshot
from checker.errors import SpecError
from checker.manifest.expr import evaluate
from checker.manifest.schema import AOS_VARIANTS, Manifest, PropertySpec
from checker.repo.wallet import AdversaryProcess, SinkProcess, Template, WalletProcess, WalletState
from checker.model.spec import Param, Params, ProcessInstance, Property, PropertyKind, Spec, StepInfo
from checker.model.values import FrozenMap


@dataclass(frozen=True, slots=True)
class Observed:
    """What properties see of a Lua process: its observables' values by name."""

    values: FrozenMap[str, Any]


def system_spec(manifest: Manifest) -> Spec:
    """The ``Spec`` of the system ``manifest`` describes (see the module docstring)."""
    m = manifest
    params = (
        Param("ops", "int", m.wallets.ops, "operations per wallet", minimum=0),
        Param("wallets", "int", len(m.wallets.ids), f"wallets taking part (of {', '.join(m.wallets.ids)})",
              minimum=1),
        Param("aos", "str", m.system.aos, "aos behaviour the runtime follows", choices=AOS_VARIANTS),
    )
    by_pid = {o.process_id: [x for x in m.observables if x.process_id == o.process_id] for o in m.observables}
    where_of = {o.name: o.process_id for o in m.observables}

    def build(p: Params) -> tuple[ProcessInstance, ...]:
        return _build(m, p, by_pid)

    def resolve(p: Params) -> Params:
        if p["wallets"] > len(m.wallets.ids):
            raise SpecError(f"{m.path}: wallets = {p['wallets']}, but the manifest lists only {len(m.wallets.ids)}")
        return p

    props = tuple(_property(ps, where_of) for ps in m.properties) + (_STALL,)
    return Spec(
        name=m.system.name,
        source=str(m.path),
        actions=(),
        params=params,
        faults=dict(m.faults),
        process_decls=(),
        build=build,
        domains=lambda p: {},
        properties=props,
        resolve=resolve,
        describe=lambda p: f"{m.system.name}: {p['wallets']} wallets, {p['ops']} ops each, aos {p['aos']}",
        symmetric_kinds=(),
        option_defaults=_option_defaults(m),
    )


def _option_defaults(m: Manifest) -> dict[str, Any]:
    """The manifest's ``[limits]`` as defaults of the command line's options."""
    lim = m.limits
    out: dict[str, Any] = {"network": lim.network}
    for name, value in (("max_depth", lim.max_depth), ("max_states", lim.max_states), ("timeout", lim.timeout),
                        ("max_memory", lim.max_memory_mb), ("max_faults", lim.max_faults)):
        if value is not None:
            out[name] = value
    if lim.faults:
        out["faults"] = tuple(lim.faults)
    return out


# ------------------------------------------------------------------ building a scenario


def _build(m: Manifest, p: Params, observables: Mapping[str, Sequence[Any]]) -> tuple[ProcessInstance, ...]:
    wallets = m.wallets.ids[: p["wallets"]]
    system = frozenset(x.id for x in m.processes)
    runtimes = {x.id: AoProcess(x.id, x.files, owner=m.system.owner, spawn_tags=x.tags, variant=str(p["aos"]))
                for x in m.processes}
    states = _boot(m, runtimes)

    def trusted(pid: str) -> Any:
        name = next(x.name for x in m.processes if x.id == pid)

        def rule(action: str, sender: str) -> bool | None:
            r = m.trust_for(name, action)
            return None if r is None else r.trusts(sender)

        return rule

    scans = {x.id: _scan(x.files) for x in m.processes}
    out: list[ProcessInstance] = []
    for x in m.processes:
        rt = runtimes[x.id]
        obs = tuple(observables.get(x.id, ()))
        impl = LuaProcess(
            x.name, f"{x.name} (Lua)", rt,
            observer=_observer(rt, obs),
            handled=scans[x.id].handled,
            handler_names=scans[x.id].names,
            findings=FindingRules(system, trusted(x.id), order=True, comparisons=_comparisons(x.files),
                                  handler_lines=scans[x.id].lines(x.files)),
            root=m.root,
            hop_ms=m.time.hop_ms if (m.time.hop_ms or m.time.op_interval_ms) else None,
        )
        out.append(ProcessInstance(x.id, impl, states[x.id]))
    for w in wallets:
        templates = [Template(f"{i.operation} {' '.join(v for _, v in i.binding)}".strip(), i.operation, i.target_id,
                              i.tags, i.data)
                     for op in m.wallets.operations for i in op.for_wallet(w)]
        impl_w = WalletProcess(w, templates, int(p["ops"]), m.wallets.wait, m.wallets.answer.actions,
                               m.wallets.answer.correlate, m.time.op_interval_ms)
        out.append(ProcessInstance(w, impl_w, impl_w.initial()))
    for s in m.sinks:
        sink = SinkProcess()
        out.append(ProcessInstance(s.id, sink, sink.initial()))
    if m.adversary is not None:
        adv = AdversaryProcess(m.adversary.id, _adversary_templates(m, scans), m.adversary.budget)
        out.append(ProcessInstance(m.adversary.id, adv, adv.initial()))
    return tuple(out)


def _boot(m: Manifest, runtimes: Mapping[str, AoProcess]) -> dict[str, Snapshot]:
    """Every process's state after the boot messages and what they cause (FIFO)."""
    states = {pid: rt.initial for pid, rt in runtimes.items()}
    queue: list[tuple[AoMessage, str]] = []
    for i, b in enumerate(m.boot):
        queue.append((AoMessage(id=f"boot#{i}", src=b.sender, dst=b.target_id, tags=b.tags, data=b.data,
                                owner=b.sender), f"boot message {b.entry + 1} ({dict(b.tags).get('Action', '?')} to {b.target})"))
    steps = 0
    while queue:
        msg, what = queue.pop(0)
        steps += 1
        if steps > 10_000:
            raise SpecError(f"{m.path}: boot does not settle (over 10,000 messages); check the boot messages")
        rt = runtimes.get(msg.dst)
        if rt is None:
            continue  # to a wallet or a sink: dropped at boot
        out = rt.deliver(states[msg.dst], msg)
        if out.error is not None:
            raise SpecError(f"{m.path}: {what} raised at {out.error.where}: {out.error.message}; fix the boot message "
                            "or the handler")
        if out.inbox and msg.src == m.system.owner:
            raise SpecError(f"{m.path}: {what} matched no handler of {msg.dst}; fix its Action or tags")
        states[msg.dst] = out.state
        for s in out.sends:
            tags = tuple((k, str(v)) for k, v in s.tags)
            queue.append((AoMessage(id=s.id, src=msg.dst, dst=s.target, tags=tags, data=s.data, owner=msg.dst),
                          f"a message {msg.dst} sent at boot ({s.where})"))
    return states


def _observer(rt: AoProcess, observables: Sequence[Any]) -> Any:
    def observe(snap: Snapshot) -> Observed:
        values: dict[str, Any] = {}
        for o in observables:
            try:
                values[o.name] = rt.evaluate(snap, o.chunk)
            except Exception as e:  # a Lua error in the user's expression
                raise SpecError(f"observable {o.name} ({o.lua!r} in {o.process}) failed: {e}") from None
        return Observed(FrozenMap(values))

    return observe


@dataclass(frozen=True)
class _LuaScan:
    """What the scanner reads of one process's files, once per build: each handler's name, the
    Actions its pattern names, and where it is registered (absolute file, line)."""

    handlers: tuple[tuple[str, tuple[str, ...], str, int], ...]

    @property
    def handled(self) -> frozenset[str]:
        return frozenset(a for _, acts, _, _ in self.handlers for a in acts)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n, _, _, _ in self.handlers))

    def lines(self, files: Sequence[Any]) -> dict[str, tuple[int, ...]]:
        """Per file (absolute path, as the runtime names it), the lines where its handlers start."""
        return {str(Path(f).resolve()): tuple(sorted(ln for _, _, src, ln in self.handlers
                                                     if src == str(Path(f).resolve())))
                for f in files}


def _scan(files: Sequence[Any]) -> _LuaScan:
    """Scan a process's Lua files once (``checker.manifest.init_scan.scan_file``)."""
    from checker.manifest.init_scan import scan_file

    out: list[tuple[str, tuple[str, ...], str, int]] = []
    for f in files:
        src = str(Path(f).resolve())
        out.extend((h.name, tuple(h.actions), src, h.line) for h in scan_file(f).handlers)
    return _LuaScan(tuple(out))


def _comparisons(files: Sequence[Any]) -> dict[str, tuple[tuple[int, str], ...]]:
    """Per file (absolute path, as the runtime names it), tag-with-number comparisons."""
    from checker.ao.impl import string_number_comparisons

    return {str(Path(f).resolve()): string_number_comparisons(Path(f).read_text(encoding="utf-8")) for f in files}


def _adversary_templates(m: Manifest, scans: Mapping[str, _LuaScan]) -> list[Template]:
    adv = m.adversary
    assert adv is not None
    out: list[Template] = []
    combos: list[tuple[tuple[str, str], ...]] = [()]
    for d in adv.tags:
        combos = [c + ((d.name, v),) for c in combos for v in d.values]
    for x in m.processes:
        if adv.targets is not None and x.name not in adv.targets and x.id not in adv.targets:
            continue
        actions = sorted(scans[x.id].handled) if adv.actions is None else list(adv.actions)
        for a in actions:
            for c in combos:
                label = f"{a} to {x.id}" + "".join(f" {k}={v}" for k, v in c)
                out.append(Template(label, a, x.id, (("Action", a),) + c, ""))
    return out


# ------------------------------------------------------------------ properties


class _Env:
    """The expression language's view of one world (``checker.manifest.expr.ExprEnv``)."""

    def __init__(self, view: Any, where: Mapping[str, str], step: StepInfo | None = None) -> None:
        self.view = view
        self.where = where
        self.step = step

    def _wallets(self) -> list[WalletState]:
        return [s for s in self.view.of_kind("wallet")]

    def value(self, name: str) -> object:
        if self.step is not None:  # a response expression: the stepping process's observables
            info = self.step
            if self.where.get(name) == info.pid and isinstance(info.after, Observed):
                return info.after.values[name]
            raise SpecError(f"a response property reads {name!r}, which is not an observable of {info.pid}, "
                            "the process that took the step; use delta(...) of its observables")
        if name in self.where:
            state = self.view[self.where[name]]
            return state.values[name]
        if name == "requests":
            return sum(w.sent for w in self._wallets())
        if name == "quiescent":
            return self.view.quiescent
        if name == "unanswered":
            return sum(w.unanswered for w in self._wallets())
        if name == "extra_answers":
            return sum(w.extra_answers for w in self._wallets())
        raise SpecError(f"unknown name {name!r} in a property expression")

    def received(self, action: str, tag: str | None = None, value: str | None = None) -> int:
        return sum(1 for w in self._wallets() for msg in w.received
                   if msg.action == action and (tag is None or str(msg.get(tag)) == value))

    def in_flight(self, action: str) -> int:
        return len(self.view.in_flight_of(action))

    def in_flight_sum(self, action: str, tag: str, where: str | None = None, value: str | None = None) -> int | float:
        total: int | float = 0
        for msg in self.view.in_flight_of(action):
            if where is not None and str(msg.get(where)) != value:
                continue
            v = lua_tonumber(msg.get(tag))
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                total += v
        return total

    def delta(self, name: str) -> int | float:
        info = self.step
        if info is None or name not in self.where or self.where[name] != info.pid:
            return 0
        if not isinstance(info.before, Observed) or not isinstance(info.after, Observed):
            return 0
        a, b = info.after.values.get(name, 0), info.before.values.get(name, 0)
        return (a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) else 0


def _property(ps: PropertySpec, where: Mapping[str, str]) -> Property:
    """A ``Property`` evaluating the manifest's expressions over observables."""
    kind = ps.kind.value

    def check(expr: Any) -> Any:
        return lambda view: bool(evaluate(expr, _Env(view, where)))

    if ps.kind in (PropertyKind.ALWAYS, PropertyKind.AT_QUIESCENCE):
        return Property(ps.name, kind, ps.meaning, check=check(ps.check), expected_to_fail=ps.expected_to_fail)
    if ps.kind == PropertyKind.RESPONSE:
        def keys(expr: Any) -> Any:
            def fn(info: StepInfo) -> tuple[Any, ...]:
                v = evaluate(expr, _Env(None, where, info))
                return () if v in (0, False, None) else (v,)
            return fn
        return Property(ps.name, kind, ps.meaning, trigger=keys(ps.trigger), discharge=keys(ps.discharge),
                        expected_to_fail=ps.expected_to_fail)
    goals = {g.name: check(g.expr) for g in ps.goals}
    required = tuple(g.name for g in ps.goals if g.required)
    return Property(ps.name, kind, ps.meaning, goals=goals, required=lambda p: required,
                    expected_to_fail=ps.expected_to_fail)


def _no_stall(view: Any) -> bool:
    return all(w.unanswered == 0 for w in view.of_kind("wallet"))


def _explain_stall(view: Any) -> str:
    open_ops = [f"{ref} ({o.operation})" for w in view.of_kind("wallet") for ref, o in w.operations.items() if o.answers == 0]
    return "unanswered at quiescence: " + ", ".join(open_ops)


_STALL = Property(
    "stall",
    "at-quiescence",
    "at quiescence no wallet operation is left unanswered (else the flow cannot complete: nothing is in flight)",
    check=_no_stall,
    explain=_explain_stall,
)
