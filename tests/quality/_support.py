"""What tests/quality expects of a correct TIM3 run (v3, or v2 without faults): every
property's verdict."""

from __future__ import annotations

from checker.result import EXPECTED_FAIL, HOLDS

# the properties of DESIGN.md, as they were before issue 9 closed its gaps, and their verdicts
DESIGN_VERDICTS = {
    "update-follows-success": HOLDS,
    "positions-match-supply": HOLDS,
    "positions-match-supply-inflight": HOLDS,
    "positions-match-supply-strict": EXPECTED_FAIL,
    "collateral-backs-supply": HOLDS,
    "every-request-answered": HOLDS,
    "mint-and-burn-reachable": HOLDS,
}
# added for issue 9 item 6 (tests/quality/test_property_gaps.py: a mutant for each)
GAP_PROPERTIES = ("positions-match-per-user", "supply-within-cap", "no-non-progress-cycle")
# every property: all hold but the strict one, which is expected to fail
ALL_BUT_STRICT = {**DESIGN_VERDICTS, **dict.fromkeys(GAP_PROPERTIES, HOLDS)}
