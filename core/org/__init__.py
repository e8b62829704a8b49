"""The organisation: the department tree and who belongs where."""
