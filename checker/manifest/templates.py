"""Ready-made property templates: a name, arguments, and the expressions they expand to.

A manifest writes ``template = "equal-at-quiescence", left = "positions", right = "supply"``;
``expand`` turns that into the kind and the expression texts (parsed afterwards by the
loader like user-written ones). Each template says which TIM3 property of DESIGN.md it
expresses over observables. Arguments are expressions (``expr``), Action names
(``action``), tag names (``tag``), observable names (``observable``) or answers
(``answer``: ``"Action"`` or ``"Action Tag=Value"``, as a wallet receives it).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass

from checker.model.spec import PropertyKind


@dataclass(frozen=True, slots=True)
class TemplateArg:
    name: str
    kind: str  # "expr" | "action" | "tag" | "observable" | "answer"
    meaning: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Expansion:
    """What a template expands to: expression texts for the kind's slots."""

    kind: PropertyKind
    meaning: str
    check: str | None = None
    trigger: str | None = None
    discharge: str | None = None
    goals: tuple[tuple[str, str, bool], ...] = ()  # (goal name, expression, required)


@dataclass(frozen=True, slots=True)
class PropertyTemplate:
    """One template; ``tim3`` names the DESIGN.md property it is made for."""

    name: str
    kind: PropertyKind
    summary: str
    tim3: str
    args: tuple[TemplateArg, ...]

    def arg_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.args)


def _e(text: str) -> str:
    """An argument expression, parenthesised unless it is a name, a literal or a call."""
    t = text.strip()
    try:
        body = ast.parse(t, mode="eval").body
    except SyntaxError:
        return f"({t})"  # reported when the expansion is parsed
    return t if isinstance(body, (ast.Name, ast.Constant, ast.Call)) else f"({t})"


def _s(text: str) -> str:
    """A string literal of the expression language (double-quoted, escaped)."""
    return json.dumps(text)


TEMPLATES: tuple[PropertyTemplate, ...] = (
    PropertyTemplate(
        "equal-at-quiescence",
        PropertyKind.AT_QUIESCENCE,
        "at every quiescent state, left == right",
        "positions-match-supply",
        (TemplateArg("left", "expr", "e.g. sum(positions)"), TemplateArg("right", "expr", "e.g. supply")),
    ),
    PropertyTemplate(
        "equal-always",
        PropertyKind.ALWAYS,
        "in every state, left == right (fails for any asynchronous design: set expected_to_fail)",
        "positions-match-supply-strict",
        (TemplateArg("left", "expr", "e.g. sum(positions)"), TemplateArg("right", "expr", "e.g. supply")),
    ),
    PropertyTemplate(
        "equal-counting-in-flight",
        PropertyKind.ALWAYS,
        "in every state, left == right + the tag's values in flight with the Action + pending",
        "positions-match-supply-inflight",
        (
            TemplateArg("left", "expr", "e.g. supply"),
            TemplateArg("right", "expr", "e.g. sum(positions)"),
            TemplateArg("action", "action", "the update message, e.g. UpdatePosition"),
            TemplateArg("tag", "tag", "its signed amount tag, e.g. Amount"),
            TemplateArg("pending", "expr", "changes not yet sent (an observable of open requests)", False),
        ),
    ),
    PropertyTemplate(
        "backed-by",
        PropertyKind.ALWAYS,
        "value <= backing in every state, and value == backing at quiescence",
        "collateral-backs-supply",
        (TemplateArg("value", "expr", "e.g. supply"), TemplateArg("backing", "expr", "e.g. locked")),
    ),
    PropertyTemplate(
        "every-request-answered",
        PropertyKind.AT_QUIESCENCE,
        "at quiescence every wallet operation got exactly one answer (and open == 0)",
        "every-request-answered",
        (TemplateArg("open", "expr", "open requests left at a process, e.g. len(pending)", False),),
    ),
    PropertyTemplate(
        "mint-and-burn-reachable",
        PropertyKind.SOMETIMES,
        "a wallet receives the mint answer, the burn answer (when ops >= 2) and the refusal (if given)",
        "mint-and-burn-reachable",
        (
            TemplateArg("mint", "answer", "a successful mint's answer: Action, or 'Action Tag=Value'"),
            TemplateArg("burn", "answer", "a successful burn's answer: Action, or 'Action Tag=Value'"),
            TemplateArg("refused", "answer", "a refusal's answer: Action, or 'Action Tag=Value'", False),
        ),
    ),
    PropertyTemplate(
        "change-followed-by",
        PropertyKind.RESPONSE,
        "every change of cause (by d) is eventually followed by a change of effect by the same d",
        "update-follows-success",
        (
            TemplateArg("cause", "observable", "e.g. supply"),
            TemplateArg("effect", "observable", "e.g. positions_total"),
        ),
    ),
)


