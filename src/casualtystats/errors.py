"""Errors a user can cause and fix. The CLI prints these as one line and exits
non-zero; anything else is a bug and keeps its traceback."""


class CasualtyStatsError(Exception):
    """Base class of expected, user-facing errors."""


class LoadError(CasualtyStatsError):
    """A file that cannot be read as an incident table at all."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
