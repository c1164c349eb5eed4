"""Capacity: how link capacity is shared among flows (max-min fair allocation)."""
