"""The release itself: migrating TIM3 from the deployed coordinator (v1) to the fixed one.

``SPEC`` (load it with ``tim3check check --spec spec.tim3.migration``) is the seed's
migration strategy as a model: both coordinators deployed at once (``old`` = v1,
``new`` = ``--coordinator v2|v3``), both authorised at the managers, users whose
frontend points at one of them, and an operator who switches the frontends, backfills
the State Manager from the Token Manager's history and may roll back, each step at any
point of the interleaving. ``--param plan=seed|cutoff|corrected`` picks the plan
(``spec.tim3.migration_operator``); the properties are in
``spec.tim3.migration_properties``.

Before the release every user has minted ``prior`` TIM3 through the old coordinator,
which never told the State Manager: the scenario starts with that history and
positions all zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from checker.config import CheckConfig
from checker.errors import UsageError
from checker.model.spec import ActionDecl, Param, Params, ProcessInstance, Spec
from checker.model.values import FrozenMap
from spec.tim3.actions import ACTIONS
from spec.tim3.coordinator import COORDINATORS, empty_coordinator
from spec.tim3.migration_operator import OPERATORS, PLANS
from spec.tim3.migration_processes import (
    LOCK,
    MIGRATION_LOCK,
    MIGRATION_STATE,
    MIGRATION_TOKEN,
    MIGRATION_USER,
    NEW,
    OLD,
    OPERATOR,
    STATE,
    TOKEN,
    tracked,
)
from spec.tim3.migration_properties import MIGRATION_PROPERTIES
from spec.tim3.migration_states import (
    Entry,
    MLockState,
    MPositionState,
    MTokenState,
    MUserState,
    OperatorState,
)
from spec.tim3.users import request_id

NEW_VERSIONS = ("v2", "v3")

PARAMS = (
    Param("version", "str", "v3", "the new coordinator: v2 (the seed's fix) or v3 (corrected); the old one is v1",
          choices=NEW_VERSIONS, flag="coordinator"),
    Param("plan", "str", "corrected", "the release plan: seed (as written), cutoff (backfill before a recorded "
          "cut-off), corrected (retire, drain, backfill the old coordinator's entries)", choices=PLANS),
    Param("users", "int", 1, "number of users", minimum=1),
    Param("ops", "int", 1, "operations (mint or burn) per user during the release", minimum=1),
    Param("amounts", "ints", (1,), "amounts a user may mint or burn", minimum=1),
    Param("prior", "int", 1, "TIM3 each user minted through the old coordinator before the release", minimum=0),
    Param("auth", "str", "set", "what the managers accept: set (several coordinators, changed by the operator) or "
          "single (one id, replaced by the operator's Configure, as spec/tim3/lua; plan seed only)",
          choices=("set", "single")),
    Param("collateral", "int", None, "free USDA per user at the start (default: ops × largest amount)", minimum=0),
    Param("impl", "str", "python", "the coordinators and managers: python (the model) or lua (coordinator_v1.lua "
          "and coordinator_<version>.lua beside each other, spec/tim3/lua/migration_*.lua managers)",
          choices=("python", "lua")),
)

_ACTIONS_NEW = (
    ActionDecl("SetFrontend", (("Coordinator", "coordinator"), ("Generation", "generation")),
               "operator → user: the frontend's coordinator id (a newer generation wins)"),
    ActionDecl("Retire-Coordinator", (("Coordinator", "coordinator"),),
               "operator → manager: the coordinator may finish its requests, not start new ones"),
    ActionDecl("Reinstate-Coordinator", (("Coordinator", "coordinator"),), "operator → manager: accept it fully again"),
    ActionDecl("Ack", (("Of", "operator-action"),), "manager → operator: the change is applied"),
    ActionDecl("Configure", (("Coordinator", "coordinator"),),
               "operator → manager (auth=single): accept this coordinator, and only it"),
    ActionDecl("Record-Cutoff", (), "operator → Token Manager: record the current end of the history"),
    ActionDecl("GetHistory", (), "operator → Token Manager: read the history (a dryrun)"),
    ActionDecl("History", (("Prior", "history"), ("Log", "history"), ("Cutoff", "cutoff")),
               "Token Manager → operator: every (request, user, change, coordinator), and the cut-off"),
    ActionDecl("Backfill", (("Mode", "mode"), ("Positions", "history"), ("Entries", "history")),
               "operator → State Manager: positions rebuilt from the history (overwrite or add)"),
    ActionDecl("Mark-Stale", (), "operator → State Manager: flag the positions as not current"),
    ActionDecl("Inspect", (), "operator → old coordinator: how many requests are open (aos Eval, a dryrun)"),
    ActionDecl("Inspect-Response", (("Pending", "count"),), "old coordinator → operator: open requests"),
)

# UpdatePosition carries the ghost Request it reports (see migration_processes.tracked)
MIGRATION_ACTIONS: tuple[ActionDecl, ...] = tuple(
    ActionDecl(a.name, a.tags + (("Request", "request"),), a.meaning + " (+ ghost Request)")
    if a.name == "UpdatePosition" else a
    for a in ACTIONS
) + _ACTIONS_NEW


def user_ids(params: Params) -> tuple[str, ...]:
    return tuple(f"user{i + 1}" for i in range(params["users"]))


def prior_id(user: str) -> str:
    """The request id of a user's mint before the release."""
    return f"{user}#pre"


