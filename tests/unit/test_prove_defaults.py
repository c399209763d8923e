"""``--engine prove`` with its defaults: ``--method auto`` tries the parametric proof first
(seconds, any number of users), falls back to the shape-graph methods for what it does
not decide, says so, and names only options that exist."""

from __future__ import annotations

import dataclasses
import json

import pytest

from checker.config import Limits
from checker.engines.symbolic.prove import prove, prove_engine
from checker.result import EXPECTED_FAIL, PROVED, UNKNOWN
from spec.tim3 import SPEC
from tests.tim3_helpers import config
from tests.unit._support import run

PROVABLE = ["update-follows-success", "positions-match-supply", "positions-match-supply-inflight",
            "positions-match-supply-strict", "positions-match-per-user", "supply-within-cap",
            "collateral-backs-supply", "every-request-answered"]
# the properties the parametric view does not cover: proved on prove's default scenarios
NOT_IN_VIEW = ("positions-match-per-user", "supply-within-cap")


def test_prove_with_no_flag_proves_v3_for_any_number_of_users() -> None:
    r = run("check", "--engine", "prove", "--no-save", "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    rows = doc["results"]
    # in spec order: each property once, or once per default scenario when the view does not cover it
    assert [x["name"] for x in rows] == [n for n in PROVABLE for _ in range(2 if n in NOT_IN_VIEW else 1)]
    for x in rows:
        if x["name"] == "positions-match-supply-strict":  # expected to fail: a 5-step counterexample
            assert x["verdict"] == EXPECTED_FAIL and x["trace_length"] == 5
        elif x["name"] in NOT_IN_VIEW:
            assert x["verdict"] == PROVED and x["bound"].split("]")[0] in ("[users 3, ops 1", "[users 1, ops 2"), x
        else:
            assert x["verdict"] == PROVED, x
            assert x["bound"].startswith("PROVED for any number of users and operations")
            assert x["certificate"] and "inductive" not in x["bound"]


def test_the_text_report_puts_certificates_below_the_table() -> None:
    r = run("check", "--engine", "prove", "--no-save", "--property", "positions-match-supply-inflight")
    assert r.exit_code == 0, r.output
    out = r.stdout
    row = next(line for line in out.splitlines() if line.startswith("│ positions-match-supply-inflight"))
    assert "PROVED for any number of users and operations (certificate below)" in row
    assert out.count("positions-match-supply-inflight") == 2  # its row, and the heading of its certificate
    assert out.index("certificate of positions-match-supply-inflight") > out.index(row)


def test_auto_falls_back_to_the_shape_graph_and_says_why() -> None:
    # v2: the parametric view's invariants do not hold for it; in the asked scenario the
    # shape graph proves three properties and BMC finds collateral-backs-supply's bug
    cfg = config(version="v2", users=1, ops=1)
    r = prove_engine(SPEC, cfg, method="auto")
    by = {x.name: x for x in r.results}
    assert list(by) == PROVABLE
    assert by["every-request-answered"].verdict == PROVED
    assert by["every-request-answered"].bound.startswith("PROVED for any number of users")
    assert by["positions-match-supply"].verdict == PROVED
    assert by["positions-match-supply"].bound.startswith("PROVED for any depth, any data values; version v2, users 1")
    assert "the parametric proof did not decide it" in by["positions-match-supply"].detail
    bug = by["collateral-backs-supply"]
    assert bug.trace is not None and len(bug.trace) == 7 and "users 1, ops 1" in bug.bound


@pytest.mark.slow  # the default run proves 3 x 1 without a timeout: test_prove_with_no_flag_proves_v3_...
def test_the_parametric_share_of_the_timeout_is_enough_for_v3() -> None:
    cfg = dataclasses.replace(config(version="v3", users=3, ops=1), limits=Limits(timeout=120))
    r = prove_engine(SPEC, cfg, method="auto")
    assert [x.verdict for x in r.results if not x.expected_to_fail] == [PROVED] * 7
    strict = r.result("positions-match-supply-strict")  # the parametric counterexample is in another
    # scenario: BMC finds one in the asked scenario (3 users x 1 op); the shape graph is built
    # only for the two properties the view does not cover (2,534 shapes)
    assert strict.verdict == EXPECTED_FAIL and strict.trace is not None and len(strict.trace) == 5
    assert strict.bound.startswith("smallest depth with a violation: 5") and "users 3, ops 1" in strict.bound
    assert r.stats.states == 2534


def test_the_shape_limit_hint_names_the_real_option() -> None:
    r = prove(SPEC, config(users=2, ops=2), properties=["positions-match-supply-inflight"], method="kind",
              max_shapes=50)
    res = r.result("positions-match-supply-inflight")
    assert res.verdict == UNKNOWN
    assert "raise --max-shapes or shrink the scenario" in res.detail and "max_shapes" not in res.detail
    assert "--max-shapes" in run("check", "--help").stdout


def test_a_short_timeout_ends_auto_unknown_naming_the_share_and_the_limit() -> None:
    cfg = dataclasses.replace(config(version="v3", users=2, ops=2), limits=Limits(timeout=3))
    r = prove_engine(SPEC, cfg, method="auto")
    assert r.stats.limit_hit == "timeout 3s"
    for x in r.results:  # the parametric proof had half of the 3 s, the shape graph of 2 x 2 the rest
        assert x.verdict == UNKNOWN and "stopped: timeout 3s" in x.detail, x.detail
        assert "parametric proof stopped by parametric's time share (50% of the time left)" in x.detail
