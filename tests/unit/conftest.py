"""Fixtures shared by tests/unit (helpers in ``_support.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit._support import save_v1_trace


@pytest.fixture(scope="session")
def v1_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1's positions-match-supply counterexample (7 steps), saved once by ``check``; tests copy it
    (``_support.edited``) and never change it."""
    return save_v1_trace(tmp_path_factory.mktemp("saved"))
