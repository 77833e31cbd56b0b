"""janedoe k_anonymity: measure and enforce k-anonymity, l-diversity and t-closeness on Arrow tables.

`measure` reports k, class sizes, l, t and re-identification risk of a table as it is; `anonymize` enforces the
models by optimal global recoding over the hierarchies' lattice or by Mondrian partitioning, and returns the
output table, its rows shuffled so that they cannot be linked back to the input by position, with a JSON-able
report. Measures and global recoding depend on the records only through the equivalence-class frequency table
(`class_frequencies`), which another engine (Spark) may count instead: `measure_frequencies` and
`recode_frequencies` take it from there with the same code, the latter returning a `GlobalRecoding` plan that
recodes any batch of the records on its own.
"""

from janedoe.k_anonymity.anonymize import (
    AnonymizationConfig,
    AnonymizationResult,
    FrequencyRecoding,
    anonymize,
    recode_frequencies,
)
from janedoe.k_anonymity.frequencies import FREQUENCY_COLUMN, class_frequencies, frequency_columns
from janedoe.k_anonymity.global_recoding import GlobalRecoding
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
from janedoe.k_anonymity.measurement import Measurement, SensitiveMeasurement, measure, measure_frequencies
from janedoe.k_anonymity.policy_run import anonymize_with_policy, config_from_policy, kanon_policy_columns

__all__ = [
    "FREQUENCY_COLUMN",
    "AnonymizationConfig",
    "AnonymizationResult",
    "FrequencyRecoding",
    "GlobalRecoding",
    "Hierarchy",
    "Measurement",
    "SensitiveMeasurement",
    "anonymize",
    "anonymize_with_policy",
    "class_frequencies",
    "config_from_policy",
    "date_hierarchy",
    "flat_hierarchy",
    "frequency_columns",
    "grouping_hierarchy",
    "hierarchy_from_rows",
    "interval_hierarchy",
    "kanon_policy_columns",
    "mask_right_hierarchy",
    "measure",
    "measure_frequencies",
    "read_hierarchy_csv",
    "recode_frequencies",
]
