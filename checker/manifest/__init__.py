"""The system manifest (``tim3check.toml``): describe a team's AO system once, check it.

* ``load_manifest(path) -> Manifest``: the typed, frozen, resolved manifest
  (``checker.manifest.schema``); every mistake is a ``ManifestError`` naming file, key,
  line and fix.
* ``scan_repository(root) -> RepoScan`` and ``draft_manifest(root) -> str``: what
  ``tim3check init DIR`` reads from a repository's Lua files and the starter manifest it
  writes; ``write_manifest(path, text, force=False)`` writes it atomically.
* ``checker.manifest.expr``: the property expression language (``evaluate`` with an
  ``ExprEnv``); ``checker.manifest.templates``: the ready-made property templates.

The format is documented in docs/manifest.md.
"""

from __future__ import annotations

from checker.manifest.errors import ManifestError, ObservableValueError, Problem
from checker.manifest.load import load_manifest
from checker.model.spec import PropertyKind
from checker.manifest.schema import (
    Adversary,
    AnswerRule,
    BootMessage,
    Domain,
    Goal,
    LimitsSpec,
    Manifest,
    Observable,
    Operation,
    OperationInstance,
    ProcessSpec,
    PropertySpec,
    Sink,
    SystemInfo,
    TrustRule,
    Wallets,
)

__all__ = [
    "Adversary",
    "AnswerRule",
    "BootMessage",
    "Domain",
    "Goal",
    "LimitsSpec",
    "Manifest",
    "ManifestError",
    "Observable",
    "ObservableValueError",
    "Operation",
    "OperationInstance",
    "Problem",
    "ProcessSpec",
    "PropertyKind",
    "PropertySpec",
    "Sink",
    "SystemInfo",
    "TrustRule",
    "Wallets",
    "load_manifest",
]
