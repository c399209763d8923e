"""``[observables]`` and ``[[properties]]``: Lua expressions per process, and checks over them.

An observable's ``lua`` is compiled (Lua 5.3, through lupa, without running it) so a
syntax error is reported at load time with its key. Property expressions are parsed by
``checker.manifest.expr``; templates are expanded by ``checker.manifest.templates``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from checker.manifest.cursor import Table
from checker.manifest.errors import ABORT, did_you_mean
from checker.manifest.expr import (
    Expr,
    ExprSyntaxError,
    check_types,
    is_identifier,
    parse_expression,
    reserved_names,
    static_kind,
)
from checker.manifest.names import Names
from checker.manifest.schema import Goal, Observable, PropertySpec
from checker.model.spec import PROPERTY_KINDS, PropertyKind
from checker.manifest.templates import TEMPLATES, answer_spec_error, expand, template_named

# the kinds a manifest declares (a non-progress cycle has no form in the expression language)
_KINDS = tuple(k.value for k in PROPERTY_KINDS if k is not PropertyKind.PROGRESS)
_COMMON = ("name", "meaning", "expected_to_fail")
_KIND_KEYS: Mapping[PropertyKind, tuple[str, ...]] = MappingProxyType(
    {
        PropertyKind.ALWAYS: ("check",),
        PropertyKind.AT_QUIESCENCE: ("check",),
        PropertyKind.RESPONSE: ("trigger", "discharge"),
        PropertyKind.SOMETIMES: ("goals",),
    }
)


class LuaSyntax:
    """Compiles Lua chunks without running them; ``error(chunk)`` is None or Lua's message."""

    def __init__(self) -> None:
        self._check: Any = None
        try:
            import lupa.lua53 as lua53

            runtime = lua53.LuaRuntime(register_eval=False)
            self._check = runtime.eval(
                'function(s) local f, e = load(s, "=lua", "t", {}); if f then return nil end; return e end'
            )
        except ImportError:  # without lupa the runtime cannot run either; skip the check
            self._check = None

    def error(self, chunk: str) -> str | None:
        if self._check is None:
            return None
        result = self._check(chunk)
        return None if result is None else str(result)


def lua_chunk(lua: str, syntax: LuaSyntax) -> tuple[str, str | None]:
    """(the observable as one Lua expression, syntax error or None).

    An expression stays as written; a block (ending in ``return``) becomes
    ``(function() <block> end)()``, so a runtime can always evaluate ``return <expression>``.
    """
    err = syntax.error(f"return {lua}")
    if err is None:
        return lua.strip(), None
    if "return" in lua:
        block_err = syntax.error(lua)
        wrapped = f"(function()\n{lua}\nend)()"
        return wrapped, block_err
    return lua.strip(), err


def load_observables(doc: Table, names: Names) -> tuple[Observable, ...]:
    """``[observables]``: name = { process = "...", lua = "...", meaning = "..." }."""
    t = doc.table("observables", '[observables] supply = { process = "token", lua = "TotalSupply" }', None)
    if t is None:
        return ()
    syntax = LuaSyntax()
    out: list[Observable] = []
    reserved = reserved_names()
    for name in t.data:
        try:
            out.append(_observable(t, name, names, syntax, reserved))
        except ABORT:
            continue
    return tuple(out)


def _observable(t: Table, name: str, names: Names, syntax: LuaSyntax, reserved: frozenset[str]) -> Observable:
    if not is_identifier(name):
        raise t.fail(
            name,
            f"'{name}' cannot be used in expressions",
            "observable names are letters, digits and '_' (e.g. positions_total)",
        )
    if name in reserved:
        raise t.fail(name, f"'{name}' is a builtin name of the expression language", "choose another name")
    ot = t.table(name, f'{name} = {{ process = "token", lua = "TotalSupply" }}')
    ot.allow(("process", "lua", "meaning"), f"observable {name}")
    process = ot.text("process", 'process = "token"')
    if process not in names.processes:
        raise ot.fail("process", f"'{process}' is not a process", did_you_mean(process, names.processes))
    lua = ot.text("lua", 'lua = "tonumber(TotalSupply)"')
    chunk, err = lua_chunk(lua, syntax)
    if err is not None:
        raise ot.fail(
            "lua",
            f"not valid Lua: {err}",
            "write an expression (tonumber(TotalSupply)) or a block ending in 'return ...'",
        )
    meaning = ot.text("meaning", 'meaning = "TIM3 total supply"', lua)
    return Observable(name, process, names.processes[process], lua, chunk, meaning)


