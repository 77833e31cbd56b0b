"""Masking as the API service serves it: a registered dataset as each role sees it (pages and exports), a caller's
upload masked with the caller's own policy, and CSV downloads escaped against formula injection.

A brick of its own because every read of data by an API caller goes through it: which rules a role gets, which key
they use (the server's, never another of its variables) and whether a read can be repeated to average noise away are
decided here, in one place.
"""

from janedoe.dataset_masking.formula_escape import escape_formulas, formula_safe_batches
from janedoe.dataset_masking.masked_views import MaskedViews, RoleView
from janedoe.dataset_masking.role_masking import (
    RoleNotAllowedError,
    check_every_role,
    parse_dataset_policy,
    role_masker,
)
from janedoe.dataset_masking.upload_masking import MIN_SECRET_BYTES, mask_upload, renamed_error

__all__ = [
    "MaskedViews",
    "RoleView",
    "RoleNotAllowedError",
    "role_masker",
    "parse_dataset_policy",
    "check_every_role",
    "mask_upload",
    "MIN_SECRET_BYTES",
    "renamed_error",
    "escape_formulas",
    "formula_safe_batches",
]
