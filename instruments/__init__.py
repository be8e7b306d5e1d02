"""Instrument layer: role interfaces, drivers and role adapters."""
