"""Capacity: link budgets and MODCODs (SNR to bit/s), and how link capacity is shared among flows (max-min fair allocation)."""
