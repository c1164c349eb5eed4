"""The realism check: leonet against Starlink's published per-country figures (``leonet realism``)."""
