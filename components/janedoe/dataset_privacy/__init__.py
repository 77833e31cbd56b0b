"""Differential privacy on registered datasets: DP queries and synthetic copies (as background jobs), each charged to
the caller's budget in the ledger before any noise is drawn.

A brick of its own because it is where an API caller spends privacy budget: the role check, the budget created from
the policy's `dp:` section and the spend-first order live here, apart from masking and from the store.
"""

from janedoe.dataset_privacy.privacy_budgets import DatasetPrivacy
from janedoe.dataset_privacy.synthetic_jobs import SyntheticJobs

__all__ = [
    "DatasetPrivacy",
    "SyntheticJobs",
]
