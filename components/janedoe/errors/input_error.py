"""One error type for every problem caused by what a user gave us (files, policies, columns, secrets, parameters).

The CLI turns it into exit code 2 and the API into a 4xx: anything else is a bug. The message is one line and names
where the problem is (file, line, field, table, column) but never a value from the data or a secret.
"""


class JaneDoeInputError(ValueError):
    """Bad input: a one-line message that names the file, line or field."""

    def __init__(self, message: str, *, where: str | None = None, code: str = "bad_input") -> None:
        self.where = where
        self.code = code
        self.detail = message
        super().__init__(f"{where}: {message}" if where else message)


class BudgetExceededError(JaneDoeInputError):
    """A privacy query that would overspend its budget: refused before any noise is drawn."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="budget_exceeded")


class NotFoundError(JaneDoeInputError):
    """A named thing (dataset, table, job, key) that does not exist."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="not_found")
