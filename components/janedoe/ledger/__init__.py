"""A persisted privacy-budget ledger per (dataset, analyst): SQLite file or PostgreSQL URL, safe under concurrency.

    ledger = Ledger.open("budgets.db")            # or "sqlite:///budgets.db" or "postgresql://user@host/db"
    ledger.set_budget("census", "ana", epsilon=1.0)
    ledger.spend("census", "ana", PrivacyCost(epsilon=0.1), query="count", mechanism="laplace")  # before any noise
    ledger.budget("census", "ana").remaining

spend raises BudgetExceededError (nothing recorded) when the cost does not fit; one Ledger is thread-safe, and any
number of processes may share one database.
"""

from janedoe.ledger.records import Budget, Spend
from janedoe.ledger.store import Ledger

__all__ = ["Budget", "Ledger", "Spend"]
