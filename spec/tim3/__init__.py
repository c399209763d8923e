"""The TIM3 model: Coordinator (v1, v2, v3), Lock/Token/State Managers and users.

``SPEC`` is what tim3check loads. The default scenario is the release candidate
(coordinator ``v3``) with 2 users and 2 operations each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checker.config import CheckConfig
from checker.model.spec import Param, Params, ProcessInstance, Spec
from checker.model.values import FrozenMap
from spec.tim3.actions import ACTIONS
from spec.tim3.coordinator import COORDINATORS, empty_coordinator
from spec.tim3.invariants import INVARIANTS
from spec.tim3.managers import LOCK_MANAGER, STATE_MANAGER, TOKEN_MANAGER
from spec.tim3.properties import PROPERTIES
from spec.tim3.states import LockState, PositionState, TokenState, UserState
from spec.tim3.users import USER, request_id

PARAMS = (
    Param("version", "str", "v3", "coordinator version: v1 (deployed), v2 (seed fix), v3 (corrected)",
          choices=tuple(COORDINATORS), flag="coordinator", aliases=("version",)),
    # `tim3check --version` prints the tool's version; `tim3check check --version v3` is --coordinator v3
    Param("users", "int", 2, "number of users", minimum=1),
    Param("ops", "int", 2, "operations (mint or burn) per user", minimum=1),
    Param("amounts", "ints", (1,), "amounts a user may mint or burn (e.g. 1,2; each extra amount multiplies the state space)", minimum=1),
    Param("collateral", "int", None, "initial free USDA per user (default: ops × largest amount, always enough)", minimum=0),
    Param("max_supply", "int", None, "Token Manager's max-supply cap (default: never binding)", minimum=0),
    Param("impl", "str", "python", "implementation of the coordinator and managers: python (the model) or lua "
          "(spec/tim3/lua/, run by tim3check's aos runtime)", choices=("python", "lua")),
    Param("aos", "str", "default", "with --impl lua: the aos behaviour the runtime follows",
          choices=("default", "require-json", "normalized-tags")),
)

FAULTS = {
    "lock-fail": "the Lock Manager refuses a lock (collateral spent elsewhere); refusals for insufficient collateral always happen",
    "mint-fail": "the Token Manager refuses a mint",
    "unlock-fail": "the Lock Manager refuses an unlock",
}


def user_ids(params: Params) -> tuple[str, ...]:
    return tuple(f"user{i + 1}" for i in range(params["users"]))


def resolve(params: Params) -> Params:
    """Fill derived defaults: enough collateral for every op, a cap that never binds."""
    top = params["ops"] * max(params["amounts"])
    if params["collateral"] is None:
        params = params.set("collateral", top)
    if params["max_supply"] is None:
        params = params.set("max_supply", top * params["users"])
    return params


def build(params: Params) -> tuple[ProcessInstance, ...]:
    users = user_ids(params)
    zero: FrozenMap[str, int] = FrozenMap()
    if params.get("impl", "python") == "lua":
        from spec.tim3.lua_system import lua_processes  # needs lupa only when asked for

        return lua_processes(params) + tuple(ProcessInstance(u, USER, UserState(0, FrozenMap())) for u in users)
    return (
        ProcessInstance("coordinator", COORDINATORS[params["version"]], empty_coordinator()),
        ProcessInstance("lock", LOCK_MANAGER, LockState(FrozenMap({u: params["collateral"] for u in users}), zero)),
        ProcessInstance("token", TOKEN_MANAGER, TokenState(zero, 0, zero)),
        ProcessInstance("state", STATE_MANAGER, PositionState(zero)),
    ) + tuple(ProcessInstance(u, USER, UserState(0, FrozenMap())) for u in users)


def domains(params: Params) -> dict[str, tuple[Any, ...]]:
    users = user_ids(params)
    amounts = tuple(params["amounts"])
    own = ("adversary#0",)
    return {
        "user": users,
        "amount": amounts,
        "delta": amounts + tuple(-a for a in amounts),
        "status": ("success", "error"),
        "own-request": own,
        "request": tuple(request_id(u, n) for u in users for n in range(params["ops"])) + own,
    }


def statistics(config: CheckConfig) -> dict[str, Any]:
    """Messages per completed mint and burn of the checked version, and the longest chain
    to an answer (``spec.tim3.migration_cost.check_statistics``): ``check`` prints them."""
    from spec.tim3.migration_cost import check_statistics  # it imports this module

    return check_statistics(config)


def describe(params: Params) -> str:
    amounts = ",".join(str(a) for a in params["amounts"])
    lua = " (Lua)" if params.get("impl", "python") == "lua" else ""
    return (
        f"coordinator {params['version']}{lua}, {params['users']} users, {params['ops']} ops each, "
        f"amounts {{{amounts}}}, collateral {params['collateral']}, max supply {params['max_supply']}"
    )


SPEC = Spec(
    name="tim3",
    source=str(Path(__file__).resolve()),
    actions=ACTIONS,
    params=PARAMS,
    faults=FAULTS,
    process_decls=(*COORDINATORS.values(), LOCK_MANAGER, TOKEN_MANAGER, STATE_MANAGER, USER),
    build=build,
    domains=domains,
    properties=PROPERTIES,
    resolve=resolve,
    describe=describe,
    symmetric_kinds=("user",),
    symbolic_params=("collateral", "max_supply"),
    reference=lambda p: p.set("impl", "python"),  # --conform: the model the Lua must refine
    invariants=INVARIANTS,  # strengthening invariants, each proved by `prove`, never assumed
    # audit's small matrix scenario; prove's scenarios (each proved in seconds; 2 users x 2 ops takes minutes)
    command_scenarios={"audit": ({"users": 1, "ops": 2},), "prove": ({"users": 3, "ops": 1}, {"users": 1, "ops": 2})},
    statistics=statistics,
)
