"""E-signatures and the controls they sign: change control, lot disposition."""
