"""Entry point of the unbounded prover (the z3 work lives in checker/symbolic/)."""

from __future__ import annotations

from checker.symbolic.prove import prove

__all__ = ["prove"]
