"""Human-readable renderings of a counterexample document (see ``checker.interfaces.counterexample``).

* ``render_markdown(data)``: the ``.md`` file written beside the JSON: title, property and
  meaning, verdict and bound, scenario and options, what is wrong, a Mermaid
  ``sequenceDiagram`` and a per-step table of what changed;
* ``render_terminal(data)``: a ``rich`` renderable for ``tim3check show`` (cells wrap,
  never cut);
* ``render_text(data)``: plain text (pytest assertion messages, logs).

All three work on the plain JSON data only, so they render files written by any engine.
``max_steps`` (the first steps only) and ``max_cell`` (characters per cell) bound what a
large file costs to render; whatever is cut is said in place (``cut``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from checker.result import Verdict
from checker.model.spec import StepKind

MAX_CELL = 2000  # characters per rendered cell in ``tim3check show`` (the rest is cut, saying so)


def cut(text: str, max_chars: int | None) -> str:
    """``text``, or its first ``max_chars`` characters and ``… (N more characters)``."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}… ({len(text) - max_chars:,} more characters)"

# ------------------------------------------------------------------ value formatting


def fmt_value(v: Any) -> str:
    """A compact rendering of a JSON value: ``{a: 1, b: x}``, ``[1, 2]``, ``—`` for null."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {fmt_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(fmt_value(x) for x in v) + "]"
    return str(v)


def fmt_tags(m: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in m.get("tags", ()))


def fmt_message(m: Mapping[str, Any] | None, with_route: bool = True) -> str:
    """``src → dst: Action(tag=value, ...)`` (or just ``Action(...)``)."""
    if m is None:
        return "—"
    body = f"{m['action']}({fmt_tags(m)})"
    return f"{m['src']} → {m['dst']}: {body}" if with_route else body


def fmt_choices(choices: Sequence[Any]) -> str:
    return ", ".join(f"{c[0]}={fmt_value(c[1])}" for c in choices)


def fmt_changes(changes: Mapping[str, Any], actor: str | None = None) -> list[str]:
    """One line per changed field: ``field[key]: before → after`` (other processes prefixed)."""
    out: list[str] = []
    for pid, fields in changes.items():
        prefix = "" if pid == actor else f"{pid}."
        for name, diff in fields.items():
            if "keys" in diff:
                for k, e in diff["keys"].items():
                    out += _entry(f"{prefix}{name}[{k}]", e)
            else:
                out += _entry(f"{prefix}{name}", diff)
    return out


def _entry(where: str, e: Mapping[str, Any]) -> list[str]:
    """``where: before → after``; two records are narrowed to the fields that differ."""
    b, a = e.get("before"), e.get("after")
    if isinstance(b, dict) and isinstance(a, dict) and b.keys() == a.keys():
        return [f"{where}.{f}: {fmt_value(b[f])} → {fmt_value(a[f])}" for f in b if b[f] != a[f]]
    return [f"{where}: {_side(e, 'before')} → {_side(e, 'after')}"]


def _side(e: Mapping[str, Any], side: str) -> str:
    return fmt_value(e[side]) if side in e else "∅"


def step_what(s: Mapping[str, Any]) -> str:
    """What kind of step it was, in words (the handler column)."""
    kind, h = s["kind"], s.get("handler")
    at = f" @ {s['where']}" if s.get("where") else ""  # the handler's source line (Lua)
    if kind == StepKind.DELIVER:
        return f"{h}{at}"
    if kind == StepKind.INITIATIVE:
        return f"{h} (initiative)"
    if kind == StepKind.ERROR:
        return f"{h}{at} raised: {s.get('reason') or 'error'} (no effect)"
    if kind == StepKind.UNHANDLED:
        return "no handler matched (to Inbox)"
    if kind == StepKind.HANDLER_ERROR:
        return f"{h}: handler-error fault (effects discarded)"
    if kind == StepKind.LOSE:
        return "message lost (fault)"
    if kind == StepKind.INJECT:
        return "adversary injects"
    return str(kind)


def title(data: Mapping[str, Any]) -> str:
    prop = data["property"]
    what = "Witness" if data.get("witness") is not None else "Counterexample"
    return f"{what}: {prop['name']} ({data['spec']['name']}, {data.get('config_label', '')})"


def _options(data: Mapping[str, Any]) -> str:
    c = data["config"]
    params = ", ".join(f"{k}={fmt_value(v)}" for k, v in c["params"].items())
    faults = ", ".join(c.get("faults", ())) or "none"
    return (
        f"params {params}; network {c.get('network')}; faults {faults} (max {c.get('max_faults')}); "
        f"adversary messages {c.get('adversary_messages')}; engine {data['engine']}"
    )


def _outcome(data: Mapping[str, Any]) -> str:
    if data.get("witness") is not None:
        return "goals witnessed: " + ", ".join(
            f"{g} at step {i}" if i is not None else f"{g} NOT witnessed" for g, i in data["witness"].items()
        )
    return str(data.get("violation") or "")


# ------------------------------------------------------------------ Markdown + Mermaid


def _mm(text: str) -> str:
    """Escape text for a Mermaid message or note (``#`` and ``;`` are special there)."""
    return "".join({"#": "#35;", ";": "#59;", "\n": " "}.get(c, c) for c in text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>") or " "


def mermaid(data: Mapping[str, Any], max_steps: int | None = None, max_cell: int | None = None) -> str:
    """A Mermaid ``sequenceDiagram`` of the trace (participants in system order; the first
    ``max_steps`` steps, each text ``cut`` to ``max_cell``)."""
    steps = data["steps"] if max_steps is None else data["steps"][:max_steps]

    def mm(text: str) -> str:
        return _mm(cut(text, max_cell))

    procs = [p["pid"] for p in data["processes"]]
    used = {s["pid"] for s in steps} | {
        m[k] for s in steps for m in ([s["message"]] if s["message"] else []) + s["sent"] for k in ("src", "dst")
    }
    procs += sorted(used - set(procs))
    labels = {p["pid"]: p.get("label", p["pid"]) for p in data["processes"]}
    lines = ["sequenceDiagram"]
    for pid in procs:
        lab = labels.get(pid, pid)
        lines.append(f"    participant {pid} as {mm(pid if lab == pid else f'{pid} ({lab})')}")
    for s in steps:
        n, kind, pid, m = s["index"], s["kind"], s["pid"], s["message"]
        text = f"{n}. {fmt_message(m, with_route=False)}" if m else ""
        if kind == StepKind.DELIVER:
            lines.append(f"    {m['src']}->>{m['dst']}: {mm(text)}")
            hits = [c for c in s["choices"] if c[1] is not False]
            if hits:
                lines.append(f"    Note over {pid}: {mm(fmt_choices(hits))}")
        elif kind in (StepKind.ERROR, StepKind.HANDLER_ERROR, StepKind.UNHANDLED):
            arrow = "--x" if kind == StepKind.UNHANDLED else "-x"
            lines.append(f"    {m['src']}{arrow}{m['dst']}: {mm(text)}")
            lines.append(f"    Note over {pid}: {mm(step_what(s))}")
        elif kind == StepKind.LOSE:
            span = m["src"] if m["src"] == m["dst"] else f"{m['src']},{m['dst']}"
            lines.append(f"    Note over {span}: {mm(f'{n}. lost: {fmt_message(m, with_route=False)}')}")
        elif kind == StepKind.INITIATIVE:
            ch = fmt_choices(s["choices"])
            note = f"{n}. {s['handler']}" + (f" ({ch})" if ch else "")
            lines.append(f"    Note over {pid}: {mm(note)}")
        elif kind == StepKind.INJECT:
            sent = "; ".join(f"{fmt_message(x, with_route=False)} to {x['dst']}" for x in s["sent"])
            lines.append(f"    Note over {pid}: {mm(f'{n}. injects {sent}')}")
        else:
            lines.append(f"    Note over {pid}: {mm(f'{n}. {kind}')}")
    final = data.get("final") or {}
    left = final.get("in_flight") or []
    span = procs[0] if len(procs) == 1 else f"{procs[0]},{procs[-1]}"
    if steps_cut(data, max_steps):
        lines.append(f"    Note over {span}: {mm(steps_cut(data, max_steps))}")
    if left:
        lines.append(f"    Note over {span}: {mm('in flight at the end: ' + '; '.join(fmt_message(x) for x in left))}")
    verdict = "witnessed" if data.get("witness") is not None else "violated"
    end = f"{verdict}: {data['property']['name']}"
    lines.append(f"    Note over {span}: {mm(end)}")
    return "\n".join(lines)


def step_rows(
    data: Mapping[str, Any], max_steps: int | None = None, max_cell: int | None = None
) -> list[tuple[str, str, str, str, str, str]]:
    """(step, process, handler, message, sent, what changed) for each of the first
    ``max_steps`` steps (all when None), as plain text, each cell ``cut`` to ``max_cell``;
    a step of a lasso's cycle (``"cycle": true``) is numbered with ``↻`` after it."""
    rows = []
    steps = data["steps"] if max_steps is None else data["steps"][:max_steps]
    for s in steps:
        m = s["message"]
        msg = fmt_message(m) if m else "—"
        if s["kind"] == StepKind.LOSE:
            msg = "lost: " + msg
        sent = "; ".join(fmt_message(x) for x in s["sent"]) or "—"
        changed = "; ".join(fmt_changes(s["changes"], s["pid"])) or "—"
        what = step_what(s)
        if s["choices"] and s["kind"] in (StepKind.DELIVER, StepKind.INITIATIVE, StepKind.ERROR):
            what += f" [{fmt_choices(s['choices'])}]"
        rows.append((f"{s['index']} ↻" if s.get("cycle") else str(s["index"]), cut(str(s["pid"]), max_cell), cut(what, max_cell), cut(msg, max_cell),
                     cut(sent, max_cell), cut(changed, max_cell)))
    return rows


def steps_cut(data: Mapping[str, Any], max_steps: int | None) -> str:
    """The line saying how many steps ``max_steps`` leaves out ('' when none)."""
    total = len(data["steps"])
    if max_steps is None or total <= max_steps:
        return ""
    return f"… {total - max_steps:,} more steps not shown (steps {max_steps + 1}–{total}; `tim3check show --max-steps 0` shows all)"


def render_markdown(
    data: Mapping[str, Any], replay_path: str | None = None, max_steps: int | None = None, max_cell: int | None = None
) -> str:
    """The Markdown page for a counterexample (deterministic for equal arguments).

    Its replay command names ``replay_path`` (the JSON file as written: relative to the
    repository root, or absolute; default ``<stem>.json``). ``max_steps``/``max_cell`` as
    in ``step_rows``."""
    prop = data["property"]
    target = replay_path or f"{data['property']['name']}--{data['config_label']}.json"
    expected = " (expected to fail: documents accepted behaviour)" if prop.get("expected_to_fail") else ""
    out = [
        f"# {title(data)}",
        "",
        f"**Property** `{prop['name']}` ({prop.get('shown_kind', prop['kind'])}){expected}: {prop['meaning']}",
        "",
        f"**Verdict** {data['verdict']} — {data['bound']}",
        "",
        f"**Scenario** {data['scenario']}",
        "",
        f"**Options** {_options(data)}",
        "",
        f"**{'Witness' if data.get('witness') is not None else 'What is wrong'}** {_outcome(data)}",
        "",
        f"Replay against today's spec (from the repository root): `tim3check replay {shlex.quote(target)}`",
        "",
        "## Sequence",
        "",
        "```mermaid",
        mermaid(data, max_steps, max_cell),
        "```",
        "",
        "## Steps",
        "",
        "| step | process | handler | message | sent | what changed |",
        "|---:|---|---|---|---|---|",
    ]
    for row in step_rows(data, max_steps, max_cell):
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    if steps_cut(data, max_steps):
        out += ["", steps_cut(data, max_steps)]
    out += ["", "## Initial state", ""]
    for pid, st in data["initial"]["states"].items():
        out.append(f"* `{pid}`: {_cell(cut(fmt_value(st), max_cell))}")
    final = data.get("final") or {}
    if final:
        out += ["", "## Final state", ""]
        for pid, st in (final.get("states") or {}).items():
            out.append(f"* `{pid}`: {_cell(cut(fmt_value(st), max_cell))}")
        flight = "; ".join(fmt_message(x) for x in final.get("in_flight") or []) or "nothing"
        out.append(f"* in flight: {_cell(cut(flight, max_cell))}")
        if final.get("obligations") is not None:
            out.append(f"* open obligations: {_cell(cut(fmt_value(final['obligations']), max_cell))}")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ terminal / text


def render_terminal(
    data: Mapping[str, Any], max_steps: int | None = None, max_cell: int | None = None
) -> RenderableType:
    """A header panel and a table of steps (``tim3check show``): every cell wraps (long
    words are folded, never cut off); ``max_steps``/``max_cell`` as in ``step_rows``."""
    prop = data["property"]
    head = Text(overflow="fold")
    head.append(title(data) + "\n", style="bold")  # in the text, not the panel's title: it wraps there
    head.append(f"{prop['name']}", style="bold")
    head.append(f" ({prop.get('shown_kind', prop['kind'])}): {prop['meaning']}\n")
    bad = data["verdict"] == Verdict.VIOLATED
    head.append("verdict ", style="dim")
    head.append(str(data["verdict"]), style="bold red" if bad else "bold yellow")
    head.append(f" — {cut(str(data['bound']), max_cell)}\n")
    head.append("scenario ", style="dim")
    head.append(f"{cut(str(data['scenario']), max_cell)}\n")
    head.append("options ", style="dim")
    head.append(f"{cut(_options(data), max_cell)}\n")
    head.append("witness " if data.get("witness") is not None else "what is wrong ", style="dim")
    head.append(cut(_outcome(data), max_cell), style="bold")
    panel = Panel(head)
    table = Table(show_lines=True, expand=False)
    for col, just in (("step", "right"), ("process", "left"), ("handler", "left"), ("message", "left"),
                      ("sent", "left"), ("what changed", "left")):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for row in step_rows(data, max_steps, max_cell):
        table.add_row(*(Text(c, overflow="fold") for c in row))
    final = data.get("final") or {}
    parts: list[RenderableType] = [panel, table]
    more = steps_cut(data, max_steps)
    if more:
        parts.append(Text(more, style="bold yellow", overflow="fold"))
    left = final.get("in_flight") or []
    if left:
        flight = cut("; ".join(fmt_message(x) for x in left), max_cell)
        parts.append(Text("in flight at the end: " + flight, style="dim", overflow="fold"))
    return Group(*parts)


def render_text(data: Mapping[str, Any]) -> str:
    """Plain text: header lines and one line per step (for assertion messages)."""
    prop = data["property"]
    lines = [
        title(data),
        f"  property: {prop['name']} ({prop.get('shown_kind', prop['kind'])}): {prop['meaning']}",
        f"  verdict:  {data['verdict']} — {data['bound']}",
        f"  scenario: {data['scenario']}",
        f"  {'witness' if data.get('witness') is not None else 'wrong'}:    {_outcome(data)}",
    ]
    for n, pid, what, msg, sent, changed in step_rows(data):
        lines.append(f"  {n:>3}. {pid}: {what}; got {msg}; sent {sent}; changed {changed}")
    return "\n".join(lines)
