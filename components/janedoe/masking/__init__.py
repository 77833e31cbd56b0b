"""Masking tabular data per a policy, PostgreSQL Anonymizer style, vectorized over Arrow record batches.

Deterministic rules (pseudonymize, hash, keyed_permutation, partial, generalize, constant, ...) give the same output
whatever the batch boundaries. Random rules (noise, random_*, fake, shuffle) draw from a keyed function of each row's
identity, so every run, copy and export gives a row the same draw (`fresh: true` opts out); `shuffle` permutes within
each batch when streaming.
"""

from janedoe.masking.mask_file import MaskReport, mask_file
from janedoe.masking.secret import load_secret, policy_needs_secret, rule_needs_secret
from janedoe.masking.table_masker import TableMasker, build_table_masker

__all__ = [
    "load_secret",
    "policy_needs_secret",
    "rule_needs_secret",
    "TableMasker",
    "build_table_masker",
    "mask_file",
    "MaskReport",
]
