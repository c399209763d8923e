"""The model: the spec API, values, AO's step relation (semantics), network, choices, the process seam."""
