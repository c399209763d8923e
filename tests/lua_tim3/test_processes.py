"""The TIM3 Lua processes on the aos runtime: boot, the seed's flows, the v2 tags, the
v3 corrections and the managers' checks, asserted on observed states and on sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from checker.ao.runtime import AoMessage
from checker.model.values import FrozenMap, make_message
from spec.tim3 import SPEC
from spec.tim3.lua_observe import OBSERVERS, ObserveError, observe_send
from spec.tim3.states import CoordinatorState, LockState, Pending, PositionState, TokenState
from tests.lua_tim3.lockstep import OWNER, LuaTim3

USERS = ("user1", "user2")


def params(**kw: Any) -> Any:
    p = SPEC.default_params().set("collateral", None).set("max_supply", None)
    for k, v in kw.items():
        p = p.set(k, v)
    return SPEC.resolve(p)


class Faults:
    """Checker.fault answering from a fixed table (default: no fault)."""

    def __init__(self, **hits: bool) -> None:
        self.hits = {k.replace("_", "-"): v for k, v in hits.items()}
        self.asked: list[str] = []

    def fault(self, name: str) -> bool:
        self.asked.append(name)
        return self.hits.get(name, False)


class System:
    """The four Lua processes and a FIFO of messages between them; users' answers kept."""

    def __init__(self, version: str, **kw: Any) -> None:
        self.lua = LuaTim3(version, params(**kw))
        self.state = dict(self.lua.booted)
        self.queue: list[AoMessage] = []
        self.answers: list[tuple[str, dict[str, str]]] = []
        self.sent: list[tuple[str, str, dict[str, str]]] = []  # (src, target, tags) of every Lua send
        self.n = 0

    def observe(self, pid: str) -> Any:
        return OBSERVERS[pid](self.state[pid].decode())

    def request(self, user: str, action: str, amount: int, n: int = 0) -> str:
        req = f"{user}#{n}"
        self.queue.append(AoMessage(req, user, "coordinator", (("Action", action), ("Amount", str(amount)), ("Request", req)),
                                    owner=user, timestamp=1_700_000_000_000))
        return req

    def step(self, faults: Any = None) -> Any:
        msg = self.queue.pop(0)
        out = self.lua.procs[msg.dst].deliver(self.state[msg.dst], msg, faults)
        self.state[msg.dst] = out.state
        for s in out.sends:
            tags = dict(s.tags)
            self.sent.append((msg.dst, s.target, tags))
            if s.target in self.state:
                self.n += 1
                self.queue.append(AoMessage(s.id or f"s{self.n}", msg.dst, s.target, tuple(s.tags),
                                            owner=msg.dst, timestamp=msg.timestamp))
            else:
                self.answers.append((s.target, tags))
        return out

    def run(self, faults: Any = None) -> None:
        while self.queue:
            self.step(faults)


def fm(d: Mapping[str, Any] | None = None) -> FrozenMap[str, Any]:
    return FrozenMap(d or {})


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_boot_gives_the_models_initial_states(version: str) -> None:
    s = System(version, users=2, collateral=3)
    assert s.observe("coordinator") == CoordinatorState(fm())
    assert s.observe("lock") == LockState(fm({"user1": 3, "user2": 3}), fm())
    assert s.observe("token") == TokenState(fm(), 0, fm())
    assert s.observe("state") == PositionState(fm())
    g = s.state["token"].decode()
    assert g["Config"] == fm({"Coordinator": "coordinator", "MaxSupply": 4})


