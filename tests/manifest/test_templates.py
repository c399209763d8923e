"""The ready-made templates: one per TIM3 property of DESIGN.md, each expanding to a valid check."""

from __future__ import annotations

import pytest

from checker.manifest.expr import check_types, parse_expression
from checker.model.spec import PropertyKind
from checker.manifest.templates import (
    TEMPLATES,
    Expansion,
    PropertyTemplate,
    answer_call,
    answer_spec_error,
    expand,
    template_named,
)

TIM3_PROPERTIES = (
    "update-follows-success",
    "positions-match-supply",
    "positions-match-supply-inflight",
    "positions-match-supply-strict",
    "collateral-backs-supply",
    "every-request-answered",
    "mint-and-burn-reachable",
)
ARGS = {
    "expr": "sum(positions)",
    "action": "UpdatePosition",
    "tag": "Amount",
    "observable": "supply",
    "answer": "MintTIM3-Response Status=success",
}


def test_every_tim3_property_has_a_template() -> None:
    assert sorted(t.tim3 for t in TEMPLATES) == sorted(TIM3_PROPERTIES)
    assert len({t.name for t in TEMPLATES}) == len(TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
@pytest.mark.parametrize("optional", [False, True])
def test_expansion_parses(template: PropertyTemplate, optional: bool) -> None:
    args = {a.name: ARGS[a.kind] for a in template.args if a.required or optional}
    exp = expand(template, args, ops=2)
    assert exp.kind is template.kind and exp.meaning
    obs = ("positions", "supply")
    delta = template.kind is PropertyKind.RESPONSE
    texts = [x for x in (exp.check, exp.trigger, exp.discharge) if x] + [g[1] for g in exp.goals]
    assert texts
    for text in texts:
        check_types(parse_expression(text, obs, allow_delta=delta))


def test_expansions_pinned() -> None:
    def one(name: str, **args: str) -> Expansion:
        t = template_named(name)
        assert t is not None
        return expand(t, args, ops=1)

    assert one("equal-at-quiescence", left="sum(positions)", right="supply").check == "sum(positions) == supply"
    assert one(
        "equal-counting-in-flight", left="supply", right="a + b", action="U", tag="Amount", pending="p"
    ).check == ('supply == (a + b) + in_flight_sum("U", "Amount") + p')
    assert one("backed-by", value="supply", backing="locked").check == (
        "supply <= locked and (not quiescent or supply == locked)"
    )
    assert one("every-request-answered", open="len(open)").check == (
        "unanswered == 0 and extra_answers == 0 and len(open) == 0"
    )
    change = one("change-followed-by", cause="supply", effect="positions_sum")
    assert (change.trigger, change.discharge) == ("delta(supply)", "delta(positions_sum)")
    reach = one("mint-and-burn-reachable", mint="Minted", burn="Burned Status=ok")
    # with one operation per wallet a burn (which needs a mint first) is not required
    assert reach.goals == (
        ("mint succeeds", 'received("Minted") > 0', True),
        ("burn succeeds", 'received("Burned", "Status", "ok") > 0', False),
    )


def test_answer_specs() -> None:
    assert answer_call("A") == 'received("A")'
    assert answer_call("A  Status = ok ") == 'received("A", "Status", "ok")'
    assert answer_spec_error("A Status=ok") is None
    assert answer_spec_error("A Status") is not None
    assert answer_spec_error("") is not None
    assert answer_spec_error('A"') is not None
    assert template_named("nope") is None
