"""Replay a saved counterexample against today's spec; the file is trusted for nothing.

``replay(spec, data)`` checks the saved configuration against today's spec (every
parameter declared and well-typed, every fault known, the property present: otherwise
``TraceFileError``, exit 2), rebuilds the ``CheckConfig``, starts from today's initial world
(it must equal the saved initial state), and for each saved step takes the one successor
whose step (kind, process, handler, delivered message, choices) matches, then checks that
it sent the same messages and made the same state change. The replayed final world must
equal the recorded ``final`` (states, messages in flight, budgets), and the recorded
violation must be reproduced *there*: the property is judged on that world by
``checker.model.property_eval`` (the same definition the explorer uses); a witness's goals
must be met at the steps the file records.

Statuses: ``violates`` (reproduced: every step replays and the property fails at the
recorded last step), ``witnessed`` (a ``sometimes`` witness reproduced), and the three
ways of not reproducing, each inconclusive (exit 3: a replay never shows that a property
holds): ``diverged`` (a step is not possible any more or has a different effect; ``step``
says which, 0 = the initial state or configuration), ``not-reproduced`` (every step
replays but the end is not what the file records: the final state differs, or the
property no longer fails there), ``unwitnessed`` (a goal is not met where recorded). A
non-progress cycle (a lasso, field ``cycle``) violates when its cycle still closes and
avoids every progress state; otherwise it is ``diverged`` at the cycle's start.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from checker.config import NETWORKS, CheckConfig
from checker.engines.progress import judge_lasso
from checker.interfaces.counterexample import (
    config_from_json,
    explain_violation,
    lasso_cycle,
    load_counterexample,
    message_to_json,
    step_key_json,
    to_json,
    world_changes,
)
from checker.model.conformance import find_property
from checker.errors import HandlerError, SpecError, TraceFileError
from checker.model.expectation import Form, expectation
from checker.model.property_eval import check_holds, goals_met, required_goals, violated_at
from checker.interfaces.render import MAX_CELL, cut, fmt_changes, fmt_choices, fmt_message
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import Param, Property, Spec, StepKind

VIOLATES = "violates"
DIVERGED = "diverged"
NOT_REPRODUCED = "not-reproduced"
WITNESSED = "witnessed"
UNWITNESSED = "unwitnessed"


@dataclass(frozen=True)
class ReplayOutcome:
    """The result of a replay: status, the 1-based step it concerns (or None), one line."""

    status: str
    step: int | None
    message: str

    @property
    def still_fails(self) -> bool:
        """True if the saved trace still shows what it showed when it was saved."""
        return self.status in (VIOLATES, WITNESSED)


def replay_file(spec: Spec, path: Path | str) -> ReplayOutcome:
    """``replay(spec, load_counterexample(path), str(path))``."""
    return replay(spec, load_counterexample(path), str(path))


def replay(spec: Spec, data: dict[str, Any], name: str = "the trace") -> ReplayOutcome:
    """Re-execute the trace in ``data`` (a loaded counterexample) against ``spec``.

    ``TraceFileError`` (naming ``name``) when the file does not fit today's spec: another
    spec, an unknown property, an undeclared or ill-typed parameter, an unknown fault."""
    prop_name = str(data["property"]["name"])
    if data["spec"].get("name") not in (None, spec.name):
        raise TraceFileError(f"{name}: the trace is for spec {data['spec']['name']!r}, not {spec.name!r}; "
                             "pass its spec with --spec")
    prop = find_property(spec, prop_name)
    if prop is None:
        known = ", ".join(p.name for p in spec.properties)
        raise TraceFileError(f"{name}: property.name {prop_name!r} is not a property of spec {spec.name!r} "
                             f"(it has: {known})")
    # Track every response property: obligations never influence the successors.
    config = replace(trace_config(spec, data["config"], name), properties=None)
    try:
        sem = Semantics(spec, config)
        world = sem.initial()
    except (KeyError, TypeError, ValueError, SpecError, HandlerError) as e:
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: today's spec rejects the saved configuration: {e}")
    bad = _initial_mismatch(sem, world, data["initial"])
    if bad:
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: initial state differs: {bad}")
    worlds = [world]
    last_step: Step | None = None
    for saved in data["steps"]:
        n = int(saved["index"])
        found = _match(sem, world, saved)
        if isinstance(found, str):
            return ReplayOutcome(DIVERGED, n, f"diverged at step {n}: {found}")
        last_step, world = found
        worlds.append(world)
    last = len(data["steps"])
    off = _final_mismatch(sem, world, data["final"])
    if off:
        return ReplayOutcome(NOT_REPRODUCED, last, f"all {last} steps replay, but the final state is not the recorded "
                                                   f"one: {off}; the file was edited or cut short")
    exp = expectation(prop)
    if exp.form is Form.REACHABLE:
        return _witness(sem, prop, worlds, data.get("witness"), last)
    if exp.form is Form.FINDING:  # the last step must still show the same finding
        fs = sem.findings.get(id(last_step), ()) if last_step is not None else ()
        hit = [f for f in fs if f.key == prop_name]
        if hit:
            return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and step {last} still shows it: {hit[0].text}")
        return ReplayOutcome(NOT_REPRODUCED, last, f"all {last} steps replay, but step {last} does not show {prop_name}")
    if exp.form is Form.PROGRESS:  # a lasso: the cycle must still close, avoiding progress states
        return _lasso(sem, prop, worlds, lasso_cycle(data, prop_name), last)
    if exp.form is Form.CONFORMANCE:  # the last step must still leave the model
        why = sem.divergent.get(id(last_step)) if last_step is not None else None
        if why is not None:
            return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and step {last} still diverges: {why}")
        return ReplayOutcome(NOT_REPRODUCED, last, f"all {last} steps replay, but step {last} is a step of the model")
    if violated_at(sem, prop, world):
        note = ""
        recorded = data.get("violation")
        today = explain_violation(sem, prop, world)
        if isinstance(recorded, str) and recorded != today:
            note = f" (today's account: {today}; recorded: {recorded})"
        return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and {prop_name} is still violated at step {last}{note}")
    why = "the final state is not quiescent" if exp.at_quiescence and world.net else "the property holds in that state"
    return ReplayOutcome(NOT_REPRODUCED, last, f"all {last} steps replay to the recorded final state, but {prop_name} "
                                               f"is not violated at step {last}: {why}")


def trace_config(spec: Spec, saved: Any, name: str = "the trace") -> CheckConfig:
    """The ``CheckConfig`` a trace was recorded under, checked against ``spec``'s declarations
    (``TraceFileError`` naming the field: undeclared or ill-typed parameter, unknown fault
    or network, a malformed limit)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("params"), dict):
        raise TraceFileError(f"{name}: field 'config.params' must be a JSON object")
    for key, value in saved["params"].items():
        p = spec.param(key)
        if p is None:
            known = ", ".join(q.name for q in spec.params)
            raise TraceFileError(f"{name}: config.params.{key}: spec {spec.name!r} has no parameter {key!r} "
                                 f"(it has: {known})")
        problem = _param_problem(p, value)
        if problem:
            raise TraceFileError(f"{name}: config.params.{key} is {_j(value)}: {problem}")
    if saved.get("network", "unordered") not in NETWORKS:
        raise TraceFileError(f"{name}: config.network {_j(saved.get('network'))} is not one of {', '.join(NETWORKS)}")
    faults = saved.get("faults", [])
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise TraceFileError(f"{name}: config.faults must be a list of fault names")
    known_faults = spec.all_faults()
    for f in faults:
        if f not in known_faults:
            raise TraceFileError(f"{name}: config.faults: {f!r} is not a fault of spec {spec.name!r} "
                                 f"(it has: {', '.join(known_faults)})")
    for key in ("max_faults", "adversary_messages"):
        v = saved.get(key, 1)
        if type(v) is not int or v < 0:
            raise TraceFileError(f"{name}: config.{key} is {_j(v)}: expected an integer >= 0")
    try:
        return config_from_json(saved)
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise TraceFileError(f"{name}: bad config in the counterexample: {e}") from None