def load_properties(doc: Table, observables: Sequence[str], ops: int) -> tuple[PropertySpec, ...]:
    """``[[properties]]``: templates or written checks, each parsed and type-checked.

    ``observables`` are the names declared under ``[observables]`` (also those whose entry
    has a mistake, so that one mistake is not reported again in every property).
    """
    obs = frozenset(n for n in observables if is_identifier(n))
    out: list[PropertySpec] = []
    for t in doc.tables("properties", '[[properties]] name = "supply-capped" kind = "always" check = "supply <= 10"'):
        try:
            prop = _property(t, obs, ops)
        except ABORT:
            continue
        if any(p.name == prop.name for p in out):
            t.problems.add(t.key("name"), f"two properties are named '{prop.name}'", "give each its own name")
        out.append(prop)
    return tuple(out)


def _expr(t: Table, key: str, text: str, obs: frozenset[str], *, boolean: bool, delta: bool) -> Expr:
    try:
        e = parse_expression(text, obs, allow_delta=delta)
        check_types(e)
    except ExprSyntaxError as err:
        raise t.problems.fail(key, f"{err.what} (in {text!r})", err.fix) from None
    if boolean and static_kind(e) in ("number", "string"):
        raise t.problems.fail(
            key, f"{text!r} is a {static_kind(e)}, not true/false", f"compare it, e.g. {text.strip()} == 0"
        )
    return e


def _property(t: Table, obs: frozenset[str], ops: int) -> PropertySpec:
    name = t.text("name", 'name = "positions-match-supply"')
    expected = t.flag("expected_to_fail", "expected_to_fail = true", False)
    if t.has("template"):
        return _templated(t, name, expected, obs, ops)
    kind_text = t.text("kind", 'kind = "always"  (or use template = "...")')
    if kind_text not in _KINDS:
        raise t.fail(
            "kind", f"unknown kind '{kind_text}'", f"{did_you_mean(kind_text, _KINDS)} (kinds: {', '.join(_KINDS)})"
        )
    kind = PropertyKind(kind_text)
    article = "an" if kind.value[0] in "aeiou" else "a"
    t.allow((*_COMMON, "kind", *_KIND_KEYS[kind]), f"{article} {kind.value} property")
    check = trigger = discharge = None
    goals: tuple[Goal, ...] = ()
    if kind in (PropertyKind.ALWAYS, PropertyKind.AT_QUIESCENCE):
        source = t.text("check", 'check = "supply <= locked"')
        check = _expr(t, t.key("check"), source, obs, boolean=True, delta=False)
    elif kind is PropertyKind.RESPONSE:
        ts = t.text("trigger", 'trigger = "delta(supply)"')
        ds = t.text("discharge", 'discharge = "delta(positions_total)"')
        trigger = _expr(t, t.key("trigger"), ts, obs, boolean=False, delta=True)
        discharge = _expr(t, t.key("discharge"), ds, obs, boolean=False, delta=True)
        source = f"{ts} ~> {ds}"
    else:
        goals = _goals(t, obs)
        source = "; ".join(f"{g.name}: {g.source}" for g in goals)
    meaning = t.text("meaning", 'meaning = "..."', f"{kind.value}: {source}")
    return PropertySpec(name, kind, meaning, source, check, trigger, discharge, goals, None, expected)


