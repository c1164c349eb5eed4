"""The stages of the step, in the order :func:`leonet.sim.step.step_at` calls them: sky, links,
routes (with the slot's serving assignment and the station pairs), allocation, service, tables.
Each is a small function from the earlier stages' results to its own frozen dataclass of arrays."""