def _param_problem(p: Param, v: Any) -> str:
    """Why the JSON value ``v`` is not a value of ``p`` ('' if it is)."""
    def is_int(x: Any) -> bool:
        return type(x) is int

    if p.type == "int":
        if not is_int(v):
            return "expected an integer"
        if p.minimum is not None and v < p.minimum:
            return f"must be at least {p.minimum}"
    elif p.type == "str":
        if not isinstance(v, str):
            return "expected a string"
        if p.choices is not None and v not in p.choices:
            return f"not one of {', '.join(p.choices)} in today's spec"
    elif p.type == "ints":
        if not isinstance(v, list) or not v or not all(is_int(x) for x in v):
            return "expected a non-empty list of integers"
        if p.minimum is not None and min(v) < p.minimum:
            return f"every value must be at least {p.minimum}"
    return ""


def _final_mismatch(sem: Semantics, world: World, saved: dict[str, Any]) -> str:
    """How the replayed final world differs from the recorded ``final`` ('' if it does not)."""
    problems: list[str] = []
    states = saved.get("states", {})
    for pid in sorted(set(states) - set(sem.pids)):
        problems.append(f"process {pid} is not in the system")
    for i, pid in enumerate(sem.pids):
        now = to_json(sem.describe(i, world.procs[i]))
        if pid not in states:
            problems.append(f"{pid} is missing from the recorded final states")
        elif states[pid] != now:
            problems.append(f"{pid}: recorded {_j(states[pid])}, replayed {_j(now)}")
    if "in_flight" in saved:
        now_flight = Counter(json.dumps(message_to_json(m), sort_keys=True) for m in sem.net.messages(world.net))
        was = saved["in_flight"]
        was_flight = Counter(json.dumps(m, sort_keys=True) for m in was) if isinstance(was, list) else None
        if was_flight != now_flight:
            problems.append(f"in flight: recorded {len(was) if isinstance(was, list) else _j(was)} message(s), "
                            f"replayed {sum(now_flight.values())}")
    if "quiescent" in saved and saved["quiescent"] != (not world.net):
        problems.append(f"quiescent: recorded {_j(saved['quiescent'])}, replayed {_j(not world.net)}")
    for budget in ("faults_left", "injections_left"):
        if budget in saved and saved[budget] != getattr(world, budget):
            problems.append(f"{budget}: recorded {_j(saved[budget])}, replayed {getattr(world, budget)}")
    return "; ".join(problems[:4]) + (f"; … {len(problems) - 4} more" if len(problems) > 4 else "")


