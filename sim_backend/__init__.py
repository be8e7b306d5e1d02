"""The virtual lab: chip physics, instrument twins and the ``@labsim`` pyvisa backend."""
