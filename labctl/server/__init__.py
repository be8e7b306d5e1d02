"""The instrument server: one process owns a station's VISA sessions, others use them.

- :mod:`labctl.server.wire` — messages, token, addresses, state files
- :mod:`labctl.server.host` — the server (``labctl server start``)
- :mod:`labctl.server.client` — ``@labserver``, the pyvisa backend of its clients, and the
  write lock a run holds
- :mod:`labctl.server.cli` — ``labctl server start|status|stop``
"""
