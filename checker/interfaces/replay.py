"""Replay a saved counterexample against today's spec.

``replay(spec, data)`` rebuilds the saved ``CheckConfig``, starts from today's initial
world (it must equal the saved initial state), and for each saved step takes the one
successor whose step (kind, process, handler, delivered message, choices) matches, then
checks that it sent the same messages and made the same state change. At the end the
property is judged on the final world by ``checker.model.property_eval`` (the same definition
the explorer uses).

Statuses: ``violates`` (every step replays and the property still fails at the end),
``holds-now`` (every step replays but the property no longer fails), ``diverged`` (a
step is not possible any more or has a different effect; ``step`` says which, 0 = the
initial state or configuration), and for a ``sometimes`` witness ``witnessed`` /
``unwitnessed`` (whether every required goal is reached along the replayed trace). A
non-progress cycle (a lasso, field ``cycle``) violates when its cycle still closes and
avoids every progress state; otherwise it is ``diverged`` at the cycle's start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from checker.engines.progress import judge_lasso
from checker.interfaces.counterexample import (
    config_from_json,
    lasso_cycle,
    load_counterexample,
    message_to_json,
    step_key_json,
    to_json,
    world_changes,
)
from checker.engines.conformance import find_property
from checker.errors import HandlerError, SpecError, TraceFileError
from checker.model.expectation import Form, expectation
from checker.model.property_eval import check_holds, goals_met, required_goals, violated_at
from checker.interfaces.render import fmt_changes, fmt_choices, fmt_message
from checker.model.semantics import Semantics, Step, World
from checker.model.spec import Property, Spec, StepKind

VIOLATES = "violates"
HOLDS_NOW = "holds-now"
DIVERGED = "diverged"
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
    """``replay(spec, load_counterexample(path))``."""
    return replay(spec, load_counterexample(path))


def replay(spec: Spec, data: dict[str, Any]) -> ReplayOutcome:
    """Re-execute the trace in ``data`` (a loaded counterexample) against ``spec``."""
    prop_name = str(data["property"]["name"])
    if data["spec"].get("name") not in (None, spec.name):
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: the trace is for spec {data['spec']['name']!r}, not {spec.name!r}")
    prop = find_property(spec, prop_name)
    if prop is None:
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: today's spec has no property {prop_name!r}")
    try:
        # Track every response property: obligations never influence the successors.
        config = replace(config_from_json(data["config"]), properties=None)
    except (KeyError, TypeError, ValueError) as e:
        raise TraceFileError(f"{prop_name}: bad config in the counterexample: {e}") from None
    try:
        sem = Semantics(spec, config)
        world = sem.initial()
    except (KeyError, TypeError, ValueError, SpecError, HandlerError) as e:
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: today's spec rejects the saved configuration: {e}")
    bad = _initial_mismatch(sem, world, data["initial"])
    if bad:
        return ReplayOutcome(DIVERGED, 0, f"diverged at step 0: initial state differs: {bad}")
    worlds = [world]
    for saved in data["steps"]:
        n = int(saved["index"])
        found = _match(sem, world, saved)
        if isinstance(found, str):
            return ReplayOutcome(DIVERGED, n, f"diverged at step {n}: {found}")
        _, world = found
        worlds.append(world)
    last = len(data["steps"])
    exp = expectation(prop)
    if exp.form is Form.REACHABLE:
        return _witness(sem, prop, worlds, data.get("witness"), last)
    if exp.form is Form.FINDING:  # the last step must still show the same finding
        fs = sem.findings.get(id(found[0]), ()) if data["steps"] and not isinstance(found, str) else ()
        hit = [f for f in fs if f.key == prop_name]
        if hit:
            return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and step {last} still shows it: {hit[0].text}")
        return ReplayOutcome(HOLDS_NOW, last, f"all {last} steps replay, and step {last} no longer shows {prop_name}")
    if exp.form is Form.PROGRESS:  # a lasso: the cycle must still close, avoiding progress states
        return _lasso(sem, prop, worlds, lasso_cycle(data, prop_name), last)
    if exp.form is Form.CONFORMANCE:  # the last step must still leave the model
        why = sem.divergent.get(id(found[0])) if data["steps"] and not isinstance(found, str) else None
        if why is not None:
            return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and step {last} still diverges: {why}")
        return ReplayOutcome(HOLDS_NOW, last, f"all {last} steps replay, and step {last} is a step of the model now")
    if violated_at(sem, prop, world):
        return ReplayOutcome(VIOLATES, None, f"all {last} steps replay and {prop_name} is still violated at the end")
    why = "the final state is not quiescent" if exp.at_quiescence and world.net else "the property holds in the final state"
    return ReplayOutcome(HOLDS_NOW, last, f"all {last} steps replay, but {prop_name} is no longer violated: {why}")


def _witness(sem: Semantics, prop: Property, worlds: list[World], saved: Any, last: int) -> ReplayOutcome:
    """Judge a ``sometimes`` trace: the goals the file claims (all required goals if it
    claims none) must be reached again along the replayed worlds."""
    need = required_goals(sem, prop)
    hit: dict[str, int] = {}
    for i, w in enumerate(worlds):
        for g in goals_met(sem, prop, w):
            hit.setdefault(g, i)
    claimed = [g for g, i in saved.items() if i is not None] if isinstance(saved, dict) else need
    missing = [g for g in claimed if g not in hit]
    if missing:
        return ReplayOutcome(UNWITNESSED, last, f"all {last} steps replay, but no longer witnessed: {', '.join(missing)}")
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
    return f"{fmt_message(m)} to {pid} via {what}{ch}"


def _msgs(ms: list[Any]) -> str:
    return "[" + "; ".join(fmt_message(m) for m in ms) + "]" if ms else "nothing"


def _chg(changes: dict[str, Any], actor: str) -> str:
    return "; ".join(fmt_changes(changes, actor)) or "no change"


def _j(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False)