@pytest.mark.parametrize("pid, tags", [
    ("coordinator", (("Action", "Configure"), ("LockManager", "evil"), ("TokenManager", "evil"), ("StateManager", "evil"))),
    ("lock", (("Action", "Configure"), ("Coordinator", "evil"))),
    ("lock", (("Action", "Credit"), ("User", "user1"), ("Amount", "100"))),
    ("token", (("Action", "Configure"), ("Coordinator", "evil"), ("MaxSupply", "100"))),
    ("state", (("Action", "Configure"), ("Coordinator", "evil"))),
])
def test_only_the_owner_configures(pid: str, tags: tuple[tuple[str, str], ...]) -> None:
    s = System("v3")
    before = s.state[pid].decode()
    out = s.lua.procs[pid].deliver(s.state[pid], AoMessage("x", "user1", pid, tags, owner="user1"))
    assert out.error is not None and "owner" in out.error.message
    assert out.state.decode() == before and not out.sends
    ok = s.lua.procs[pid].deliver(s.state[pid], AoMessage("y", OWNER, pid, tags, owner=OWNER))
    assert ok.error is None and ok.state.decode() != before


@pytest.mark.parametrize("version, position", [("v1", {}), ("v2", {"user1": 1}), ("v3", {"user1": 1})])
def test_mint_flow(version: str, position: dict[str, int]) -> None:
    s = System(version, users=1, ops=2)
    req = s.request("user1", "MintTIM3", 1)
    s.step()
    assert s.observe("coordinator") == CoordinatorState(fm({req: Pending("user1", "mint", 1, "locking")}))
    assert observe_send("coordinator", "lock", tuple(s.sent[-1][2].items())) == make_message(
        "coordinator", "lock", "LockCollateral", {"Request": req, "User": "user1", "Amount": 1})
    s.step()  # LockCollateral at the lock manager
    assert s.observe("lock") == LockState(fm({"user1": 1}), fm({"user1": 1}))
    s.step()  # LockCollateral-Success at the coordinator
    assert s.observe("coordinator").pending[req].stage == "minting"
    s.run()
    assert s.observe("coordinator") == CoordinatorState(fm())
    assert s.observe("token") == TokenState(fm({"user1": 1}), 1, fm({req: 1}))
    assert s.observe("state") == PositionState(fm(position))
    assert [(a[0], a[1]["Action"], a[1]["Request"], a[1]["Status"]) for a in s.answers] == [
        ("user1", "MintTIM3-Response", req, "success")]


@pytest.mark.parametrize("version, position", [("v1", {}), ("v2", {"user1": 0}), ("v3", {"user1": 0})])
def test_mint_then_burn(version: str, position: dict[str, int]) -> None:
    s = System(version, users=1, ops=2)
    m = s.request("user1", "MintTIM3", 1, 0)
    s.run()
    b = s.request("user1", "BurnTIM3", 1, 1)
    s.run()
    assert s.observe("token") == TokenState(fm({"user1": 0}), 0, fm({m: 1, b: -1}))
    assert s.observe("lock") == LockState(fm({"user1": 2}), fm({"user1": 0}))
    assert s.observe("state") == PositionState(fm(position))
    assert [(a[1]["Request"], a[1]["Status"]) for a in s.answers] == [(m, "success"), (b, "success")]


def test_v2_sends_exactly_the_seeds_tags() -> None:
    s = System("v2", users=1, ops=2)
    s.request("user1", "MintTIM3", 1, 0)
    s.run()
    s.request("user1", "BurnTIM3", 1, 1)
    s.run()
    updates = [tags for src, dst, tags in s.sent if tags.get("Action") == "UpdatePosition"]
    seed = {"User", "TokenType", "Amount", "Operation", "CollateralType", "CollateralAmount", "Timestamp"}
    assert [{k: v for k, v in u.items() if k in seed | {"Action"}} for u in updates] == [
        {"Action": "UpdatePosition", "User": "user1", "TokenType": "TIM3", "Amount": "1", "Operation": "mint",
         "CollateralType": "USDA", "CollateralAmount": "1", "Timestamp": "1700000000000"},
        {"Action": "UpdatePosition", "User": "user1", "TokenType": "TIM3", "Amount": "-1", "Operation": "burn",
         "CollateralType": "USDA", "CollateralAmount": "-1", "Timestamp": "1700000000000"},
    ]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_v1_v2_refused_mint_keeps_the_collateral_locked(version: str) -> None:
    s = System(version, users=1, ops=2)
    req = s.request("user1", "MintTIM3", 1)
    s.run(Faults(mint_fail=True))
    assert s.observe("lock") == LockState(fm({"user1": 1}), fm({"user1": 1}))
    assert s.observe("token") == TokenState(fm(), 0, fm())
    assert [(a[1]["Request"], a[1]["Status"]) for a in s.answers] == [(req, "error")]


