"""A persisted privacy-budget ledger per (dataset, analyst): SQLite file or PostgreSQL URL, safe under concurrency.

    ledger = Ledger.open("budgets.db")            # or "sqlite:///budgets.db" or "postgresql://user@host/db"
    ledger.set_budget("census", "ana", epsilon=1.0)
    ledger.spend("census", "ana", PrivacyCost(epsilon=0.1), query="count", mechanism="laplace")  # before any noise
    ledger.budget("census", "ana").remaining

spend raises BudgetExceededError (nothing recorded) when the cost does not fit; one Ledger is thread-safe, and any
number of processes may share one database. `read_ledger(location)` lists budgets and spends; on a SQLite file it
reads with the standard library's sqlite3 (no SQLAlchemy import: `janedoe dp budget` starts fast).
"""

from typing import TYPE_CHECKING

from janedoe.ledger.reading import read_ledger
from janedoe.ledger.records import Budget, Spend

if TYPE_CHECKING:
    from janedoe.ledger.store import Ledger

__all__ = ["Budget", "Ledger", "Spend", "read_ledger"]


def __getattr__(name: str):
    """`Ledger` (SQLAlchemy) is imported on first use (PEP 562), so `read_ledger` of a SQLite file starts fast."""
    if name != "Ledger":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from janedoe.ledger.store import Ledger

    globals()["Ledger"] = Ledger
    return Ledger


def __dir__() -> list[str]:
    return sorted(__all__)
