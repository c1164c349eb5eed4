"""Simulation: build a scenario's objects, compute steps as pure functions of t, run chunks."""
