"""The one way a bench run fails on purpose: it did not do what its figures would claim, so it prints none."""


class WrongRun(RuntimeError):
    """A trigger not POSTED, books that do not balance, a refused request, rows that differ from the server's."""
