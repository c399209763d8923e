"""The abstraction from Lua globals to the model's states, on hand-made decoded values
(``Snapshot.decode()`` gives a ``FrozenMap`` tree: tables -> FrozenMap, integers -> int,
floats -> float, booleans -> bool)."""

from __future__ import annotations

from typing import Any

import pytest

from checker.model.values import FrozenMap, Message, make_message
from spec.tim3 import SPEC, build, domains
from spec.tim3.actions import ACTIONS
from spec.tim3.lua_observe import (
    INT_DOMAINS,
    LUA_FILES,
    OBSERVERS,
    ObserveError,
    boot_messages,
    lua_file,
    lua_tostring,
    model_tags,
    observe_coordinator,
    observe_lock,
    observe_send,
    observe_state,
    observe_token,
)
from spec.tim3.states import CoordinatorState, LockState, Pending, PositionState, TokenState


def fm(**kw: Any) -> FrozenMap[str, Any]:
    return FrozenMap(kw)


def _request(user: str, op: str, amount: Any, stage: str, **extra: Any) -> FrozenMap[str, Any]:
    return fm(originalMsg=fm(From=user, Id="x"), operation=op, amount=amount, stage=stage, **extra)


def test_coordinator_maps_every_field() -> None:
    g = fm(
        Config=fm(lockManagerProcess="lock"),
        PendingRequests=FrozenMap(
            {
                "user1#0": _request("user1", "mint", 1, "locking"),
                "user2#1": _request("user2", "burn", 2, "unlocking", updateSent=True),
            }
        ),
    )
    assert observe_coordinator(g) == CoordinatorState(
        FrozenMap(
            {
                "user1#0": Pending("user1", "mint", 1, "locking", False),
                "user2#1": Pending("user2", "burn", 2, "unlocking", True),
            }
        )
    )
    assert observe_coordinator(fm(PendingRequests=FrozenMap())) == CoordinatorState(FrozenMap())


@pytest.mark.parametrize("stage", ["locking", "minting", "rollback", "burning", "unlocking"])
def test_every_model_stage_is_accepted(stage: str) -> None:
    g = fm(PendingRequests=FrozenMap({"r": _request("u", "mint", 1, stage)}))
    assert observe_coordinator(g).pending["r"].stage == stage


@pytest.mark.parametrize(
    "record, what",
    [
        (_request("u", "mint", 1.0, "locking"), "amount"),  # a float where the model has an int
        (_request("u", "mint", True, "locking"), "amount"),
        (_request("u", "mint", "1", "locking"), "amount"),
        (_request("u", "mint", 1, "Locking"), "stage"),
        (_request("u", "transfer", 1, "locking"), "operation"),
        (_request("u", "mint", 1, "locking", updateSent=1), "updateSent"),
        (fm(operation="mint", amount=1, stage="locking"), "originalMsg"),
    ],
)
def test_coordinator_rejects_what_the_model_cannot_hold(record: FrozenMap[str, Any], what: str) -> None:
    with pytest.raises(ObserveError, match=what):
        observe_coordinator(fm(PendingRequests=FrozenMap({"r": record})))


def test_managers() -> None:
    assert observe_lock(fm(FreeCollateral=fm(user1=2, user2=0), LockedCollateral=fm(user1=0))) == LockState(
        fm(user1=2, user2=0), fm(user1=0)
    )
    assert observe_token(fm(Balances=fm(user1=1), TotalSupply=1, Applied=FrozenMap({"user1#0": 1}))) == TokenState(
        fm(user1=1), 1, FrozenMap({"user1#0": 1})
    )
    assert observe_state(fm(Positions=fm(user1=-1))) == PositionState(fm(user1=-1))


def test_absent_and_zero_entries_stay_apart() -> None:
    assert observe_lock(fm(FreeCollateral=fm(u=0), LockedCollateral=fm())) != LockState(fm(), fm())


@pytest.mark.parametrize(
    "g, what",
    [
        (fm(Balances=fm(), TotalSupply=0.0, Applied=fm()), "TotalSupply"),
        (fm(Balances=fm(u=1.0), TotalSupply=1, Applied=fm()), "Balances"),
        (fm(TotalSupply=0, Applied=fm()), "Balances is nil"),
        (fm(Balances=5, TotalSupply=0, Applied=fm()), "table"),
    ],
)
def test_token_rejects_floats_and_missing_globals(g: FrozenMap[str, Any], what: str) -> None:
    with pytest.raises(ObserveError, match=what):
        observe_token(g)


