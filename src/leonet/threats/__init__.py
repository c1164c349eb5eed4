"""Threats: the timeline of events (outages, losses, jamming, hacks, surges) and how each one
changes a snapshot of the system."""
