"""Orbits: orbital elements, Walker shells, TLE/OMM readers, batch SGP4 propagation, frames."""
