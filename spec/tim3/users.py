"""Users: each sends up to ``ops`` requests (mint or burn, any amount of the domain),
without waiting for earlier answers, and records every answer it gets."""

from __future__ import annotations

from checker.model.spec import Ctx, Handler, Initiative, ProcessDecl
from checker.model.values import Message
from spec.tim3.states import UserRequest, UserState


def request_id(pid: str, n: int) -> str:
    """The id of the ``n``-th request of user ``pid`` (AO's unique message Id)."""
    return f"{pid}#{n}"


def send_request(s: UserState, ctx: Ctx) -> UserState | None:
    """Send the next operation: a nondeterministic choice of mint/burn and amount."""
    if s.issued >= ctx.params["ops"]:
        return None
    op = ctx.choose("op", ("mint", "burn"))
    amount = ctx.choose_value("amount", "amount")
    req = request_id(ctx.self_id, s.issued)
    ctx.send("coordinator", "MintTIM3" if op == "mint" else "BurnTIM3", Request=req, Amount=amount)
    return UserState(s.issued + 1, s.requests.set(req, UserRequest(op, amount)))


def receive_answer(s: UserState, msg: Message, ctx: Ctx) -> UserState:
    """Record an answer; an answer to an unknown request raises (ignored, per AO)."""
    req = msg.tag("Request")
    r = s.requests.get(req)
    if r is None:
        ctx.error(f"answer to unknown request {req}")
    assert r is not None
    return UserState(s.issued, s.requests.set(req, UserRequest(r.op, r.amount, msg.tag("Status"), r.responses + 1)))


USER = ProcessDecl(
    kind="user",
    label="User",
    state_type=UserState,
    handlers=(
        Handler("MintTIM3-Response", "MintTIM3-Response", receive_answer, sender="coordinator"),
        Handler("BurnTIM3-Response", "BurnTIM3-Response", receive_answer, sender="coordinator"),
    ),
    initiatives=(Initiative("send-request", send_request),),
)
