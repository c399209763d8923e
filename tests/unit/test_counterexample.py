"""Counterexample files: JSON conversion, the schema, atomic writing, loading, rendering."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from checker.config import CheckConfig
from checker.interfaces.counterexample import (
    SCHEMA_VERSION,
    config_from_json,
    counterexample_data,
    dumps,
    load_counterexample,
    message_from_json,
    message_to_json,
    state_diff,
    to_json,
    write_counterexample,
)
from checker.errors import InternalError, TraceFileError
from checker.engines.explore import explore
from checker.interfaces.render import mermaid, render_markdown, render_terminal, render_text
from checker.model.semantics import Semantics
from checker.model.values import FrozenMap, make_message
from spec.tim3 import SPEC
from tests.tim3_helpers import config

V1: dict[str, Any] = dict(version="v1", users=1, ops=1, amounts=(1, 2))


def cx(prop: str = "positions-match-supply", cfg: CheckConfig | None = None) -> dict[str, Any]:
    cfg = cfg or config(**V1)
    result = explore(SPEC, cfg)
    return counterexample_data(result, result.result(prop), Semantics(SPEC, cfg))


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return cx()


# ------------------------------------------------------------------ conversion


@dataclass(frozen=True, slots=True)
class Rec:
    a: int
    m: FrozenMap[str, int]
    t: tuple[int, ...]
    _h: int = field(default=0, init=False, repr=False)


def test_to_json_converts_dataclasses_maps_and_tuples() -> None:
    r = Rec(1, FrozenMap({"b": 2, "a": 1}), (3, 4))
    assert to_json(r) == {"a": 1, "m": {"a": 1, "b": 2}, "t": [3, 4]}
    assert list(to_json(r)["m"]) == ["a", "b"]  # deterministic key order, private field dropped
    assert to_json(FrozenMap({("x", 1): True})) == {'["x", 1]': True}
    with pytest.raises(InternalError):
        to_json(object())


def test_message_round_trip_restores_tuples() -> None:
    m = make_message("a", "b", "Act", {"Z": (1, 2), "A": "x"})
    j = message_to_json(m)
    assert j == {"src": "a", "dst": "b", "action": "Act", "tags": [["A", "x"], ["Z", [1, 2]]]}
    assert message_from_json(json.loads(json.dumps(j))) == m
    with pytest.raises(ValueError):
        message_from_json({"src": "a"})


def test_config_round_trip() -> None:
    cfg = CheckConfig(params=FrozenMap({"amounts": (1, 2), "version": "v2"}), network="fifo",
                      faults=frozenset({"loss", "unlock-fail"}), max_faults=2, properties=("x",))
    back = config_from_json(json.loads(json.dumps(cfg.to_json())))
    assert back == cfg
    assert back.params["amounts"] == (1, 2)


def test_state_diff_is_per_key_for_maps() -> None:
    before = Rec(1, FrozenMap({"u1": 1, "u2": 5}), ())
    after = Rec(1, FrozenMap({"u1": 2, "u3": 7}), ())
    assert state_diff(before, after) == {
        "m": {"keys": {"u1": {"before": 1, "after": 2}, "u2": {"before": 5}, "u3": {"after": 7}}}
    }
    assert state_diff(before, before) == {}


# ------------------------------------------------------------------ the document


def test_document_fields(data: dict[str, Any]) -> None:
    assert data["schema_version"] == SCHEMA_VERSION == 1
    assert data["tool"] == "tim3check"
    root = Path(__file__).resolve().parents[2]
    assert data["spec"] == {"name": "tim3", "module": "spec.tim3", "source": "spec/tim3/__init__.py",
                            "path": (root / "spec" / "tim3" / "__init__.py").as_posix()}
    assert data["length"] == len(data["steps"]) == 7
    assert data["engine"] == "explore"
    assert data["property"]["name"] == "positions-match-supply"
    assert data["property"]["kind"] == "at-quiescence"
    assert data["verdict"] == "VIOLATED"
    assert data["config"]["params"]["version"] == "v1"
    assert [p["pid"] for p in data["processes"]] == ["coordinator", "lock", "token", "state", "user1"]
    assert data["initial"]["states"]["token"] == {"balances": {}, "supply": 0, "applied": {}}
    assert data["final"]["quiescent"] is True
    assert data["final"]["states"]["token"]["supply"] == 1
    assert data["witness"] is None


def test_steps_record_delivery_sends_and_changes(data: dict[str, Any]) -> None:
    steps = data["steps"]
    assert [s["index"] for s in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == 7
    first = steps[0]
    assert (first["kind"], first["pid"], first["handler"], first["message"]) == ("initiative", "user1", "send-request", None)
    assert first["choices"] == [["op", "mint"], ["amount", 1]]
    assert first["sent"][0]["action"] == "MintTIM3"
    mint = next(s for s in steps if s["handler"] == "Mint")
    assert mint["message"]["src"] == "coordinator" and mint["message"]["dst"] == "token"
    assert mint["changes"]["token"]["supply"] == {"before": 0, "after": 1}
    assert mint["changes"]["token"]["balances"] == {"keys": {"user1": {"after": 1}}}
    assert set(mint["changes"]) == {"token"}


def test_violation_explains_the_values(data: dict[str, Any]) -> None:
    assert "total supply = 1" in data["violation"]
    assert "Σ positions = 0" in data["violation"]


def test_response_violation_lists_open_obligations() -> None:
    d = cx("update-follows-success")
    assert d["final"]["obligations"] == [["user1", 1]]
    assert "open obligations" in d["violation"]


def test_sometimes_witness_has_goal_steps() -> None:
    d = cx("mint-and-burn-reachable")
    assert d["violation"] is None
    assert d["witness"]["mint succeeds"] == len(d["steps"])


def test_output_is_deterministic(data: dict[str, Any]) -> None:
    assert dumps(cx()) == dumps(data)


def test_no_trace_is_an_internal_error() -> None:
    cfg = config(**V1)
    result = explore(SPEC, cfg)
    with pytest.raises(InternalError, match="no trace"):
        counterexample_data(result, result.result("every-request-answered"), Semantics(SPEC, cfg))


# ------------------------------------------------------------------ files


def test_write_load_round_trip(data: dict[str, Any], tmp_path: Path) -> None:
    path = write_counterexample(data, tmp_path)
    assert path.name == f"positions-match-supply--{config(**V1).label({'impl': 'python', 'aos': 'default'})}.json"
    assert path.with_suffix(".md").exists()
    assert load_counterexample(path) == data
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, path.with_suffix(".md").name])


def test_engine_other_than_explore_is_in_the_label(data: dict[str, Any], tmp_path: Path) -> None:
    d = dict(data, engine="bmc", config_label=config(**V1).label({'impl': 'python', 'aos': 'default'}) + "-bmc")
    assert write_counterexample(d, tmp_path).name.endswith("-bmc.json")


def test_failed_serialisation_leaves_existing_file_untouched(data: dict[str, Any], tmp_path: Path) -> None:
    path = write_counterexample(data, tmp_path)
    before = path.read_bytes(), path.with_suffix(".md").read_bytes()
    bad = dict(data, bound=object())
    with pytest.raises(InternalError, match="not JSON-serialisable"):
        write_counterexample(bad, tmp_path)
    assert (path.read_bytes(), path.with_suffix(".md").read_bytes()) == before
    assert len(list(tmp_path.iterdir())) == 2


def test_failed_rename_leaves_no_temp_file(data: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_counterexample(data, tmp_path)
    before = path.read_bytes()
    changed = dict(data, bound="changed")

    def boom(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_counterexample(changed, tmp_path)
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ malformed files


def _file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "broken-trace.json"
    p.write_text(text, encoding="utf-8")
    return p


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="nowhere.json: no such counterexample file"):
        load_counterexample(tmp_path / "nowhere.json")


def test_bad_json_names_line_and_column(tmp_path: Path) -> None:
    p = _file(tmp_path, '{\n  "schema_version": 1,\n  oops\n}')
    with pytest.raises(TraceFileError, match=r"broken-trace.json: not valid JSON: .* line 3, column 3"):
        load_counterexample(p)


def test_wrong_schema_version(data: dict[str, Any], tmp_path: Path) -> None:
    p = _file(tmp_path, json.dumps(dict(data, schema_version=99)))
    with pytest.raises(TraceFileError, match="broken-trace.json: unsupported schema_version 99"):
        load_counterexample(p)


@pytest.mark.parametrize("missing", ["steps", "config", "property", "initial"])
def test_missing_top_level_field(data: dict[str, Any], tmp_path: Path, missing: str) -> None:
    d = {k: v for k, v in data.items() if k != missing}
    with pytest.raises(TraceFileError, match=f"broken-trace.json: missing field '{missing}'"):
        load_counterexample(_file(tmp_path, json.dumps(d)))


def test_missing_step_field(data: dict[str, Any], tmp_path: Path) -> None:
    d = json.loads(json.dumps(data))
    del d["steps"][2]["sent"]
    with pytest.raises(TraceFileError, match=r"broken-trace.json: missing field 'steps\[2\].sent' \(step 3\)"):
        load_counterexample(_file(tmp_path, json.dumps(d)))


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match="broken-trace.json: not a counterexample"):
        load_counterexample(_file(tmp_path, "[1, 2]"))


# ------------------------------------------------------------------ rendering


def test_markdown_has_sequence_diagram_and_one_row_per_step(data: dict[str, Any]) -> None:
    md = render_markdown(data)
    assert "```mermaid\nsequenceDiagram\n" in md
    rows = [line for line in md.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == len(data["steps"])
    assert rows[4].startswith("| 5 | token | Mint |")
    assert "supply: 0 → 1" in rows[4]
    assert "positions-match-supply" in md.splitlines()[0]
    assert data["property"]["meaning"] in md


def test_mermaid_arrows_and_escaping(data: dict[str, Any]) -> None:
    mm = mermaid(data)
    lines = mm.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert [ln.split()[1] for ln in lines if ln.strip().startswith("participant")] == [
        "coordinator", "lock", "token", "state", "user1"]
    arrows = [ln for ln in lines if "->>" in ln]
    assert len(arrows) == sum(1 for s in data["steps"] if s["kind"] == "deliver")
    assert "    coordinator->>token: 5. Mint(" in mm
    assert "user1#0" not in mm and "user1#35;0" in mm  # '#' is special in Mermaid text


def test_mermaid_shows_faults_as_notes() -> None:
    d = cx("positions-match-supply", config(version="v3", users=1, ops=1, amounts=(1,), faults=("loss",)))
    mm = mermaid(d)
    assert "lost: UpdatePosition(" in mm
    assert "Note over coordinator,state:" in mm


def test_terminal_and_text_renderings(data: dict[str, Any]) -> None:
    console = Console(record=True, width=200)
    console.print(render_terminal(data))
    out = console.export_text()
    assert "positions-match-supply" in out and "VIOLATED" in out and "MintTIM3-Response" in out
    text = render_text(data)
    assert len([ln for ln in text.splitlines() if ln.strip()[:2].rstrip(".").isdigit()]) == len(data["steps"])
