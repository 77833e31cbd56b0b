"""Releasing a planned query from its exact statistics: charge the budget, then draw the planned noise once.

Nothing here refuses or reads rows: the plan fixed every noise scale, the statistics hold exact integers, so what
follows the charge cannot fail on the data, and every engine that computes the same statistics gets the same answer
from the same random source.
"""

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from janedoe.dp_noise.accountant import PrivacyCost
from janedoe.dp_noise.answers import GroupAnswer, QueryAnswer
from janedoe.dp_noise.fp_safe_mechanisms import NoisePlan, NoisyRelease, laplace_half_width
from janedoe.dp_noise.query_plan import QueryPlan
from janedoe.dp_noise.query_statistics import QueryStatistics
from janedoe.dp_noise.row_features import centre, quantile_candidates
from janedoe.dp_noise.samplers import discrete_laplace
from janedoe.dp_noise.selection import exponential_mechanism


def _python(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _planned(noise: NoisePlan | None) -> NoisePlan:
    assert noise is not None  # the plan made the noise of every part its aggregate releases
    return noise


def _intervals(release: NoisyRelease) -> list:
    half = release.half_width(0.95)
    return [(float(v - half), float(v + half)) for v in release.values]


def release_query(plan: QueryPlan, statistics: QueryStatistics, *, rng=None,
                  charge: Callable[[PrivacyCost, str], object] | None = None) -> QueryAnswer:
    """The answer: `charge(cost, mechanism)` first (if it raises, nothing is drawn or released), then the noise."""
    if charge is not None:
        charge(plan.cost, plan.mechanism)
    # -- from here on, noise on exact statistics; nothing below refuses --
    keys = statistics.keys
    notes = []
    selected = np.ones(len(keys), dtype=bool)
    if plan.unknown_keys:
        assert plan.selection is not None  # planned for every query whose keys come from the data
        threshold, selection_scale = plan.selection
        selection_noisy = statistics.rows + discrete_laplace(selection_scale, len(keys), rng)
        selected = selection_noisy >= threshold
        notes.append(f"keys released only when their noisy count reaches {threshold} (delta = {plan.budget.delta:g})")
    if plan.aggregate is None:  # unknown keys, count: the selection's noisy counts are the answer
        values = selection_noisy.astype(np.int64)
        half = laplace_half_width(selection_scale)
        intervals = [(float(v - half), float(v + half)) for v in values]
        noise = [{"distribution": "laplace", "scale": float(selection_scale), "granularity": 1.0}]
    else:
        values, intervals, noise = _aggregate(plan, statistics, rng, notes)
    common: dict[str, Any] = {"query": plan.label, "mechanism": plan.mechanism, "cost": plan.cost, "noise": noise,
                              "rows_per_user": plan.rows_per_user, "notes": notes}
    if plan.by is None:
        return QueryAnswer(value=_python(values[0]), ci_95=intervals[0], **common)
    groups = [
        GroupAnswer(_python(keys[i]), _python(values[i]), intervals[i]) for i in np.flatnonzero(selected).tolist()
    ]
    return QueryAnswer(groups=groups, **common)


def _aggregate(plan: QueryPlan, statistics: QueryStatistics, rng, notes):
    """(values per group, 95% intervals per group, noise descriptions), from exact sums and the planned noise."""
    aggregate, query = plan.aggregate, plan.query
    assert aggregate is not None  # release_query answers the plan without one from the selection
    if query.aggregate == "count":
        release = _planned(aggregate.count).draw_exact(statistics.rows, 0, rng)
        return release.values, _intervals(release), [release.describe()]
    assert plan.bounds is not None and query.column is not None  # every aggregate but a count has both
    low, high = plan.bounds
    if query.aggregate == "quantile":
        return _quantiles(plan, statistics, rng, notes)
    if query.aggregate == "sum":
        release = _planned(aggregate.total).draw_exact(statistics.sums, aggregate.exponent, rng)
        return release.values, _intervals(release), [release.describe()]
    middle, half_range = centre(plan.bounds, query.column)
    groups = len(statistics.keys)
    level = 1 - 0.05 / plan.budget.parts  # union bound: every part inside its interval with probability >= 95%
    count_release = _planned(aggregate.count).draw_exact(statistics.present, 0, rng)
    sum_release = _planned(aggregate.total).draw_exact(statistics.sums, aggregate.exponent, rng)
    noisy_count = np.maximum(count_release.values.astype(np.float64), 1.0)
    count_low = count_release.values - count_release.half_width(level)
    count_high = count_release.values + count_release.half_width(level)
    sum_low = sum_release.values - sum_release.half_width(level)
    sum_high = sum_release.values + sum_release.half_width(level)
    means = np.clip(sum_release.values / noisy_count, -half_range, half_range)
    noise = [count_release.describe(), sum_release.describe()]
    intervals: list[tuple[float, float]] = []
    if query.aggregate == "mean":
        for i in range(groups):
            if count_low[i] < 1:
                intervals.append((low, high))
                continue
            corners = [s / c for s in (sum_low[i], sum_high[i]) for c in (count_low[i], count_high[i])]
            lo = float(np.clip(min(corners), -half_range, half_range) + middle)
            hi = float(np.clip(max(corners), -half_range, half_range) + middle)
            intervals.append((lo, hi))
        return means + middle, intervals, noise
    cap = half_range * half_range
    square_release = _planned(aggregate.squares).draw_exact(statistics.squares, aggregate.square_exponent, rng)
    noise.append(square_release.describe())
    square_low = square_release.values - square_release.half_width(level)
    square_high = square_release.values + square_release.half_width(level)
    variances = np.clip(square_release.values / noisy_count - means * means, 0.0, cap)
    for i in range(groups):
        if count_low[i] < 1:
            intervals.append((0.0, cap))
            continue
        second = [q / c for q in (square_low[i], square_high[i]) for c in (count_low[i], count_high[i])]
        first = [s / c for s in (sum_low[i], sum_high[i]) for c in (count_low[i], count_high[i])]
        first_sq_high = max(f * f for f in first)
        first_sq_low = 0.0 if min(first) <= 0 <= max(first) else min(f * f for f in first)
        lo = float(np.clip(min(second) - first_sq_high, 0.0, cap))
        hi = float(np.clip(max(second) - first_sq_low, 0.0, cap))
        intervals.append((lo, hi))
    return variances, intervals, noise


def _quantiles(plan: QueryPlan, statistics: QueryStatistics, rng, notes):
    """One exponential mechanism per group over the candidates, scored by |rank - q n| from the candidate counts."""
    assert plan.bounds is not None and plan.aggregate is not None and statistics.histogram is not None  # planned
    low, high = plan.bounds
    candidates = quantile_candidates(low, high, plan.aggregate.integer_typed)
    epsilon, r, q = plan.aggregate.quantile_epsilon, plan.aggregate.rows_per_user, plan.query.q
    group_of, bucket, counts = statistics.histogram
    starts = np.searchsorted(group_of, np.arange(len(statistics.keys) + 1))
    results: list[float] = []
    intervals: list[None] = []
    for g in range(len(statistics.keys)):
        per_candidate = np.bincount(bucket[starts[g] : starts[g + 1]], weights=counts[starts[g] : starts[g + 1]],
                                    minlength=candidates.size)
        ranks = np.cumsum(per_candidate.astype(np.int64))  # rows at or below each candidate
        scores = -np.abs(ranks - q * statistics.present[g])
        results.append(float(candidates[exponential_mechanism(scores, epsilon, r, rng)]))
        intervals.append(None)
    rank_error = 2 * r / epsilon * math.log(candidates.size / 0.05)
    notes.append(
        f"with probability >= 95% the answer's rank is within {rank_error:.1f} rows of the requested rank "
        f"({candidates.size} candidates between the bounds); no value interval is released without more budget"
    )
    noise = [
        {"distribution": "exponential mechanism", "epsilon": epsilon, "sensitivity": r, "rank_error_95": rank_error}
    ]
    return np.array(results), intervals, noise