def _witness(sem: Semantics, prop: Property, worlds: list[World], saved: Any, last: int) -> ReplayOutcome:
    """Judge a ``sometimes`` trace: each goal the file claims (all required goals if it
    claims none) must be met at the step the file records for it (anywhere if it records
    none)."""
    need = required_goals(sem, prop)
    hit: dict[str, int] = {}
    for i, w in enumerate(worlds):
        for g in goals_met(sem, prop, w):
            hit.setdefault(g, i)
    claimed = {g: i for g, i in saved.items() if i is not None} if isinstance(saved, dict) else dict.fromkeys(need)
    missing = [g for g in claimed if g not in hit]
    if missing:
        return ReplayOutcome(UNWITNESSED, last, f"all {last} steps replay, but no longer witnessed: {', '.join(missing)}")
    moved = [f"{g} (recorded at step {i}, first met at step {hit[g]})" for g, i in claimed.items()
             if i is not None and (i >= len(worlds) or g not in goals_met(sem, prop, worlds[i]))]
    if moved:
        return ReplayOutcome(UNWITNESSED, last, f"all {last} steps replay, but not witnessed where recorded: "
                                                f"{', '.join(moved)}")
    where = ", ".join(f"{g} at step {hit[g]}" for g in claimed)
    others = [g for g in need if g not in claimed]
    note = f" (not covered by this trace: {', '.join(others)})" if others else ""
    return ReplayOutcome(WITNESSED, None, f"all {last} steps replay; witnessed: {where}{note}")


def _lasso(sem: Semantics, prop: Property, worlds: list[World], start: int, last: int) -> ReplayOutcome:
    """Judge a replayed non-progress cycle (``checker.engines.progress.judge_lasso``)."""
    why = judge_lasso(lambda w: check_holds(sem, prop, sem.view(w)), worlds, start)
    if why is None:
        return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and steps {start + 1}–{last} still close a "
                                             "cycle that never reaches a progress state")
    return ReplayOutcome(DIVERGED, last, f"all {last} steps replay, but the recorded lasso is not reproduced: {why}")


