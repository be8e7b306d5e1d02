"""Role adapters: one role of :mod:`instruments.roles` on top of one driver.

Every adapter class declares ``settings_type`` (a dataclass of per-instrument settings with
defaults, read from the station file) and ``open(name=, address=, visa_library=, settings=,
limits=, timebase=)``. The station loader finds adapters through :mod:`instruments.registry`.
"""