def template_named(name: str) -> PropertyTemplate | None:
    for t in TEMPLATES:
        if t.name == name:
            return t
    return None


def answer_call(spec: str) -> str:
    """``received(...)`` for an answer written ``"Action"`` or ``"Action Tag=Value"``."""
    action, _, cond = spec.strip().partition(" ")
    if cond.strip():
        tag, _, value = cond.strip().partition("=")
        return f"received({_s(action)}, {_s(tag.strip())}, {_s(value.strip())})"
    return f"received({_s(action)})"


def answer_spec_error(spec: str) -> str | None:
    """Why ``spec`` is not ``"Action"`` or ``"Action Tag=Value"`` (None if it is)."""
    action, _, cond = spec.strip().partition(" ")
    if not action or '"' in spec or "\\" in spec:
        return "expected an Action name, optionally followed by Tag=Value"
    cond = cond.strip()
    if cond and ("=" not in cond or not cond.partition("=")[0].strip() or " " in cond.partition("=")[0].strip()):
        return f"after the Action comes one Tag=Value (got {cond!r})"
    return None


def expand(template: PropertyTemplate, args: Mapping[str, str], ops: int) -> Expansion:
    """Expand ``template`` with ``args`` (every required one present; the loader checks).

    ``ops`` is the number of operations per wallet (a burn needs a mint before it).
    """
    a = dict(args)
    k = template.kind
    n = template.name
    if n in ("equal-at-quiescence", "equal-always"):
        where = "at quiescence" if n == "equal-at-quiescence" else "always"
        return Expansion(k, f"{where}: {a['left']} == {a['right']}", check=f"{_e(a['left'])} == {_e(a['right'])}")
    if n == "equal-counting-in-flight":
        pending = a.get("pending")
        rhs = f"{_e(a['right'])} + in_flight_sum({_s(a['action'])}, {_s(a['tag'])})"
        meaning = f"always: {a['left']} == {a['right']} + {a['tag']} of {a['action']} in flight"
        if pending:
            rhs += f" + {_e(pending)}"
            meaning += f" + {pending}"
        return Expansion(k, meaning, check=f"{_e(a['left'])} == {rhs}")
    if n == "backed-by":
        v, b = _e(a["value"]), _e(a["backing"])
        return Expansion(
            k,
            f"{a['value']} <= {a['backing']} always; equal at quiescence",
            check=f"{v} <= {b} and (not quiescent or {v} == {b})",
        )
    if n == "every-request-answered":
        check = "unanswered == 0 and extra_answers == 0"
        meaning = "at quiescence every wallet operation got exactly one answer"
        if a.get("open"):
            check += f" and {_e(a['open'])} == 0"
            meaning += f" and {a['open']} == 0"
        return Expansion(k, meaning, check=check)
    if n == "mint-and-burn-reachable":
        goals = [
            ("mint succeeds", f"{answer_call(a['mint'])} > 0", True),
            ("burn succeeds", f"{answer_call(a['burn'])} > 0", ops >= 2),
        ]
        if a.get("refused"):
            goals.append(("a request is refused", f"{answer_call(a['refused'])} > 0", True))
        return Expansion(k, "a successful mint and burn (and a refusal) are reachable", goals=tuple(goals))
    if n == "change-followed-by":
        return Expansion(
            k,
            f"every change of {a['cause']} is followed by the same change of {a['effect']}",
            trigger=f"delta({a['cause']})",
            discharge=f"delta({a['effect']})",
        )
    raise AssertionError(f"template {n} has no expansion")