def _initial_mismatch(sem: Semantics, world: World, saved: dict[str, Any]) -> str:
    """A field-level description of how today's initial world differs from the saved one."""
    states = saved.get("states", {})
    problems: list[str] = []
    for pid in sorted(set(states) - set(sem.pids)):
        problems.append(f"process {pid} no longer exists")
    for i, pid in enumerate(sem.pids):
        if pid not in states:
            problems.append(f"process {pid} is new")
            continue
        now = to_json(sem.describe(i, world.procs[i]))
        was = states[pid]
        if now != was:
            if isinstance(now, dict) and isinstance(was, dict):
                for f in list(was) + [f for f in now if f not in was]:
                    if was.get(f) != now.get(f):
                        problems.append(f"{pid}.{f}: expected {_j(was.get(f))}, got {_j(now.get(f))}")
            else:
                problems.append(f"{pid}: expected {_j(was)}, got {_j(now)}")
    for budget in ("faults_left", "injections_left"):
        if budget in saved and saved[budget] != getattr(world, budget):
            problems.append(f"{budget}: expected {saved[budget]}, got {getattr(world, budget)}")
    return "; ".join(problems)


def _match(sem: Semantics, world: World, saved: dict[str, Any]) -> tuple[Step, World] | str:
    """The successor that reproduces ``saved``, or a one-line account of the difference."""
    want_key = {k: saved[k] for k in ("kind", "pid", "handler", "message", "choices")}
    want_sent = saved["sent"]
    want_changes = saved["changes"]
    same_key: list[tuple[Step, World, list[Any], dict[str, Any]]] = []
    same_msg: list[Step] = []
    for step, w2 in sem.successors(world):
        key = step_key_json(step)
        if key == want_key:
            sent = [message_to_json(m) for m in step.sends]
            changes = world_changes(sem, world, w2)
            if sent == want_sent and changes == want_changes:
                return step, w2
            same_key.append((step, w2, sent, changes))
        elif key["pid"] == want_key["pid"] and key["message"] == want_key["message"]:
            same_msg.append(step)
    expected = _describe(want_key)
    if same_key:
        step, _, sent, changes = same_key[0]
        if sent != want_sent:
            return f"{expected}: expected it to send {_msgs(want_sent)}, got {_msgs(sent)}"
        return (
            f"{expected}: expected the change {_chg(want_changes, want_key['pid'])}, "
            f"got {_chg(changes, want_key['pid'])}"
        )
    if same_msg:
        got = "; ".join(_describe(step_key_json(s)) for s in same_msg[:4])
        return f"expected {expected}, got {got}"
    return f"expected {expected}, but today's spec cannot take that step here"


def _describe(key: dict[str, Any]) -> str:
    kind, pid, h, m = key["kind"], key["pid"], key["handler"], key["message"]
    ch = f" [{fmt_choices(key['choices'])}]" if key["choices"] else ""
    if kind == StepKind.INITIATIVE:
        return f"initiative {h} of {pid}{ch}"
    if kind == StepKind.INJECT:
        return "an adversary injection"
    what = {StepKind.DELIVER: f"handler {h}", StepKind.ERROR: f"handler {h} raising", StepKind.UNHANDLED: "no handler",
            StepKind.HANDLER_ERROR: f"handler-error fault in {h}", StepKind.LOSE: "loss"}.get(kind, kind)
    return cut(f"{fmt_message(m)} to {pid} via {what}{ch}", MAX_CELL)


def _msgs(ms: list[Any]) -> str:
    return cut("[" + "; ".join(fmt_message(m) for m in ms) + "]", MAX_CELL) if ms else "nothing"


def _chg(changes: dict[str, Any], actor: str) -> str:
    return cut("; ".join(fmt_changes(changes, actor)), MAX_CELL) or "no change"


def _j(v: Any) -> str:
    """Compact JSON of a value from a file, ``cut`` at ``MAX_CELL`` characters (a message
    line stays readable however large the file's values are)."""
    return cut(json.dumps(v, sort_keys=True, ensure_ascii=False), MAX_CELL)
