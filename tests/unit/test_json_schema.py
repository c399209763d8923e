"""The JSON Schemas of docs/schema/ (draft 2020-12) against real outputs, and
docs/json-format.md against the schemas field by field (issue 10 item 6)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.unit._support import run

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schema"
DOC = (ROOT / "docs" / "json-format.md").read_text()


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


CHECK = validator("check-output")
FILE = validator("counterexample")
AUDIT = validator("audit-output")


def errors(v: Draft202012Validator, doc: Any) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in v.iter_errors(doc)]


def check_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], list[Path]]:
    out = tmp_path / "ce"
    r = run("check", *args, "--format", "json", "--out", str(out), "--quiet")
    doc: dict[str, Any] = json.loads(r.stdout)
    return r.exit_code, doc, sorted(out.glob("*.json"))


@pytest.mark.parametrize("args, code, files", [
    (("--coordinator", "v1", "--ops", "1", "--users", "1"), 1, 4),  # v1: four violations (per-user positions too)
    (("--ops", "1", "--users", "1"), 0, 0),  # v3 holds
    (("--impl", "lua", "--coordinator", "v1", "--ops", "1", "--users", "1"), 1, 4),  # the Lua processes
    (("--system", str(ROOT / "tests" / "fixtures" / "team_tim3" / "tim3check.toml"), "--ops", "1"), 1, 13),  # findings
    (("--coordinator", "v1", "--ops", "1", "--users", "1", "--engine", "bmc", "--depth", "8"), 1, 5),
], ids=["v1-violation", "v3-holds", "lua", "manifest-findings", "bmc"])
def test_real_outputs_and_their_files_validate(tmp_path: Path, args: tuple[str, ...], code: int, files: int) -> None:
    exit_code, doc, saved = check_json(tmp_path, *args)
    assert (exit_code, doc["exit_code"], len(saved)) == (code, code, files)
    assert errors(CHECK, doc) == []
    for path in saved:
        assert errors(FILE, json.loads(path.read_text())) == [], path.name
    if "--system" in args:
        assert "finding" in {r["kind"] for r in doc["results"]}


def test_committed_counterexamples_validate() -> None:
    files = sorted((ROOT / "counterexamples").rglob("*.json")) + sorted((ROOT / "tests" / "migration").rglob("*.json"))
    assert len(files) >= 21
    for path in files:
        assert errors(FILE, json.loads(path.read_text())) == [], path


@pytest.fixture(scope="module")
def v1(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    _, doc, saved = check_json(tmp_path_factory.mktemp("v1"), "--coordinator", "v1", "--ops", "1", "--users", "1")
    return doc, json.loads(saved[0].read_text())


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["results"][0].update(verdict="FIXED"), "$.results[0].verdict"),
    (lambda d: d.pop("results"), "$"),
    (lambda d: d.update(exit_code="1"), "$.exit_code"),
    (lambda d: d.update(engine="magic"), "$.engine"),
    (lambda d: d["stats"].update(states=-1), "$.stats.states"),
    (lambda d: d["config"].update(network="lossy"), "$.config.network"),
])
def test_the_check_schema_rejects_what_tim3check_never_prints(
    v1: tuple[dict[str, Any], dict[str, Any]], edit: Any, where: str
) -> None:
    doc = json.loads(json.dumps(v1[0]))
    edit(doc)
    assert [e.split(":")[0] for e in errors(CHECK, doc)] == [where]


@pytest.mark.parametrize("edit, where", [
    (lambda d: d["steps"][0].pop("index"), "$.steps[0]"),
    (lambda d: d["steps"][0].update(kind="teleport"), "$.steps[0].kind"),
    (lambda d: d.update(schema_version=2), "$.schema_version"),
    (lambda d: d["final"].pop("states"), "$.final"),
    (lambda d: d["steps"][0]["sent"][0].pop("dst"), "$.steps[0].sent[0]"),
])
def test_the_file_schema_rejects_broken_files(v1: tuple[dict[str, Any], dict[str, Any]], edit: Any, where: str) -> None:
    data = json.loads(json.dumps(v1[1]))
    edit(data)
    assert [e.split(":")[0] for e in errors(FILE, data)] == [where]


def test_the_schemas_share_one_config_and_one_stats() -> None:
    assert CHECK.schema["$defs"]["config"] == FILE.schema["$defs"]["config"] == AUDIT.schema["$defs"]["config"]
    assert CHECK.schema["$defs"]["stats"] == AUDIT.schema["$defs"]["stats"]


@pytest.mark.parametrize("args, code", [
    (("--fault-set", "none", "--z3", "none"), 0),
    (("--fault-set", "none", "--fault-set", "adversary", "--z3", "bmc", "--depth", "6"), 3),  # bmc: witness too deep
])
def test_real_audit_outputs_validate(args: tuple[str, ...], code: int) -> None:
    r = run("audit", "--users", "1", "--ops", "1", *args, "--format", "json", "--quiet")
    doc = json.loads(r.stdout)
    assert (r.exit_code, doc["exit_code"]) == (code, code)
    assert errors(AUDIT, doc) == []
    assert doc_fields("`tim3check audit --format json`", "version_param") == props(AUDIT.schema)
    assert set(doc) == set(props(AUDIT.schema))
    assert set(doc["cells"][0]) == set(props(AUDIT.schema["$defs"]["cell"]))


# ------------------------------------------------------------------ docs/json-format.md matches


def doc_fields(heading: str, first_row: str) -> list[str]:
    """The field names of the table in the section ``heading`` whose first row names ``first_row``."""
    section = DOC.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    tables = re.findall(r"(?:^\|.*\|$\n?)+", section, flags=re.M)
    table = next(t for t in tables if f"| `{first_row}`" in t)
    names: list[str] = []
    for row in table.splitlines()[2:]:
        names += re.findall(r"`([a-z_]+)`", row.split("|")[1])
    return names


def props(schema: dict[str, Any]) -> list[str]:
    return list(schema["properties"])


def test_the_check_section_lists_every_field_of_the_schema() -> None:
    # today: json-format.md says engine is always "explore" and omits stats.reduction and config.symmetry
    s = CHECK.schema
    assert doc_fields("`tim3check check --format json`", "tool") == props(s)
    assert doc_fields("`tim3check check --format json`", "params") == props(s["$defs"]["config"])
    assert doc_fields("`tim3check check --format json`", "name") == props(s["$defs"]["result"])
    assert doc_fields("`tim3check check --format json`", "states") == props(s["$defs"]["stats"])
    assert '`"explore"`' not in DOC


def test_the_file_section_lists_every_field_of_the_schema() -> None:
    assert doc_fields("Counterexample files", "schema_version") == props(FILE.schema)


def test_the_schema_lists_every_field_tim3check_prints(v1: tuple[dict[str, Any], dict[str, Any]]) -> None:
    doc, data = v1
    assert set(doc) == set(props(CHECK.schema))
    assert set(doc["results"][0]) == set(props(CHECK.schema["$defs"]["result"]))
    assert set(doc["stats"]) == set(props(CHECK.schema["$defs"]["stats"]))
    assert set(doc["config"]) == set(props(CHECK.schema["$defs"]["config"])) - {"conform"}
    assert set(data) == set(props(FILE.schema))
    assert set(data["steps"][0]) == set(props(FILE.schema["$defs"]["step"])) - {"where", "notes"}


def test_jsonschema_is_a_declared_dependency() -> None:
    assert '"jsonschema>=4.17"' in (ROOT / "pyproject.toml").read_text()
