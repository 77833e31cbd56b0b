"""Masking tabular data per a policy, PostgreSQL Anonymizer style, vectorized over Arrow record batches.

Deterministic rules (pseudonymize, hash, keyed_permutation, partial, generalize, constant, ...) give the same output
whatever the batch boundaries. Random rules (noise, random_*, fake, shuffle) draw from a keyed function of each row's
identity, so every run, copy and export gives a row the same draw (`fresh: true` opts out); `shuffle` permutes the
whole column in `mask_file`, `mask_table`, database copies, dumps and in-place runs and the API's role views
(`WholeColumnShuffles`: two passes, bounded memory), and on Spark (its own keyed sort).
Any rule may carry `when:` (conditional: masks the rows where a test on the row's original values holds or is NULL).
Unique pseudonyms depend on the SET of a column's values, never their order: a
`TableMasker` with `needs_prepass` observes every batch (in any process), merges the `PrepassState`s and uses the
result before masking.
"""

from janedoe.masking.column_shuffle import WholeColumnShuffles
from janedoe.masking.keyed_rules import PrepassMissingError
from janedoe.masking.mask_file import MaskReport, mask_file
from janedoe.masking.secret import load_secret, policy_needs_secret, require_secret, rule_needs_secret
from janedoe.masking.table_masker import TableMasker, build_table_masker
from janedoe.masking.unique_assignment import PrepassMismatchError
from janedoe.masking.unique_prepass import PrepassAccumulator, PrepassState

__all__ = [
    "load_secret",
    "policy_needs_secret",
    "rule_needs_secret",
    "require_secret",
    "TableMasker",
    "WholeColumnShuffles",
    "build_table_masker",
    "mask_file",
    "MaskReport",
    "PrepassState",
    "PrepassAccumulator",
    "PrepassMissingError",
    "PrepassMismatchError",
]