def test_observers_and_files_cover_every_process() -> None:
    assert set(OBSERVERS) == {"coordinator", "lock", "token", "state"}
    assert set(LUA_FILES) == {"v1", "v2", "v3", "lock", "token", "state"}
    for key in LUA_FILES:
        assert lua_file(key).is_file(), key


def test_boot_messages_fund_each_user_and_configure_everyone() -> None:
    p = SPEC.default_params().set("users", 2).set("collateral", 3).set("max_supply", 5)
    assert boot_messages(p) == {
        "coordinator": [
            (("Action", "Configure"), ("LockManager", "lock"), ("TokenManager", "token"), ("StateManager", "state"))
        ],
        "lock": [
            (("Action", "Configure"), ("Coordinator", "coordinator")),
            (("Action", "Credit"), ("User", "user1"), ("Amount", "3")),
            (("Action", "Credit"), ("User", "user2"), ("Amount", "3")),
        ],
        "token": [(("Action", "Configure"), ("Coordinator", "coordinator"), ("MaxSupply", "5"))],
        "state": [(("Action", "Configure"), ("Coordinator", "coordinator"))],
    }
    # derived defaults are resolved
    assert boot_messages(SPEC.default_params().set("collateral", None).set("max_supply", None))["token"][0][2][1] == "4"
    # and the model's system has exactly these processes
    assert {i.pid for i in build(SPEC.default_params())} >= set(boot_messages(SPEC.default_params()))


def test_int_domains_are_the_int_valued_domains() -> None:
    d = domains(SPEC.default_params().set("amounts", (1, 2)))
    assert INT_DOMAINS == {k for k, vs in d.items() if all(type(v) is int for v in vs)}
    used = {dom for a in ACTIONS for _, dom in a.tags}
    assert used <= set(d)


def test_lua_tostring() -> None:
    assert [lua_tostring(v) for v in (1, -1, 0, 1.0, -2.0, 0.5, 1e15, 1e100, "a", True)] == [
        "1", "-1", "0", "1.0", "-2.0", "0.5", "1e+15", "1e+100", "a", "true"
    ]


def test_observe_send_keeps_declared_tags_typed() -> None:
    tags = (
        ("Action", "UpdatePosition"), ("Amount", "-1"), ("CollateralAmount", "-1"), ("CollateralType", "USDA"),
        ("Operation", "burn"), ("Timestamp", "0"), ("TokenType", "TIM3"), ("User", "user1"), ("X-Reference", "3"),
    )
    assert observe_send("coordinator", "state", tags) == make_message(
        "coordinator", "state", "UpdatePosition", {"User": "user1", "Amount": -1}
    )
    assert observe_send("lock", "coordinator", (("Action", "LockCollateral-Success"), ("Request", "user1#0"),
                                                ("User", "user1"), ("Amount", "2"))) == Message(
        "lock", "coordinator", "LockCollateral-Success", (("Amount", 2), ("Request", "user1#0"), ("User", "user1"))
    )


@pytest.mark.parametrize(
    "tags, what",
    [
        ((("Action", "UpdatePosition"), ("User", "u"), ("Amount", "1.0")), "int"),
        ((("Action", "UpdatePosition"), ("User", "u"), ("Amount", "--1")), "int"),
        ((("Action", "UpdatePosition"), ("User", "u"), ("Amount", " 1")), "int"),
        ((("Action", "UpdatePosition"), ("User", "u")), "without its Amount"),
        ((("Action", "Transfer"),), "no such Action"),
        ((("User", "u"),), "without an Action"),
    ],
)
def test_observe_send_rejects(tags: tuple[tuple[str, str], ...], what: str) -> None:
    with pytest.raises(ObserveError, match=what):
        observe_send("coordinator", "state", tags)


def test_model_tags_round_trip() -> None:
    m = make_message("coordinator", "lock", "LockCollateral", {"Request": "user1#0", "User": "user1", "Amount": 2})
    assert model_tags(m) == (("Action", "LockCollateral"), ("Amount", "2"), ("Request", "user1#0"), ("User", "user1"))
    assert observe_send(m.src, m.dst, model_tags(m)) == m
