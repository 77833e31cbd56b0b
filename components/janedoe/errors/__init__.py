"""Errors shared by every brick: user mistakes versus bugs."""

from janedoe.errors.input_error import BudgetExceededError, JaneDoeInputError, NotFoundError

__all__ = ["JaneDoeInputError", "BudgetExceededError", "NotFoundError"]
