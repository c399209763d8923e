"""The Actions of TIM3 and the value domain of each tag (what the adversary may send)."""

from __future__ import annotations

from checker.model.spec import ActionDecl

_REQ = ("Request", "request")
_USER = ("User", "user")
_AMOUNT = ("Amount", "amount")
_STATUS = ("Status", "status")

ACTIONS: tuple[ActionDecl, ...] = (
    # user -> coordinator; AO gives every message a unique Id, so a request id cannot
    # collide with another sender's: the adversary's requests use its own ids.
    ActionDecl("MintTIM3", (("Request", "own-request"), _AMOUNT), "user asks to mint TIM3 against USDA"),
    ActionDecl("BurnTIM3", (("Request", "own-request"), _AMOUNT), "user asks to burn TIM3 and free USDA"),
    ActionDecl("MintTIM3-Response", (_REQ, _STATUS), "final answer to a mint request"),
    ActionDecl("BurnTIM3-Response", (_REQ, _STATUS), "final answer to a burn request"),
    # coordinator <-> lock manager
    ActionDecl("LockCollateral", (_REQ, _USER, _AMOUNT), "lock a user's free USDA"),
    ActionDecl("LockCollateral-Success", (_REQ, _USER, _AMOUNT), "collateral locked"),
    ActionDecl("LockCollateral-Failed", (_REQ, _USER, _AMOUNT), "lock refused (insufficient free collateral)"),
    ActionDecl("UnlockCollateral", (_REQ, _USER, _AMOUNT), "unlock a user's locked USDA"),
    ActionDecl("UnlockCollateral-Success", (_REQ, _USER, _AMOUNT), "collateral unlocked"),
    ActionDecl("UnlockCollateral-Failed", (_REQ, _USER, _AMOUNT), "unlock refused"),
    # coordinator <-> token manager
    ActionDecl("Mint", (_REQ, _USER, _AMOUNT), "mint TIM3 to a user"),
    ActionDecl("Mint-Response", (_REQ, _STATUS, _AMOUNT), "mint done or refused"),
    ActionDecl("Burn", (_REQ, _USER, _AMOUNT), "burn a user's TIM3"),
    ActionDecl("Burn-Response", (_REQ, _STATUS, _AMOUNT), "burn done or refused"),
    # coordinator -> state manager
    ActionDecl("UpdatePosition", (_USER, ("Amount", "delta")), "apply a signed change to a user's position"),
)
