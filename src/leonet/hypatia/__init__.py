"""Hypatia (Kassing et al., IMC 2020) beside leonet: reading its constellation files
(:mod:`leonet.hypatia.tles`, ``read_hypatia_tles``) and writing its satellite network state from a
leonet scenario (:mod:`leonet.hypatia.export`, ``export_hypatia``).

The exporter is engine-side: it computes the network state itself (it reads no results folder).
Nothing is imported here, so reading a Hypatia TLE file does not load the exporter.
"""
