"""The loader rejects each kind of bad spec with a message naming the spec file, and
validates user options."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from checker.errors import SpecError, UsageError
from checker.interfaces.loader import config_from_options, load_spec, validate
from checker.model.spec import ActionDecl, Handler, Param, ProcessDecl, Property
from spec.tim3 import SPEC

SOURCE = SPEC.source


def _rejects(spec: Any, *fragments: str) -> str:
    with pytest.raises(SpecError) as info:
        validate(spec)
    msg = str(info.value)
    assert SOURCE in msg, msg
    for f in fragments:
        assert f in msg, msg
    return msg


def test_shipped_spec_is_valid() -> None:
    validate(SPEC)
    spec, module = load_spec(None)
    assert spec is SPEC and module == "spec.tim3"


def test_load_by_file_and_package_path() -> None:
    root = Path(SOURCE).parent
    assert load_spec(str(root))[1] == "spec.tim3"
    assert load_spec(SOURCE)[1] == "spec.tim3"


def test_load_errors_are_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no module named 'nosuch'"):
        load_spec("nosuch.model")
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(str(tmp_path / "missing.py"))
    empty = tmp_path / "empty_model.py"
    empty.write_text("X = 1\n")
    with pytest.raises(SpecError, match=r"empty_model\.py: no SPEC defined"):
        load_spec(str(empty))
    broken = tmp_path / "broken_model.py"
    broken.write_text("def f(:\n")
    with pytest.raises(SpecError, match=r"broken_model\.py:1: syntax error"):
        load_spec(str(broken))


def test_duplicate_property_names() -> None:
    _rejects(dataclasses.replace(SPEC, properties=SPEC.properties + SPEC.properties[:1]),
             f"property {SPEC.properties[0].name!r} is declared twice")


def test_unknown_property_kind() -> None:
    bad = dataclasses.replace(SPEC.properties[1], kind="eventually")
    _rejects(dataclasses.replace(SPEC, properties=(bad,) + SPEC.properties[2:]), "'eventually'", "always")


def test_handler_for_undeclared_action() -> None:
    decl = SPEC.process_decls[0]
    h = Handler("Typo", "MintTIM4", decl.handlers[0].fn)
    bad = dataclasses.replace(decl, handlers=decl.handlers + (h,))
    _rejects(dataclasses.replace(SPEC, process_decls=(bad,) + SPEC.process_decls[1:]), "'MintTIM4'", "not declared")


def test_action_tag_with_unknown_domain() -> None:
    actions = SPEC.actions + (ActionDecl("Extra", (("Amount", "amonut"),)),)
    _rejects(dataclasses.replace(SPEC, actions=actions), "'amonut'", "domains()")


def test_property_over_unknown_field() -> None:
    p = Property("reads-typo", "always", "typo", check=lambda w: w.token.suply >= 0)
    msg = _rejects(dataclasses.replace(SPEC, properties=SPEC.properties + (p,)),
                   "property 'reads-typo' reads unknown field", "suply")
    assert "fields of token: balances, supply" in msg


def test_property_over_unknown_process() -> None:
    p = Property("reads-nothing", "at-quiescence", "typo", check=lambda w: w.tokens.supply >= 0)
    _rejects(dataclasses.replace(SPEC, properties=SPEC.properties + (p,)), "reads unknown field", "fields of coordinator")


def test_sometimes_goal_over_unknown_field() -> None:
    p = Property("goal-typo", "sometimes", "typo", goals={"g": lambda w: w.state.postions == {}})
    _rejects(dataclasses.replace(SPEC, properties=SPEC.properties + (p,)), "goal 'g'", "postions")


def test_duplicate_param_names() -> None:
    _rejects(dataclasses.replace(SPEC, params=SPEC.params + SPEC.params[1:2]), "parameter 'users' is declared twice")


@pytest.mark.parametrize("param", [
    Param("users", "int", "2", "wrong type"),
    Param("amounts", "ints", 1, "not a tuple"),
    Param("version", "str", "v9", "not a choice", choices=("v1", "v2", "v3")),
])
def test_default_param_of_wrong_type(param: Param) -> None:
    params = tuple(param if p.name == param.name else p for p in SPEC.params)
    _rejects(dataclasses.replace(SPEC, params=params), f"default of parameter {param.name!r}")


def test_options_parse_and_resolve() -> None:
    cfg = config_from_options(SPEC, version="v1", ops="1", amounts="1,2", faults=["lock-fail,unlock-fail"],
                              params=["max-supply=3"], network="fifo")
    assert cfg.params["version"] == "v1" and cfg.params["amounts"] == (1, 2)
    assert cfg.params["max_supply"] == 3 and cfg.params["collateral"] == 2  # derived from ops × max amount
    assert cfg.faults == frozenset({"lock-fail", "unlock-fail"}) and cfg.network == "fifo"


@pytest.mark.parametrize("options, fragment", [
    ({"version": "v9"}, "choose one of v1, v2, v3"),
    ({"faults": ["bogus"]}, "choose from lock-fail"),
    ({"users": 0}, "--users: must be at least 1"),
    ({"amounts": "1,x"}, "--amounts: expected comma-separated integers"),
    ({"network": "lifo"}, "--network"),
    ({"params": ["nope=1"]}, "--param nope: unknown parameter"),
    ({"params": ["users"]}, "expected name=value"),
    ({"properties": ["nope"]}, "--property: unknown property 'nope'"),
    ({"max_states": 0}, "--max-states"),
])
def test_bad_options(options: dict[str, Any], fragment: str) -> None:
    with pytest.raises(UsageError, match=None) as info:
        config_from_options(SPEC, **options)
    assert fragment in str(info.value)


def test_initial_state_of_another_type_than_state_type_is_rejected() -> None:
    from checker.model.values import FrozenMap
    from spec.tim3.states import LockState

    def build(params: Any) -> Any:
        insts = list(SPEC.build(params))
        user = next(i for i in insts if isinstance(i.decl, ProcessDecl) and i.decl.kind == "user")
        k = insts.index(user)
        insts[k] = dataclasses.replace(user, init=LockState(FrozenMap(), FrozenMap()))
        return tuple(insts)

    _rejects(dataclasses.replace(SPEC, build=build), "user1", "declares state_type UserState")


def test_handler_name_defaults_to_its_action() -> None:
    h = Handler(action="Bump", fn=lambda s, m, ctx: s)
    assert h.name == "Bump"
    assert Handler("bump-it", "Bump", h.fn).name == "bump-it"
    with pytest.raises(TypeError, match="needs fn="):
        Handler(action="Bump")
    with pytest.raises(TypeError, match="needs action="):
        Handler("x", fn=h.fn)
