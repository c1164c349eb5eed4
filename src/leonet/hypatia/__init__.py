"""Hypatia (Kassing et al., IMC 2020) beside leonet: writing its satellite network state from a
leonet scenario (:mod:`leonet.hypatia.export`, ``export_hypatia``; the files' formats:
:mod:`leonet.hypatia.files`).

The exporter runs the engine's own stages (sky, links, station forwarding; :mod:`leonet.sim.stages`)
and reads no results folder. Reading Hypatia's constellation files (``tles.txt``) is an orbit-file
format of the engine's door, :mod:`leonet.space.hypatia_tles`: it lives below the engine, as the
export lives above it, so that no import circle joins them. Nothing is imported here.
"""
