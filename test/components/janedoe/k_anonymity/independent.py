"""Plain-Python reference implementations (dicts and Counters, no numpy) that the tests check the brick against."""

import itertools
import math
from collections import Counter, defaultdict


def classes(rows: list[tuple]) -> Counter:
    return Counter(rows)


def k_of(rows: list[tuple]) -> int:
    return min(Counter(rows).values())


def sensitive_by_class(rows: list[tuple], sensitive: list) -> dict:
    grouped = defaultdict(list)
    for row, value in zip(rows, sensitive, strict=True):
        grouped[row].append(value)
    return grouped


def distinct_l(rows, sensitive) -> int:
    return min(len(set(values)) for values in sensitive_by_class(rows, sensitive).values())


def entropy_l(rows, sensitive) -> float:
    result = math.inf
    for values in sensitive_by_class(rows, sensitive).values():
        counts = Counter(values)
        entropy = -sum(c / len(values) * math.log(c / len(values)) for c in counts.values())
        result = min(result, math.exp(entropy))
    return result


def recursive_l(rows, sensitive, c) -> int:
    result = math.inf
    for values in sensitive_by_class(rows, sensitive).values():
        counts = sorted(Counter(values).values(), reverse=True)
        largest_l = 0
        for candidate in range(1, len(counts) + 1):
            if counts[0] < c * sum(counts[candidate - 1 :]):
                largest_l = candidate
        result = min(result, largest_l)
    return result


def equal_t(rows, sensitive, reference=None) -> float:
    """Worst class's variational distance to the distribution of `reference` (default: `sensitive` itself)."""
    reference = sensitive if reference is None else reference
    overall = Counter(reference)
    n = len(reference)
    worst = 0.0
    for values in sensitive_by_class(rows, sensitive).values():
        counts = Counter(values)
        distance = 0.5 * sum(abs(counts.get(v, 0) / len(values) - overall[v] / n) for v in overall)
        worst = max(worst, distance)
    return worst


def ordered_t(rows, sensitive, reference=None) -> float:
    """Worst class's ordered EMD to the distribution of `reference` (default: `sensitive`), over its sorted values."""
    reference = sensitive if reference is None else reference
    domain = sorted(set(reference))
    n = len(reference)
    overall = Counter(reference)
    worst = 0.0
    for values in sensitive_by_class(rows, sensitive).values():
        counts = Counter(values)
        running, total = 0.0, 0.0
        for value in domain:
            running += counts.get(value, 0) / len(values) - overall[value] / n
            total += abs(running)
        worst = max(worst, total / (len(domain) - 1) if len(domain) > 1 else 0.0)
    return worst


def with_row_ids(table, column="row"):
    """The table plus a column numbering its rows: ground truth to put a shuffled output back in input order."""
    return table.append_column(column, [list(range(table.num_rows))])


def in_input_order(table, column="row"):
    ids = table.column(column).to_pylist()
    return table.take(sorted(range(len(ids)), key=ids.__getitem__))


def brute_force_optimum(records, hierarchies, k, max_suppressed, metric, sensitive=None, l=None):  # noqa: E741
    """Every node of the lattice evaluated the textbook way; returns {node: metric} for anonymous nodes.

    records: list of tuples of text values; hierarchies: per attribute a list of rows (leaf, level1, ..., top).
    Identical (record, sensitive value) pairs are counted once with their multiplicity, to keep it quick.
    """
    m = len(hierarchies)
    n = len(records)
    values = sensitive if sensitive is not None else [None] * n
    weighted = Counter(zip(records, values, strict=True))
    maps = [[{row[0]: row[level] for row in rows} for level in range(len(rows[0]))] for rows in hierarchies]
    leaf_counts = [[Counter(row[level] for row in rows) for level in range(len(rows[0]))] for rows in hierarchies]
    value_counts = [Counter() for _ in range(m)]
    for (record, _), count in weighted.items():
        for a in range(m):
            value_counts[a][record[a]] += count
    results = {}
    for node in itertools.product(*[range(len(rows[0])) for rows in hierarchies]):
        generalized = {key: tuple(maps[a][node[a]][key[0][a]] for a in range(m)) for key in weighted}
        sizes = Counter()
        diversity = defaultdict(set)
        for key, count in weighted.items():
            sizes[generalized[key]] += count
            diversity[generalized[key]].add(key[1])
        failing = {cls for cls, size in sizes.items() if size < k}
        if l is not None:
            failing |= {cls for cls, seen in diversity.items() if len(seen) < l}
        suppressed = sum(size for cls, size in sizes.items() if cls in failing)
        if suppressed > max_suppressed:
            continue
        if metric == "loss":
            total = 0.0
            for key, count in weighted.items():
                g = generalized[key]
                for a in range(m):
                    if g in failing:
                        total += count
                    else:
                        total += count * (leaf_counts[a][node[a]][g[a]] - 1) / max(len(hierarchies[a]) - 1, 1)
            results[node] = total / (n * m)
        elif metric == "discernibility":
            results[node] = sum(s * s for cls, s in sizes.items() if cls not in failing) + n * suppressed
        elif metric == "entropy":
            generalized_counts = [Counter() for _ in range(m)]
            for key, count in weighted.items():
                for a in range(m):
                    generalized_counts[a][generalized[key][a]] += count
            total = 0.0
            for key, count in weighted.items():
                g = generalized[key]
                for a in range(m):
                    denominator = n if g in failing else generalized_counts[a][g[a]]
                    total += -count * math.log2(value_counts[a][key[0][a]] / denominator)
            results[node] = total
    return results
