"""Checking a team's own AO repository: a manifest (``tim3check.toml``) becomes a system
of Lua processes, wallets and sinks (``system.system_spec``) that every engine that runs
Lua explores with the same properties, counterexamples and findings."""