def test_v3_refused_mint_rolls_back_its_lock() -> None:
    s = System("v3", users=1, ops=2)
    req = s.request("user1", "MintTIM3", 1)
    for _ in range(4):  # MintTIM3, LockCollateral, LockCollateral-Success, Mint (refused)
        s.step(Faults(mint_fail=True))
    s.step()  # Mint-Response error at the coordinator
    assert s.observe("coordinator").pending[req] == Pending("user1", "mint", 1, "rollback")
    s.step(Faults(unlock_fail=True))  # the unlock is refused once ...
    s.step()
    assert s.observe("coordinator").pending[req].stage == "rollback"  # ... and retried
    s.run()
    assert s.observe("lock") == LockState(fm({"user1": 2}), fm({"user1": 0}))
    assert s.observe("coordinator") == CoordinatorState(fm())
    assert [(a[1]["Request"], a[1]["Status"]) for a in s.answers] == [(req, "error")]


def test_v3_updates_the_position_when_the_burn_happens() -> None:
    s = System("v3", users=1, ops=2)
    s.request("user1", "MintTIM3", 1, 0)
    s.run()
    b = s.request("user1", "BurnTIM3", 1, 1)
    s.step()
    s.step()  # Burn at the token manager
    s.step()  # Burn-Response success: UpdatePosition(-1) and UnlockCollateral
    assert s.observe("coordinator").pending[b] == Pending("user1", "burn", 1, "unlocking", True)
    assert [(d, t["Action"], t.get("Amount")) for _, d, t in s.sent[-2:]] == [
        ("state", "UpdatePosition", "-1"), ("lock", "UnlockCollateral", "1")]


@pytest.mark.parametrize("action", ["MintTIM3", "BurnTIM3"])
def test_v3_refuses_a_duplicate_request(action: str) -> None:
    s = System("v3", users=1, ops=2)
    s.request("user1", action, 1)
    s.step()
    before = s.state["coordinator"]
    again = AoMessage("user1#0", "user1", "coordinator", (("Action", action), ("Amount", "1"), ("Request", "user1#0")))
    out = s.lua.procs["coordinator"].deliver(before, again)
    assert out.error is not None and "duplicate" in out.error.message
    assert out.state.decode() == before.decode() and not out.sends
    v1 = System("v1", users=1, ops=2)  # v1 overwrites the open request, as its model does
    v1.request("user1", action, 1)
    v1.step()
    assert v1.lua.procs["coordinator"].deliver(v1.state["coordinator"], again).error is None


@pytest.mark.parametrize("pid, tags", [
    ("coordinator", (("Action", "LockCollateral-Success"), ("Request", "user1#0"), ("User", "user1"), ("Amount", "1"))),
    ("coordinator", (("Action", "Mint-Response"), ("Request", "user1#0"), ("Status", "success"), ("Amount", "1"))),
    ("lock", (("Action", "UnlockCollateral"), ("Request", "x"), ("User", "user1"), ("Amount", "1"))),
    ("token", (("Action", "Mint"), ("Request", "x"), ("User", "adversary"), ("Amount", "1"))),
    ("state", (("Action", "UpdatePosition"), ("User", "user1"), ("Amount", "5"))),
])
def test_v3_and_managers_take_responses_only_from_their_peer(pid: str, tags: tuple[tuple[str, str], ...]) -> None:
    s = System("v3", users=1, ops=2)
    s.request("user1", "MintTIM3", 1)
    s.step()
    before = s.state[pid].decode()
    out = s.lua.procs[pid].deliver(s.state[pid], AoMessage("adv", "adversary", pid, tags, owner="adversary"))
    assert not out.handlers and out.error is None and not out.sends
    assert OBSERVERS[pid](out.state.decode()) == OBSERVERS[pid](before)