def _goals(t: Table, obs: frozenset[str]) -> tuple[Goal, ...]:
    gt = t.table("goals", 'goals = { "mint succeeds" = "received(\'Mint-Success\') > 0" }')
    if not gt.data:
        raise t.fail("goals", "no goals", 'add one: goals = { "mint succeeds" = "supply > 0" }')
    out: list[Goal] = []
    for gname, value in gt.data.items():
        key = gt.key(gname)
        required = True
        if isinstance(value, dict):
            g = Table(t.problems, key, value)
            g.allow(("check", "required"), f"goal {gname!r}")
            text = g.text("check", 'check = "supply > 0"')
            required = g.flag("required", "required = false", True)
            ekey = g.key("check")
        elif isinstance(value, str):
            text, ekey = value, key
        else:
            raise t.problems.fail(
                key,
                "a goal is an expression string or { check = ..., required = ... }",
                f'write "{gname}" = "supply > 0"',
            )
        out.append(Goal(gname, text, _expr(t, ekey, text, obs, boolean=True, delta=False), required))
    return tuple(out)


def _templated(t: Table, name: str, expected: bool, obs: frozenset[str], ops: int) -> PropertySpec:
    tname = t.text("template", 'template = "equal-at-quiescence"')
    tpl = template_named(tname)
    if tpl is None:
        names = [x.name for x in TEMPLATES]
        raise t.fail(
            "template", f"unknown template '{tname}'", f"{did_you_mean(tname, names)} (templates: {', '.join(names)})"
        )
    if t.has("kind"):
        raise t.fail(
            "kind",
            f"template {tname} fixes the kind ({tpl.kind.value})",
            "remove kind, or drop the template and write the check",
        )
    written = [k for k in ("check", "trigger", "discharge", "goals") if t.has(k)]
    if written:
        raise t.fail(
            written[0], f"template {tname} writes the {written[0]} itself", f"remove {written[0]}, or drop the template"
        )
    t.allow((*_COMMON, "template", *tpl.arg_names()), f"template {tname} (its arguments: {', '.join(tpl.arg_names())})")
    args: dict[str, str] = {}
    for arg in tpl.args:
        if not arg.required and not t.has(arg.name):
            continue
        value = t.text(arg.name, f'{arg.name} = "..."  ({arg.meaning})')
        key = t.key(arg.name)
        if arg.kind == "observable" and value not in obs:
            raise t.problems.fail(
                key, f"'{value}' is not an observable", f"{did_you_mean(value, obs)} (declare it under [observables])"
            )
        if arg.kind == "expr":
            _expr(t, key, value, obs, boolean=False, delta=False)
        if arg.kind in ("action", "tag") and ('"' in value or "\\" in value or " " in value.strip()):
            raise t.problems.fail(key, f"{value!r} is not a plain {arg.kind} name", f"write the {arg.kind} name alone")
        if arg.kind == "answer":
            err = answer_spec_error(value)
            if err is not None:
                raise t.problems.fail(
                    key, err, f'write {arg.name} = "MintTIM3-Response" or "MintTIM3-Response Status=success"'
                )
        args[arg.name] = value
    exp = expand(tpl, args, ops)
    key = t.key("template")
    check = trigger = discharge = None
    goals: tuple[Goal, ...] = ()
    if exp.check is not None:
        check = _expr(t, key, exp.check, obs, boolean=True, delta=False)
        source = exp.check
    elif exp.trigger is not None and exp.discharge is not None:
        trigger = _expr(t, key, exp.trigger, obs, boolean=False, delta=True)
        discharge = _expr(t, key, exp.discharge, obs, boolean=False, delta=True)
        source = f"{exp.trigger} ~> {exp.discharge}"
    else:
        goals = tuple(
            Goal(g, text, _expr(t, key, text, obs, boolean=True, delta=False), req) for g, text, req in exp.goals
        )
        source = "; ".join(f"{g.name}: {g.source}" for g in goals)
    meaning = t.text("meaning", 'meaning = "..."', exp.meaning)
    return PropertySpec(name, tpl.kind, meaning, source, check, trigger, discharge, goals, tname, expected)
