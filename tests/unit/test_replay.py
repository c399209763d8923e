"""Replay of saved traces against today's spec, and the shared property evaluation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from checker.config import CheckConfig
from checker.interfaces.counterexample import counterexample_data, load_counterexample, write_counterexample
from checker.errors import InternalError, TraceFileError
from checker.engines.explore import explore
from checker.model.property_eval import goals_met, violated_at
from checker.interfaces.replay import DIVERGED, NOT_REPRODUCED, VIOLATES, WITNESSED, replay, replay_file
from checker.model.semantics import Semantics
from spec.tim3 import SPEC
from tests.tim3_helpers import config

V1: dict[str, Any] = dict(version="v1", users=1, ops=1, amounts=(1, 2))


def saved(prop: str, cfg: CheckConfig, tmp_path: Path) -> dict[str, Any]:
    """Explore, write the counterexample of ``prop`` and load it back from disk."""
    result = explore(SPEC, cfg)
    data = counterexample_data(result, result.result(prop), Semantics(SPEC, cfg))
    return load_counterexample(write_counterexample(data, tmp_path))


@pytest.fixture()
def v1_trace(tmp_path: Path) -> dict[str, Any]:
    return saved("positions-match-supply", config(**V1), tmp_path)


@pytest.mark.parametrize(
    "prop", ["positions-match-supply", "update-follows-success", "positions-match-supply-inflight",
             "positions-match-supply-strict"],
)
def test_fresh_v1_counterexample_violates(prop: str, tmp_path: Path) -> None:
    out = replay(SPEC, saved(prop, config(**V1), tmp_path))
    assert out.status == VIOLATES, out.message
    assert out.step is None and out.still_fails


def test_replay_file(tmp_path: Path) -> None:
    result = explore(SPEC, config(**V1))
    cfg = config(**V1)
    path = write_counterexample(
        counterexample_data(result, result.result("positions-match-supply"), Semantics(SPEC, cfg)), tmp_path
    )
    assert replay_file(SPEC, path).status == VIOLATES


def test_v1_trace_against_v2_diverges_where_v2_sends_update(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["config"]["params"]["version"] = "v2"
    out = replay(SPEC, d)
    assert out.status == DIVERGED
    assert out.step == 6
    assert out.message.startswith("diverged at step 6: ")
    assert "UpdatePosition" in out.message and "expected it to send" in out.message
    assert not out.still_fails


def test_v2_unlock_fail_trace_violates_and_v3_diverges(tmp_path: Path) -> None:
    cfg = config(version="v2", users=1, ops=2, amounts=(1,), faults=("unlock-fail",))
    d = saved("positions-match-supply", cfg, tmp_path)
    assert replay(SPEC, d).status == VIOLATES
    d["config"]["params"]["version"] = "v3"
    out = replay(SPEC, d)
    assert out.status == DIVERGED and out.step is not None and out.step > 0
    assert out.message.startswith(f"diverged at step {out.step}: ")


def test_shortened_trace_does_not_reproduce(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["steps"] = d["steps"][:-1]  # the user's answer still in flight: not quiescent
    del d["length"]  # (a file from before ``length``: the recorded final state still tells)
    out = replay(SPEC, d)
    assert (out.status, out.step) == (NOT_REPRODUCED, len(d["steps"]))
    assert "final state is not the recorded one" in out.message
    assert not out.still_fails


def test_tampered_sends_diverge(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["steps"][2]["sent"][0]["tags"] = [["Amount", 2], ["Request", "user1#0"], ["User", "user1"]]
    out = replay(SPEC, d)
    assert (out.status, out.step) == (DIVERGED, 3)
    assert "expected it to send" in out.message


def test_tampered_state_change_diverges(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    mint = next(s for s in d["steps"] if s["handler"] == "Mint")
    mint["changes"]["token"]["supply"]["after"] = 5
    out = replay(SPEC, d)
    assert (out.status, out.step) == (DIVERGED, mint["index"])
    assert "supply: 0 → 5" in out.message and "supply: 0 → 1" in out.message


def test_impossible_step_diverges(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["steps"][1]["message"]["src"] = "user9"
    out = replay(SPEC, d)
    assert (out.status, out.step) == (DIVERGED, 2)
    assert "cannot take that step" in out.message or "expected" in out.message


def test_changed_initial_state_diverges_at_step_0(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["initial"]["states"]["lock"]["free"]["user1"] = 99
    out = replay(SPEC, d)
    assert (out.status, out.step) == (DIVERGED, 0)
    assert "lock.free" in out.message and "99" in out.message


def test_unknown_version_or_property_is_a_file_error(v1_trace: dict[str, Any]) -> None:
    d = copy.deepcopy(v1_trace)
    d["config"]["params"]["version"] = "v9"
    with pytest.raises(TraceFileError, match=r"config\.params\.version is \"v9\": not one of v1, v2, v3"):
        replay(SPEC, d)
    d = copy.deepcopy(v1_trace)
    d["property"]["name"] = "no-such-property"
    with pytest.raises(TraceFileError, match="property.name 'no-such-property' is not a property of spec 'tim3'"):
        replay(SPEC, d)


def test_witness_replays_as_witnessed(tmp_path: Path) -> None:
    d = saved("mint-and-burn-reachable", config(**V1), tmp_path)
    out = replay(SPEC, d)
    assert out.status == WITNESSED and "mint succeeds" in out.message
    moved = copy.deepcopy(d)
    moved["witness"]["mint succeeds"] -= 1  # the goal is not met one step earlier
    out = replay(SPEC, moved)
    assert out.status == "unwitnessed" and "not witnessed where recorded" in out.message
    d["steps"] = d["steps"][:2]
    assert replay(SPEC, d).status == NOT_REPRODUCED


# ------------------------------------------------------------------ property_eval


def test_violated_at_follows_the_property_kinds() -> None:
    cfg = config(**V1)
    sem = Semantics(SPEC, cfg)
    result = explore(SPEC, cfg)
    trace = result.result("update-follows-success").trace
    assert trace is not None
    worlds = [trace.initial] + [w for _, w in trace.steps]
    strict = SPEC.prop("positions-match-supply-strict")
    quiet = SPEC.prop("positions-match-supply")
    resp = SPEC.prop("update-follows-success")
    some = SPEC.prop("mint-and-burn-reachable")
    assert strict and quiet and resp and some
    assert not violated_at(sem, strict, worlds[0])
    minted = next(i for i, (s, _) in enumerate(trace.steps, 1) if s.handler == "Mint")
    assert violated_at(sem, strict, worlds[minted])  # supply changed, positions not
    assert not violated_at(sem, quiet, worlds[minted])  # messages still in flight
    assert worlds[minted].net and not violated_at(sem, resp, worlds[minted])
    assert violated_at(sem, resp, worlds[-1]) and violated_at(sem, quiet, worlds[-1])
    assert not violated_at(sem, some, worlds[-1])
    assert goals_met(sem, some, worlds[-1]) == ["mint succeeds"]


def test_untracked_response_property_is_an_internal_error() -> None:
    cfg = CheckConfig(params=config(**V1).params, properties=("positions-match-supply",))
    sem = Semantics(SPEC, cfg)
    resp = SPEC.prop("update-follows-success")
    assert resp is not None
    with pytest.raises(InternalError, match="not tracked"):
        violated_at(sem, resp, sem.initial())
