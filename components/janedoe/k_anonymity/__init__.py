"""janedoe k_anonymity: measure and enforce k-anonymity, l-diversity and t-closeness on Arrow tables.

`measure` reports k, class sizes, l, t and re-identification risk of a table as it is; `anonymize` enforces the
models by optimal global recoding over the hierarchies' lattice or by Mondrian partitioning, and returns the
output table, its rows shuffled so that they cannot be linked back to the input by position, with a JSON-able
report.
"""

from janedoe.k_anonymity.anonymize import AnonymizationConfig, AnonymizationResult, anonymize
from janedoe.k_anonymity.hierarchy import (
    Hierarchy,
    date_hierarchy,
    flat_hierarchy,
    grouping_hierarchy,
    hierarchy_from_rows,
    interval_hierarchy,
    mask_right_hierarchy,
    read_hierarchy_csv,
)
from janedoe.k_anonymity.measurement import Measurement, SensitiveMeasurement, measure
from janedoe.k_anonymity.policy_run import anonymize_with_policy, config_from_policy

__all__ = [
    "AnonymizationConfig",
    "AnonymizationResult",
    "Hierarchy",
    "Measurement",
    "SensitiveMeasurement",
    "anonymize",
    "anonymize_with_policy",
    "config_from_policy",
    "date_hierarchy",
    "flat_hierarchy",
    "grouping_hierarchy",
    "hierarchy_from_rows",
    "interval_hierarchy",
    "mask_right_hierarchy",
    "measure",
    "read_hierarchy_csv",
]
