"""`check --engine prove --method parametric`: proofs for any number of users and operations."""

from __future__ import annotations

import json

from tests.unit import _support


def run(*args: str) -> tuple[int, dict[str, object]]:
    """``tim3check ARGS``: its exit code and its JSON report (stdout)."""
    r = _support.run(*args)
    return r.exit_code, json.loads(r.stdout)


def test_v3_proved_for_any_number_of_users_and_operations() -> None:
    code, data = run("check", "--engine", "prove", "--method", "parametric", "--no-save", "--format", "json")
    results = {r["name"]: r for r in data["results"]}  # type: ignore[attr-defined]
    for name in ("update-follows-success", "positions-match-supply", "positions-match-supply-inflight",
                 "collateral-backs-supply", "every-request-answered"):
        assert results[name]["verdict"] == "PROVED", results[name]
        assert "PROVED for any number of users and operations" in results[name]["bound"]
    assert code == 0


def test_v1_is_never_proved() -> None:
    code, data = run("check", "--engine", "prove", "--method", "parametric", "--coordinator", "v1", "--no-save",
                     "--format", "json")
    verdicts = {r["name"]: r["verdict"] for r in data["results"]}  # type: ignore[attr-defined]
    assert verdicts["update-follows-success"] != "PROVED" and verdicts["positions-match-supply"] != "PROVED"
    assert code != 0
