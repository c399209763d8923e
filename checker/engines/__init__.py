"""The engines: explicit search (explore, symmetry), simulate, conformance, the z3 engines (symbolic/)."""
