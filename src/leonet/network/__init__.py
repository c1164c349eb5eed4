"""Network: visibility between ground sites and satellites, links, snapshot graphs, routing."""
