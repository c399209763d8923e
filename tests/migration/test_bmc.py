"""``--engine bmc`` on the migration spec (issue 13 follow-up).

The migration's messages carry maps (``Backfill``'s Positions and Entries, ``History``'s
Prior) and the z3 engines keep the network sorted by ``translate.order_key``, which
used to raise ``InternalError: cannot order a FrozenMap`` on the first Backfill. Now
a map (and a set, a list, a record) is ordered by its content, and bmc agrees with the
explorer on the seed plan's shortest failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from checker.engines.symbolic.bmc import bmc
from checker.engines.symbolic.translate import order_key
from checker.interfaces.cli import main
from checker.model.values import FrozenMap, make_message
from checker.result import HOLDS, VIOLATED
from spec.tim3.migration import SPEC
from tests.migration.helpers import config


@dataclass(frozen=True)
class _Rec:
    a: int
    b: str


def test_order_key_orders_maps_by_content_whatever_their_iteration_order() -> None:
    a = {"user2": 1, "user1": -1}
    b = {"user1": -1, "user2": 1}
    assert order_key(a) == order_key(b) == order_key(FrozenMap(a))
    assert order_key(FrozenMap({"u": 1})) < order_key(FrozenMap({"u": 2}))


def test_order_key_sorts_messages_carrying_maps_sets_lists_and_records() -> None:
    msgs = [make_message("operator", "state", "Backfill", {"Mode": "add", "Positions": FrozenMap({"user1": n})})
            for n in (3, 1, 2)]
    ordered = sorted(msgs, key=order_key)
    assert [m.tag("Positions")["user1"] for m in ordered] == [1, 2, 3]
    assert order_key(frozenset({2, 1})) == order_key({1, 2})
    assert order_key([1, 2]) != order_key((1, 2))  # a list and a tuple are different values
    assert order_key(_Rec(1, "x")) < order_key(_Rec(2, "x"))


def test_bmc_on_the_seed_plan_finds_the_explorers_shortest_failures() -> None:
    """depth 11 covers no-double-count (11 steps) and the rollback (4); positions (13) is
    beyond the bound, so it holds only within it."""
    r = bmc(SPEC, config(plan="seed"), 11)
    v = {x.name: (x.verdict, len(x.trace) if x.trace and x.verdict == VIOLATED else None) for x in r.results}
    assert v["no-double-count"] == (VIOLATED, 11)
    assert v["rollback-positions-flagged"] == (VIOLATED, 4)
    assert v["release-positions-match-supply"] == (HOLDS, None)
    assert r.results[0].bound.startswith("no violation up to depth 11")
    assert r.stats.limit_hit == "max-depth 11"


def test_bmc_through_the_cli_exits_1_without_a_traceback() -> None:
    r = CliRunner().invoke(main, ["check", "--spec", "spec.tim3.migration", "--param", "plan=seed", "--engine", "bmc",
                                  "--depth", "4", "--no-save", "--quiet"])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and "InternalError" not in r.output
    assert "rollback-positions-flagged" in r.output