def resolve(params: Params) -> Params:
    """Default collateral: enough for every operation of the release. ``auth=single``
    exists for the seed's plan only (a UsageError otherwise)."""
    if params.get("auth", "set") == "single" and params["plan"] != "seed":
        raise UsageError("--param auth=single: only with plan=seed; the other plans retire the old coordinator "
                         "beside the new one, which needs managers that accept a set of coordinators")
    if params["collateral"] is None:
        params = params.set("collateral", params["ops"] * max(params["amounts"]))
    return params


def build(params: Params) -> tuple[ProcessInstance, ...]:
    """old (v1), new, the three managers, the operator of ``plan``, the users; with
    ``impl=lua`` the coordinators and managers are ``spec.tim3.migration_lua``'s."""
    users, prior = user_ids(params), params["prior"]
    single = params.get("auth", "set") == "single"
    auth: FrozenMap[str, str] = FrozenMap({OLD: "active"} if single else {OLD: "active", NEW: "active"})
    none: FrozenMap[str, str] = FrozenMap()
    held = FrozenMap({u: prior for u in users}) if prior else FrozenMap()
    history = FrozenMap({prior_id(u): Entry(prior_id(u), u, prior, OLD) for u in users}) if prior else FrozenMap()
    version = params["version"]
    operator_and_users = (ProcessInstance(OPERATOR, OPERATORS[params["plan"]], OperatorState()),) + tuple(
        ProcessInstance(u, MIGRATION_USER, MUserState(OLD, 0, 0, FrozenMap())) for u in users)
    if params.get("impl", "python") == "lua":
        from spec.tim3.migration_lua import lua_processes  # needs lupa only when asked for

        return lua_processes(params, users) + operator_and_users
    return (
        ProcessInstance(OLD, tracked(COORDINATORS["v1"], "Coordinator v1 (old, deployed)", inspectable=True),
                        empty_coordinator()),
        ProcessInstance(NEW, tracked(COORDINATORS[version], f"Coordinator {version} (new)"), empty_coordinator()),
        ProcessInstance(LOCK, MIGRATION_LOCK, MLockState(FrozenMap({u: params["collateral"] for u in users}), held,
                                                         auth, none)),
        ProcessInstance(TOKEN, MIGRATION_TOKEN, MTokenState(held, prior * len(users), history, (), auth, -1, none)),
        ProcessInstance(STATE, MIGRATION_STATE, MPositionState(FrozenMap(), False, False, FrozenMap(), auth)),
    ) + operator_and_users


def domains(params: Params) -> dict[str, tuple[Any, ...]]:
    users = user_ids(params)
    amounts = tuple(params["amounts"])
    own = ("adversary#0",)
    requests = tuple(request_id(u, n) for u in users for n in range(params["ops"]))
    return {
        "user": users,
        "amount": amounts,
        "delta": amounts + tuple(-a for a in amounts),
        "status": ("success", "error"),
        "own-request": own,
        "request": requests + tuple(prior_id(u) for u in users) + own,
        "coordinator": (OLD, NEW),
        "generation": (1, 2),
        "operator-action": ("Retire-Coordinator", "Reinstate-Coordinator", "Record-Cutoff"),
        "history": (),  # payloads only the operator and the Token Manager build
        "cutoff": (-1, 0),
        "mode": ("overwrite", "add"),
        "count": (0, 1),
    }


def describe(params: Params) -> str:
    amounts = ",".join(str(a) for a in params["amounts"])
    return (
        f"migration v1 → {params['version']}, plan {params['plan']}, {params['users']} users, "
        f"{params['ops']} ops each, amounts {{{amounts}}}, prior {params['prior']} per user, "
        f"collateral {params['collateral']}" + (", managers accept one coordinator" if params.get("auth") == "single" else "")
        + (" (Lua)" if params.get("impl", "python") == "lua" else "")
    )


def statistics(config: CheckConfig) -> dict[str, Any]:
    """The request costs of the old and the new coordinator (``migration_cost``): ``check`` prints them."""
    from spec.tim3.migration_cost import migration_statistics  # it imports this module

    return migration_statistics(config)


SPEC = Spec(
    name="tim3-migration",
    source=str(Path(__file__).resolve()),
    actions=MIGRATION_ACTIONS,
    params=PARAMS,
    faults={},
    process_decls=(
        tracked(COORDINATORS["v1"], "Coordinator v1 (old, deployed)", inspectable=True),
        *(tracked(COORDINATORS[v], f"Coordinator {v} (new)") for v in NEW_VERSIONS),
        MIGRATION_LOCK, MIGRATION_TOKEN, MIGRATION_STATE, MIGRATION_USER, *OPERATORS.values(),
    ),
    build=build,
    domains=domains,
    properties=MIGRATION_PROPERTIES,
    resolve=resolve,
    describe=describe,
    symmetric_kinds=("user",),
    reference=lambda p: p.set("impl", "python"),  # --conform: the model the Lua must refine
    statistics=statistics,
)
