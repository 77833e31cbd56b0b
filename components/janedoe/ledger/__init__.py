"""A persisted privacy-budget ledger per (dataset, analyst): SQLite file or PostgreSQL URL, safe under concurrency."""

from janedoe.ledger.records import Budget, Spend
from janedoe.ledger.store import Ledger

__all__ = ["Budget", "Ledger", "Spend"]
