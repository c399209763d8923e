"""The interfaces: CLI, reports, renders, counterexample files, replay, pytest plugin."""
