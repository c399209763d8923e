"""Property kinds are interpreted in one place (``checker.model.expectation.expectation``).

A new kind is one rule: here a test kind ``never`` (its check describes the bad
states) is added through the extension point ``kinds_extended`` and nothing else
changes: the loader accepts it, explore, simulate and bmc judge it, a counterexample is
written and replays, exactly as for the ``always`` property it mirrors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.engines.symbolic.bmc import bmc
from checker.interfaces.counterexample import counterexample_data
from checker.errors import SpecError
from checker.model.expectation import Expectation, Form, PropertyError, declarable_kinds, expectation, kinds_extended
from checker.engines.explore import explore
from checker.interfaces.loader import validate
from checker.interfaces.replay import VIOLATES, replay
from checker.result import VIOLATED
from checker.model.semantics import Semantics
from checker.engines.simulate import simulate
from checker.model.spec import PROPERTY_KINDS, Property, PropertyKind
from spec.tim3 import SPEC
from tests.tim3_helpers import config


def never(p: Property) -> Expectation:
    """``never``: ``check`` holds in no reachable state (an invariant of its negation)."""
    if p.check is None:
        raise PropertyError(f"never property {p.name!r} has no check")
    bad = p.check
    return Expectation(p.name, p.kind, Form.INVARIANT, check=lambda v: not bad(v))


STRICT = SPEC.prop("positions-match-supply-strict")
assert STRICT is not None and STRICT.check is not None
STRICT_CHECK = STRICT.check
NEVER = Property("supply-off-positions", "never", "Σ positions differs from the supply",
                 check=lambda v: not STRICT_CHECK(v))
WITH_NEVER = dataclasses.replace(SPEC, properties=SPEC.properties + (NEVER,))


def test_each_kind_has_one_form() -> None:
    forms = {k: expectation(Property("p", k, "", check=lambda v: True, trigger=lambda i: (),
                                     discharge=lambda i: (), goals={"g": lambda v: True})).form
             for k in PropertyKind}
    assert forms == {"always": Form.INVARIANT, "at-quiescence": Form.INVARIANT, "response": Form.OBLIGATIONS,
                     "sometimes": Form.REACHABLE, "progress": Form.PROGRESS, "step": Form.CONFORMANCE,
                     "finding": Form.FINDING}
    assert declarable_kinds() == PROPERTY_KINDS == ("always", "at-quiescence", "response", "sometimes", "progress")


def test_an_unknown_kind_is_rejected_outside_its_block() -> None:
    with pytest.raises(SpecError, match="has kind 'never'; use one of always, at-quiescence, response, sometimes, progress"):
        validate(WITH_NEVER)
    with kinds_extended({"never": never}):
        assert "never" in declarable_kinds()
        validate(WITH_NEVER)
        with pytest.raises(SpecError, match="never property 'x' has no check"):
            validate(dataclasses.replace(SPEC, properties=(Property("x", "never", ""),)))
    assert "never" not in declarable_kinds()
    with pytest.raises(ValueError, match="built in"):
        with kinds_extended({"always": never}):
            pass


def test_a_new_kind_runs_through_every_engine_unchanged() -> None:
    cfg = dataclasses.replace(config(version="v1", users=1, ops=1),
                              properties=(STRICT.name, NEVER.name))  # type: ignore[union-attr]
    with kinds_extended({"never": never}):
        result = explore(WITH_NEVER, cfg)
        strict, new = result.result(STRICT.name), result.result(NEVER.name)  # type: ignore[union-attr]
        assert new.verdict == VIOLATED and new.kind == "never"
        assert new.trace is not None and strict.trace is not None and len(new.trace) == len(strict.trace)
        data: dict[str, Any] = counterexample_data(result, new, Semantics(WITH_NEVER, cfg), "spec.tim3")
        assert data["property"]["kind"] == "never" and data["violation"]
        assert replay(WITH_NEVER, data).status == VIOLATES
        assert simulate(WITH_NEVER, cfg, runs=50).result(NEVER.name).verdict == VIOLATED
        z3 = bmc(WITH_NEVER, cfg, 8).result(NEVER.name)
        assert z3.verdict == VIOLATED and z3.trace is not None and len(z3.trace) == len(strict.trace)


def test_a_new_kind_is_proved_as_its_form() -> None:
    from checker.engines.symbolic.prove import prove

    backs = SPEC.prop("collateral-backs-supply")
    assert backs is not None and backs.check is not None
    unbacked = Property("unbacked-supply", "never", "supply exceeds the locked collateral",
                        check=lambda v: not backs.check(v))  # type: ignore[misc]
    spec = dataclasses.replace(SPEC, properties=SPEC.properties + (unbacked,))
    cfg = dataclasses.replace(config(version="v3", users=1, ops=1), properties=(backs.name, unbacked.name))
    with kinds_extended({"never": never}):
        result = prove(spec, cfg)
    assert result.result(unbacked.name).verdict == result.result(backs.name).verdict == "PROVED"
