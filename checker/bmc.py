"""Entry point of the bounded model checker (the z3 work lives in checker/symbolic/)."""

from __future__ import annotations

from checker.symbolic.bmc import bmc

__all__ = ["bmc"]