def test_v1_takes_a_forged_lock_success() -> None:
    s = System("v1", users=1, ops=2)
    req = s.request("user1", "MintTIM3", 1)
    s.step()
    forged = (("Action", "LockCollateral-Success"), ("Request", req), ("User", "user1"), ("Amount", "1"))
    out = s.lua.procs["coordinator"].deliver(s.state["coordinator"], AoMessage("adv", "adversary", "coordinator", forged))
    assert [h.name for h in out.handlers] == ["LockCollateral-Success"]
    assert [dict(x.tags)["Action"] for x in out.sends] == ["Mint"]


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_unknown_request_raises(version: str) -> None:
    s = System(version)
    tags = (("Action", "Burn-Response"), ("Request", "nobody#0"), ("Status", "success"), ("Amount", "1"))
    out = s.lua.procs["coordinator"].deliver(s.state["coordinator"], AoMessage("t", "token", "coordinator", tags))
    assert out.error is not None and "unknown request" in out.error.message and not out.sends


def test_managers_refuse_by_data() -> None:
    s = System("v3", users=1, ops=2, collateral=1, max_supply=0)
    s.request("user1", "MintTIM3", 1)
    s.run()
    assert [(a[1]["Status"]) for a in s.answers] == ["error"]  # the cap
    assert s.observe("token") == TokenState(fm(), 0, fm())
    s2 = System("v1", users=1, ops=2, collateral=0)
    s2.request("user1", "MintTIM3", 1)
    s2.run()
    assert s2.observe("lock") == LockState(fm({"user1": 0}), fm())  # insufficient: nothing locked
    s2.request("user1", "BurnTIM3", 1, 1)
    s2.run()
    assert s2.observe("token") == TokenState(fm(), 0, fm())  # nothing to burn
    assert [a[1]["Status"] for a in s2.answers] == ["error", "error"]


def test_faults_are_asked_only_past_the_data_check() -> None:
    s = System("v3", users=1, ops=2, collateral=0)
    s.request("user1", "MintTIM3", 1)
    f = Faults()
    s.run(f)
    assert f.asked == []  # free < amount short-circuits: lock-fail is never asked
    s = System("v3", users=1, ops=2)
    s.request("user1", "MintTIM3", 1)
    f = Faults()
    s.run(f)
    assert f.asked == ["lock-fail", "mint-fail"]


def test_a_float_amount_is_a_divergence_not_hidden() -> None:
    s = System("v1", users=1, ops=2)
    tags = (("Action", "LockCollateral"), ("Request", "r"), ("User", "user1"), ("Amount", "1.0"))
    out = s.lua.procs["lock"].deliver(s.state["lock"], AoMessage("c", "coordinator", "lock", tags))
    assert out.error is None
    with pytest.raises(ObserveError, match="float"):
        OBSERVERS["lock"](out.state.decode())
    with pytest.raises(ObserveError, match="int"):
        observe_send("lock", "coordinator", tuple(out.sends[0].tags))


@pytest.mark.parametrize("key", ["v1", "v2", "v3", "lock", "token", "state"])
def test_handlers_are_the_models_in_the_models_order(key: str) -> None:
    from spec.tim3.coordinator import COORDINATORS
    from spec.tim3.lua_observe import lua_file
    from spec.tim3.lua_system import scanned_handlers
    from spec.tim3.managers import LOCK_MANAGER, STATE_MANAGER, TOKEN_MANAGER

    decl = {"lock": LOCK_MANAGER, "token": TOKEN_MANAGER, "state": STATE_MANAGER}.get(key) or COORDINATORS[key]
    handlers = scanned_handlers(lua_file(key))
    assert tuple(n for n, _ in handlers) == tuple(h.name for h in decl.handlers)
    assert {a for _, acts in handlers for a in acts} == {h.action for h in decl.handlers}
