"""Drivers declared here, pymeasure style, where pymeasure and qcodes have none (or lack a feature).

Every driver is an :class:`pymeasure.instruments.Instrument` with ``control``/``measurement``
descriptors, strict validators (a value out of range raises, it is never truncated) and
docstrings that give the unit.
"""
