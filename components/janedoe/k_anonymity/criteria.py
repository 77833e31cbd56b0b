"""Per-equivalence-class privacy models, vectorized over all classes at once.

Input is always the (class, sensitive value) contingency in sparse form: one entry per pair that occurs, with its
record count. l-diversity (distinct, entropy, recursive (c,l)) and t-closeness (equal distance for categorical,
ordered EMD for ordinal/numeric values) are computed for every class with numpy, no loop over classes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# classes x sensitive values processed at once for the ordered distance (dense cumulative sums)
_DENSE_CELLS = 4_000_000


@dataclass(frozen=True)
class ClassSensitive:
    """Sparse (class, sensitive value) counts, sorted by class."""

    pair_class: np.ndarray
    pair_value: np.ndarray
    pair_count: np.ndarray
    class_sizes: np.ndarray
    value_count: int
    overall: np.ndarray  # the t-closeness reference: see reference_distribution

    @property
    def classes(self) -> int:
        return len(self.class_sizes)


def reference_distribution(sensitive: np.ndarray, value_count: int, weights: np.ndarray | None = None) -> np.ndarray:
    """The t-closeness reference: the sensitive values' distribution over the whole input, suppressed records
    included. Enforcement and the report both measure against it, so the reported t is the enforced one."""
    totals = np.bincount(sensitive, weights=weights, minlength=value_count)
    return totals / max(totals.sum(), 1)


def class_sensitive(
    class_ids: np.ndarray,
    sensitive: np.ndarray,
    weights: np.ndarray | None,
    classes: int,
    value_count: int,
    overall: np.ndarray | None = None,
) -> ClassSensitive:
    key = class_ids.astype(np.int64) * value_count + sensitive
    unique_key, inverse = np.unique(key, return_inverse=True)
    counts = np.bincount(inverse, weights=weights, minlength=len(unique_key)).astype(np.int64)
    pair_class = unique_key // value_count
    pair_value = (unique_key % value_count).astype(np.int64)
    sizes = np.bincount(pair_class, weights=counts, minlength=classes).astype(np.int64)
    if overall is None:
        overall = reference_distribution(pair_value, value_count, counts)
    return ClassSensitive(pair_class, pair_value, counts, sizes, value_count, overall)


def distinct_l(profile: ClassSensitive) -> np.ndarray:
    """Distinct sensitive values per class."""
    return np.bincount(profile.pair_class, minlength=profile.classes)


def entropy_l(profile: ClassSensitive) -> np.ndarray:
    """exp(entropy) per class: the class satisfies entropy l-diversity iff this is >= l."""
    share = profile.pair_count / profile.class_sizes[profile.pair_class]
    entropy = np.bincount(profile.pair_class, weights=-share * np.log(share), minlength=profile.classes)
    return np.exp(entropy)


def recursive_l(profile: ClassSensitive, c: float) -> np.ndarray:
    """Largest l per class with r1 < c * (r_l + ... + r_m), r sorted descending (Machanavajjhala et al.)."""
    order = np.lexsort((-profile.pair_count, profile.pair_class))
    counts = profile.pair_count[order].astype(np.float64)
    owner = profile.pair_class[order]
    starts = np.searchsorted(owner, np.arange(profile.classes))
    # tail sum from each rank to the end of its class = class total - sum of strictly earlier ranks
    cumulative = np.cumsum(counts)
    before_class = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
    earlier = cumulative - counts - before_class[owner]
    tail = profile.class_sizes[owner] - earlier
    largest = counts[starts[owner]]
    satisfied = c * tail > largest
    return np.bincount(owner, weights=satisfied, minlength=profile.classes).astype(np.int64)


def equal_distance(profile: ClassSensitive) -> np.ndarray:
    """Variational distance between each class's distribution and the overall one (categorical t-closeness)."""
    share = profile.pair_count / profile.class_sizes[profile.pair_class]
    reference = profile.overall[profile.pair_value]
    present = np.bincount(profile.pair_class, weights=np.abs(share - reference) - reference, minlength=profile.classes)
    return np.maximum(0.5 * (present + 1.0), 0.0)  # rounding can leave -1e-16 for an exact match


def ordered_distance(profile: ClassSensitive) -> np.ndarray:
    """Earth mover's distance with ordered ground distance |i-j|/(m-1) (numeric/ordinal t-closeness)."""
    m = profile.value_count
    if m <= 1:
        return np.zeros(profile.classes)
    result = np.empty(profile.classes)
    reference_cumulative = np.cumsum(profile.overall)
    block = max(1, _DENSE_CELLS // m)
    for start in range(0, profile.classes, block):
        stop = min(start + block, profile.classes)
        lo, hi = np.searchsorted(profile.pair_class, [start, stop])
        dense = np.zeros((stop - start, m))
        rows = profile.pair_class[lo:hi] - start
        dense[rows, profile.pair_value[lo:hi]] = profile.pair_count[lo:hi]
        dense /= np.maximum(profile.class_sizes[start:stop, None], 1)
        result[start:stop] = np.abs(np.cumsum(dense, axis=1) - reference_cumulative).sum(axis=1) / (m - 1)
    return result


def t_distance(profile: ClassSensitive, ordered: bool) -> np.ndarray:
    """Each class's distance to the reference: ordered EMD for ordered values, else the equal distance."""
    return ordered_distance(profile) if ordered else equal_distance(profile)


@dataclass(frozen=True)
class SensitiveRequirement:
    """What every kept class must satisfy beyond k."""

    l: float | None = None  # noqa: E741
    l_variant: str = "distinct"
    c: float = 3.0
    t: float | None = None
    ordered: bool = False

    @property
    def active(self) -> bool:
        return self.l is not None or self.t is not None

    def class_passes(self, profile: ClassSensitive) -> np.ndarray:
        passes = np.ones(profile.classes, dtype=bool)
        if self.l is not None:
            if self.l_variant == "distinct":
                passes &= distinct_l(profile) >= self.l
            elif self.l_variant == "entropy":
                passes &= entropy_l(profile) >= self.l * (1 - 1e-12)
            else:
                passes &= recursive_l(profile, self.c) >= self.l
        if self.t is not None:
            passes &= t_distance(profile, self.ordered) <= self.t + 1e-12
        return passes
