"""Utility of a transformation: discernibility, AECS, generalized information loss (NCP), suppression, entropy.

Conventions (ARX's): a suppressed record costs |D| in the discernibility metric and the full penalty 1 in the
loss; the loss (generalized information loss) is the mean NCP over records and quasi-identifiers. Frequencies
for the non-uniform entropy are taken over the whole input, so the lattice search can compute it per attribute.
"""

from __future__ import annotations

import numpy as np
from janedoe.k_anonymity.encoding import dense_inverse
from janedoe.k_anonymity.generalization import Generalization


def _non_uniform_entropy(
    value_ids: np.ndarray, original_ids: np.ndarray, suppressed: np.ndarray, weights: np.ndarray
) -> float:
    """Sum over records of -log2 P(original value | generalized value), frequencies over the whole input;
    a suppressed record is generalized to `*`, i.e. conditioned on nothing. `weights`: records per row."""
    n = weights.sum()
    if len(value_ids) == 0 or n == 0:
        return 0.0
    originals = int(original_ids.max()) + 1
    pair_ids, _ = dense_inverse(value_ids.astype(np.int64) * originals + original_ids,
                                float(int(value_ids.max()) + 1) * originals)
    pair_counts = np.bincount(pair_ids, weights=weights)
    gen_counts = np.bincount(value_ids, weights=weights)
    original_counts = np.bincount(original_ids, weights=weights)
    kept_bits = -np.log2(pair_counts[pair_ids] / gen_counts[value_ids])
    suppressed_bits = -np.log2(original_counts[original_ids] / n)
    return float((np.where(suppressed, suppressed_bits, kept_bits) * weights).sum())


def utility_metrics(generalization: Generalization, k: int, class_sizes: np.ndarray | None = None) -> dict:
    n = generalization.records
    suppressed = generalization.suppressed
    weights = generalization.row_weights()
    suppressed_count = generalization.suppressed_records
    sizes = generalization.kept_classes()[1] if class_sizes is None else class_sizes
    kept = n - suppressed_count
    per_attribute = {}
    entropy_total = 0.0
    for attribute in generalization.attributes:
        penalty = np.where(suppressed, 1.0, attribute.penalty[attribute.value_ids])
        entropy = _non_uniform_entropy(attribute.value_ids, attribute.original_ids, suppressed, weights)
        entropy_total += entropy
        per_attribute[attribute.name] = {
            "loss": float((penalty * weights).sum() / n) if n else 0.0, "entropy_bits": entropy,
        }
    loss = float(np.mean([item["loss"] for item in per_attribute.values()])) if per_attribute else 0.0
    aecs = kept / len(sizes) if len(sizes) else 0.0
    return {
        "loss": loss,
        "discernibility": int((sizes.astype(np.int64) ** 2).sum() + suppressed_count * n),
        "aecs": aecs,
        "normalized_aecs": aecs / k if k else None,
        "non_uniform_entropy_bits": entropy_total,
        "suppressed_records": suppressed_count,
        "suppression_rate": suppressed_count / n if n else 0.0,
        "classes": int(len(sizes)),
        "per_attribute": per_attribute,
    }
