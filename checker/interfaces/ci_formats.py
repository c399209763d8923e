"""Check results in the formats CI systems read: SARIF 2.1.0, JUnit XML, Markdown, and
GitHub Actions annotations.

* ``sarif(result)``: one rule per property (and per finding kind), one result per
  violation or finding, its trace as a code flow whose locations point at the handler's
  source line (a Lua file and line, or the spec's Python function) — what GitHub code
  scanning shows.
* ``junit(result)``: one test case per property; a violation is a failure, UNKNOWN an
  error (never a pass), with the verdict's bound and detail.
* ``markdown(result)``: a table for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment.
* ``github_annotations(result)``: ``::error file=...,line=...::`` lines.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from checker.result import EXPECTED_FAIL, UNKNOWN, VIOLATED, CheckResult, PropertyResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_WHERE = re.compile(r"^(?P<file>.+?):(?P<line>\d+)$")


def _location(where: str | None, fallback: str) -> dict[str, Any]:
    """A SARIF physical location for ``file:line`` (``fallback`` file, line 1, otherwise)."""
    m = _WHERE.match(where or "")
    uri, line = (m.group("file"), int(m.group("line"))) if m else (fallback, 1)
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(uri)}, "region": {"startLine": line}}}


def _uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def _failed(r: PropertyResult) -> bool:
    return r.verdict == VIOLATED


def _rule_id(r: PropertyResult) -> str:
    return r.name.split("@", 1)[0] if r.kind == "finding" else r.name


def sarif(result: CheckResult) -> dict[str, Any]:
    """The SARIF 2.1.0 log of ``result`` (see the module docstring)."""
    rules: dict[str, dict[str, Any]] = {}
    for r in result.results:
        rid = _rule_id(r)
        rules.setdefault(rid, {"id": rid, "name": rid, "shortDescription": {"text": r.meaning},
                               "properties": {"kind": r.kind}})
    results = []
    for r in result.results:
        if not _failed(r):
            continue
        steps = r.trace.steps if r.trace is not None else ()
        last_where = steps[-1][0].where if steps else None
        at = r.name.split("@", 1)[1] if r.kind == "finding" else last_where
        entry: dict[str, Any] = {
            "ruleId": _rule_id(r),
            "level": "error",
            "message": {"text": f"{r.name}: {r.detail or r.bound}"},
            "locations": [_location(at, result.spec_source)],
        }
        if steps:
            entry["codeFlows"] = [{"threadFlows": [{"locations": [
                {"location": {**_location(s.where, result.spec_source),
                              "message": {"text": f"{i}. {s.pid}: {s.kind} {s.handler or ''}".rstrip()}}}
                for i, (s, _) in enumerate(steps, start=1)
            ]}]}]
        results.append(entry)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tim3check", "informationUri": "https://github.com/", "rules": list(rules.values())}},
            "results": results,
            "properties": {"scenario": result.scenario, "engine": result.engine},
        }],
    }


def junit(result: CheckResult) -> str:
    """JUnit XML: a test case per property (violation: failure; UNKNOWN: error)."""
    failures = sum(1 for r in result.results if _failed(r))
    errors = sum(1 for r in result.results if r.verdict == UNKNOWN)
    suite = quoteattr(f"tim3check {result.spec_name}")
    out = [f'<?xml version="1.0" encoding="UTF-8"?>',
           f"<testsuite name={suite} tests=\"{len(result.results)}\" failures=\"{failures}\" errors=\"{errors}\">"]
    for r in result.results:
        case = f"  <testcase classname={quoteattr(result.spec_name)} name={quoteattr(r.name)}"
        text = escape(f"{r.verdict}: {r.bound}" + (f" — {r.detail}" if r.detail else ""))
        if _failed(r):
            out.append(f"{case}><failure message={quoteattr(r.meaning)}>{text}</failure></testcase>")
        elif r.verdict == UNKNOWN:
            out.append(f"{case}><error message=\"inconclusive: a limit was reached\">{text}</error></testcase>")
        else:
            out.append(f"{case}><system-out>{text}</system-out></testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"


def markdown(result: CheckResult) -> str:
    """A Markdown verdict table (scenario first), for a job summary or a comment."""
    icon = {VIOLATED: "❌", UNKNOWN: "❔", EXPECTED_FAIL: "➖"}
    lines = [f"**tim3check** `{result.spec_name}` — {result.scenario} (engine {result.engine})", "",
             "| property | kind | verdict | bound |", "|---|---|---|---|"]
    for r in result.results:
        bound = (r.bound + (f" — {r.detail}" if r.detail else "")).replace("|", "\\|")
        lines.append(f"| `{r.name}` | {r.kind} | {icon.get(r.verdict, '✅')} {r.verdict} | {bound} |")
    return "\n".join(lines) + "\n"


def github_annotations(result: CheckResult) -> str:
    """One ``::error`` workflow command per violation or finding, at its file and line."""
    out = []
    for r in result.results:
        if not _failed(r):
            continue
        steps = r.trace.steps if r.trace is not None else ()
        at = r.name.split("@", 1)[1] if r.kind == "finding" else (steps[-1][0].where if steps else None)
        m = _WHERE.match(at or "")
        loc = f"file={_uri(m.group('file'))},line={m.group('line')}" if m else f"file={_uri(result.spec_source)}"
        msg = f"{r.name}: {r.detail or r.bound}".replace("%", "%25").replace("\n", "%0A")
        out.append(f"::error {loc},title=tim3check {r.name}::{msg}")
    return "\n".join(out) + ("\n" if out else "")
