"""Command-set engines shared by the instrument twins.

What a real instrument's firmware does before any physics: the IEEE 488.2 status model and error
queue (:mod:`.base`), number formats (:mod:`.numbers`), typed settings (:mod:`.params`), and the
three command languages of the bench — the SCPI tree (:mod:`.scpi`), the Lake Shore / SRS
mnemonics (:mod:`.mnemonic`) and Keithley's TSP, a Lua subset (:mod:`.tsp`, :mod:`.lua`). The
instrument models built on them live in :mod:`sim_backend.twins`.
"""
