"""leonet: end-to-end simulation of Starlink-class LEO satellite internet."""

__version__ = "0.1.0"
