"""Enforce k-anonymity (optionally l-diversity / t-closeness) on an Arrow table: table in, table + report out.

The output rows come in a random order (row_order), so they cannot be linked back to the input by position.
`recode_frequencies` makes the same global-recoding decision, with the same code, from the class frequency table
alone (rows weighted by their record counts), for engines that count the classes themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.criteria import SensitiveRequirement, class_sensitive, reference_distribution
from janedoe.k_anonymity.encoding import (
    EncodedAttribute,
    encode_attribute,
    encode_sensitive,
    group_ids,
)
from janedoe.k_anonymity.frequencies import FREQUENCY_COLUMN, frequency_weights
from janedoe.k_anonymity.generalization import Generalization, GeneralizedAttribute
from janedoe.k_anonymity.global_recoding import GlobalRecoding
from janedoe.k_anonymity.hierarchy import Hierarchy
from janedoe.k_anonymity.lattice import NodeEvaluator, SearchResult, greedy_search, lattice_nodes, optimal_search
from janedoe.k_anonymity.measurement import SensitiveCodes, measure, measure_classes, measure_frequencies
from janedoe.k_anonymity.mondrian_recoding import mondrian_generalization
from janedoe.k_anonymity.row_order import keyed_order_key, row_permutation
from janedoe.k_anonymity.utility import utility_metrics

METHODS = ("optimal", "heuristic", "mondrian")


@dataclass
class AnonymizationConfig:
    quasi_identifiers: list[str]
    k: int
    hierarchies: dict[str, Hierarchy] = field(default_factory=dict)
    sensitive: list[str] = field(default_factory=list)
    l: float | None = None  # noqa: E741  (the model's own name; entropy l may be fractional)
    l_variant: str = "distinct"
    c: float = 3.0
    t: float | None = None
    t_distance: str = "auto"  # equal | ordered | auto (ordered for numeric columns)
    max_suppression: float = 0.0
    method: str = "optimal"
    metric: str = "loss"
    time_limit_seconds: float | None = None
    risk_threshold: float = 0.2


@dataclass
class AnonymizationResult:
    """`table` is shuffled; `generalization` describes the input records in input order and is never written out."""

    table: pa.Table
    report: dict
    generalization: Generalization


def _validate(column_names: list[str], records: int, config: AnonymizationConfig) -> None:
    if config.method not in METHODS:
        raise JaneDoeInputError(f"unknown method '{config.method}' (one of {', '.join(METHODS)})")
    if not config.quasi_identifiers:
        raise JaneDoeInputError("at least one quasi-identifier is needed")
    if config.k < 1:
        raise JaneDoeInputError("k must be at least 1")
    if not 0 <= config.max_suppression <= 1:
        raise JaneDoeInputError("max_suppression must be a share between 0 and 1")
    for name in [*config.quasi_identifiers, *config.sensitive]:
        if name not in column_names:
            raise JaneDoeInputError(f"column '{name}' is not in the table")
    overlap = set(config.quasi_identifiers) & set(config.sensitive)
    if overlap:
        raise JaneDoeInputError(f"column '{sorted(overlap)[0]}' cannot be both quasi-identifying and sensitive")
    if (config.l is not None or config.t is not None) and len(config.sensitive) != 1:
        raise JaneDoeInputError("l-diversity and t-closeness are enforced on exactly one sensitive column")
    if records < config.k:
        raise JaneDoeInputError(f"the table has {records} rows, fewer than k={config.k}")


def _sensitive_codes(
    table: pa.Table, name: str, config: AnonymizationConfig, weights: np.ndarray | None = None
) -> SensitiveCodes:
    """A sensitive column encoded once, with the reference that t is both enforced and reported against."""
    ordered = _ordered(table, name, config)
    codes, distinct = encode_sensitive(table, name, ordered=ordered)
    value_count = max(len(distinct), 1)
    return SensitiveCodes(name, codes, value_count, ordered, reference_distribution(codes, value_count, weights))


def _requirement(
    table: pa.Table, config: AnonymizationConfig, weights: np.ndarray | None = None
) -> tuple[SensitiveRequirement, SensitiveCodes | None]:
    if not config.sensitive or (config.l is None and config.t is None):
        return SensitiveRequirement(), None
    sensitive = _sensitive_codes(table, config.sensitive[0], config, weights)
    requirement = SensitiveRequirement(
        l=config.l, l_variant=config.l_variant, c=config.c, t=config.t, ordered=sensitive.ordered
    )
    return requirement, sensitive


def _check_whole_table(
    requirement: SensitiveRequirement, sensitive: SensitiveCodes, weights: np.ndarray | None = None
) -> None:
    """Generalization cannot do better than one class holding every record."""
    codes = sensitive.codes
    profile = class_sensitive(
        np.zeros(len(codes), dtype=np.int64), codes, weights, 1, sensitive.value_count, sensitive.reference
    )
    if not requirement.class_passes(profile)[0]:
        raise JaneDoeInputError(
            "the sensitive column does not satisfy the requested l / t even over the whole table; "
            "no generalization can reach it"
        )


def _lattice_generalization(
    attributes: list[EncodedAttribute],
    levels: tuple[int, ...],
    k: int,
    requirement: SensitiveRequirement,
    sensitive: SensitiveCodes | None,
    weights: np.ndarray | None = None,
) -> Generalization:
    """The node's generalization; `weights` (records per row, int64) when the rows are a class frequency table's."""
    generalized = []
    for attribute, level in zip(attributes, levels, strict=True):
        penalty = (attribute.level_leaf_counts[level] - 1) / max(attribute.domain_size - 1, 1)
        generalized.append(
            GeneralizedAttribute(
                name=attribute.name,
                value_ids=attribute.generalized(level),
                labels=attribute.level_labels[level],
                penalty=penalty,
                original_ids=attribute.codes,
            )
        )
    radices = [len(item.labels) for item in generalized]
    class_ids, sizes = group_ids([item.value_ids for item in generalized], radices)
    row_weights = None
    if weights is not None:
        row_weights = weights.astype(np.float64)
        sizes = np.zeros(len(sizes), dtype=np.int64)
        np.add.at(sizes, class_ids, weights)
    failing = sizes < k
    if requirement.active and sensitive is not None:
        profile = class_sensitive(
            class_ids, sensitive.codes, row_weights, len(sizes), sensitive.value_count, sensitive.reference
        )
        failing |= ~requirement.class_passes(profile)
    return Generalization(attributes=generalized, suppressed=failing[class_ids], weights=weights)


def _search_report(search: SearchResult, attributes: list[EncodedAttribute]) -> dict:
    node = None
    if search.best is not None:
        node = {attribute.name: level for attribute, level in zip(attributes, search.best.levels, strict=True)}
    return {
        "node": node,
        "proven_optimal": search.optimal,
        "metric_value": search.best.metric if search.best is not None else None,
        "evaluated_nodes": search.evaluated_nodes,
        "lattice_nodes": search.lattice_nodes,
        "search_seconds": search.seconds,
    }


def anonymize(
    table: pa.Table, config: AnonymizationConfig, *, secret: bytes | None = None, seed: int | None = None
) -> AnonymizationResult:
    """Generalize (and suppress) the quasi-identifiers until every class satisfies the configured models.

    The output rows are shuffled: from the OS CSPRNG, or, given both `seed` and `secret` (at least 16 bytes),
    reproducibly for holders of the secret only. A seed without a secret does not reproduce the order.
    """
    _validate(table.column_names, table.num_rows, config)
    started = time.perf_counter()
    requirement, sensitive = _requirement(table, config)
    sensitive_codes = sensitive.codes if sensitive is not None else None
    value_count = sensitive.value_count if sensitive is not None else 0
    max_suppressed = int(np.floor(config.max_suppression * table.num_rows + 1e-9))
    if requirement.active and sensitive is not None:  # an active requirement always has its sensitive column
        _check_whole_table(requirement, sensitive)
    if config.method == "mondrian":
        generalization = mondrian_generalization(
            table, config.quasi_identifiers, config.hierarchies, config.k, requirement, sensitive_codes, value_count
        )
        method_report: dict = {}
    else:
        attributes = [
            encode_attribute(table, name, config.hierarchies.get(name)) for name in config.quasi_identifiers
        ]
        evaluator = NodeEvaluator(
            attributes, config.k, max_suppressed, requirement, sensitive_codes, value_count, config.metric
        )
        search = _run_search(evaluator, attributes, config)
        if search.best is None:
            raise JaneDoeInputError(
                "no generalization satisfies the privacy models within the suppression limit "
                "(even full generalization fails: check l / t against the sensitive column)"
            )
        generalization = _lattice_generalization(attributes, search.best.levels, config.k, requirement, sensitive)
        method_report = _search_report(search, attributes)
    output = generalization.apply(table)
    key = None
    if seed is not None and secret is not None:
        order_parameters = {name: value for name, value in _parameters(config).items() if name != "hierarchies"}
        key = keyed_order_key(secret, seed, output.num_rows, order_parameters)
    output = output.take(pa.array(row_permutation(output.num_rows, key)))
    seconds = time.perf_counter() - started
    report = _report(table, output.num_rows, config, generalization, sensitive, method_report, seconds)
    report["row_order"] = "keyed" if key is not None else "random"
    if config.method == "mondrian":
        report["search"]["partitions"] = report["utility"]["classes"]
    return AnonymizationResult(table=output, report=report, generalization=generalization)


@dataclass
class FrequencyRecoding:
    """Global recoding decided on a class frequency table: the plan to apply to the records, and the report."""

    recoding: GlobalRecoding
    report: dict


def recode_frequencies(frequencies: pa.Table, config: AnonymizationConfig) -> FrequencyRecoding:
    """`anonymize` (methods optimal and heuristic) decided on an equivalence-class frequency table: the distinct
    (quasi-identifiers, sensitive values) combinations with their record counts in FREQUENCY_COLUMN, whichever engine
    counted them. Returns the plan that recodes the records (GlobalRecoding.apply, batch by batch) and the report
    `anonymize` gives for those records (without `row_order`: ordering the rows is the caller's)."""
    weights = frequency_weights(frequencies)
    records = int(weights.sum())
    column_names = [name for name in frequencies.column_names if name != FREQUENCY_COLUMN]
    _validate(column_names, records, config)
    if config.method == "mondrian":
        raise JaneDoeInputError(
            "method 'mondrian' partitions the records themselves, not their class frequency table; "
            "use method optimal or heuristic"
        )
    started = time.perf_counter()
    row_weights = weights.astype(np.float64)
    requirement, sensitive = _requirement(frequencies, config, row_weights)
    max_suppressed = int(np.floor(config.max_suppression * records + 1e-9))
    if requirement.active and sensitive is not None:
        _check_whole_table(requirement, sensitive, row_weights)
    attributes = [
        encode_attribute(frequencies, name, config.hierarchies.get(name)) for name in config.quasi_identifiers
    ]
    evaluator = NodeEvaluator(
        attributes, config.k, max_suppressed, requirement,
        sensitive.codes if sensitive is not None else None, sensitive.value_count if sensitive is not None else 0,
        config.metric, weights=row_weights,
    )
    search = _run_search(evaluator, attributes, config)
    if search.best is None:
        raise JaneDoeInputError(
            "no generalization satisfies the privacy models within the suppression limit "
            "(even full generalization fails: check l / t against the sensitive column)"
        )
    generalization = _lattice_generalization(
        attributes, search.best.levels, config.k, requirement, sensitive, weights=weights
    )
    records_out = records - generalization.suppressed_records
    report = _report(
        frequencies, records_out, config, generalization, sensitive, _search_report(search, attributes),
        time.perf_counter() - started,
    )
    recoding = GlobalRecoding.from_generalization(attributes, search.best.levels, generalization)
    return FrequencyRecoding(recoding=recoding, report=report)


def _run_search(evaluator: NodeEvaluator, attributes: list[EncodedAttribute], config: AnonymizationConfig):
    if config.method == "optimal":
        return optimal_search(evaluator, time_limit=config.time_limit_seconds)
    limit = config.time_limit_seconds if config.time_limit_seconds is not None else 10.0
    try:
        lattice_nodes([attribute.height for attribute in attributes])
    except JaneDoeInputError:
        return greedy_search(evaluator, time_limit=limit)
    return optimal_search(evaluator, time_limit=limit)


def _report(
    source: pa.Table,
    records_out: int,
    config: AnonymizationConfig,
    generalization: Generalization,
    enforced: SensitiveCodes | None,
    method_report: dict,
    seconds: float,
) -> dict:
    """The run's report; `source` is the records, or their class frequency table when the generalization is
    weighted (then every count in the report is still in records)."""
    ordered = [name for name in config.sensitive if _ordered(source, name, config)]
    measure_source = measure if generalization.weights is None else measure_frequencies
    before = measure_source(
        source, config.quasi_identifiers, config.sensitive, config.k,
        recursive_c=config.c, risk_threshold=config.risk_threshold, ordered_sensitive=ordered,
    )
    kept = ~generalization.suppressed
    class_ids, sizes = generalization.kept_classes()
    weights = generalization.weights
    kept_weights = weights[kept].astype(np.float64) if weights is not None else None
    after = None
    if records_out:
        sensitive = []
        for name in config.sensitive:
            same = enforced is not None and enforced.name == name
            whole = enforced if enforced is not None and same else _sensitive_codes(source, name, config, weights)
            sensitive.append(
                SensitiveCodes(name, whole.codes[kept], whole.value_count, whole.ordered, whole.reference)
            )
        after = measure_classes(
            class_ids, sizes, config.quasi_identifiers, sensitive, config.k, weights=kept_weights,
            recursive_c=config.c, risk_threshold=config.risk_threshold,
        )
    achieved: dict[str, Any] = {"k": after.k if after else None}
    if after is not None and after.sensitive:
        first = after.sensitive[0]
        achieved.update({"distinct_l": first.distinct_l, "entropy_l": first.entropy_l,
                         "recursive_c_l": {"c": first.recursive_c, "l": first.recursive_l}, "t": first.t,
                         "t_reference": "input"})
    return {
        "parameters": _parameters(config),
        "records_in": generalization.records,
        "records_out": records_out,
        "achieved": achieved,
        "search": method_report,
        "utility": utility_metrics(generalization, config.k, sizes),
        "before": before.to_dict(),
        "after": after.to_dict() if after else None,
        "seconds": seconds,
    }


def _parameters(config: AnonymizationConfig) -> dict:
    return {
        "quasi_identifiers": list(config.quasi_identifiers),
        "sensitive": list(config.sensitive),
        "k": config.k,
        "l": config.l,
        "l_variant": config.l_variant if config.l is not None else None,
        "c": config.c if config.l_variant == "recursive" else None,
        "t": config.t,
        "max_suppression": config.max_suppression,
        "method": config.method,
        "metric": config.metric if config.method != "mondrian" else None,
        "hierarchies": {name: h.source for name, h in config.hierarchies.items()},
    }


def _ordered(table: pa.Table, name: str, config: AnonymizationConfig) -> bool:
    if config.t_distance != "auto":
        return config.t_distance == "ordered"
    kind = table.column(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)
