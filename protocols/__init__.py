"""Measurement protocols and hardware-in-the-loop training (plain functions over roles)."""
