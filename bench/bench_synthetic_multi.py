"""Benchmark: related-table synthesis (customers and their orders) against an independent-parents baseline.

A generated pair: customers (age band, region, segment) and a skewed number of orders each (lognormal, larger for
business segments and middle ages), whose category, amount band and channel depend on the customer. Scored on the
real (unbounded) tables, identically for every row:
- children-per-parent TV: total variation between the distributions of the number of orders per customer (0 included);
- parent-child 2-way TV: mean and max over the 9 (customer attribute, order attribute) pairs of the TV between their
  joint distributions over the joined order rows;
- parent 2-way and child 2-way TV (each table alone), for reference.
"related" is fit_related (one budget, person = customer, max_children bound, context = all three customer columns);
"independent parents" fits each table alone with MST at the same split (children with the same max_children
sensitivity scaling) and hands the synthetic orders to uniformly random synthetic customers; "bootstrap" resamples
real customers with their orders (the noise floor).

    .venv/bin/python bench/bench_synthetic_multi.py [--quick] [--reps N] [--aim]
"""

import argparse
import datetime as dt
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise import epsilon_from_rho_delta, rho_from_epsilon_delta
from janedoe.synthetic import fit_aim, fit_mst, fit_related
from janedoe.synthetic.multi_table import DEFAULT_PARENT_SHARE

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "synthetic_multi.md"
DELTA = 1e-9
AGES = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
REGIONS = ["north", "south", "east", "west", "central"]
SEGMENTS = ["consumer", "student", "small business", "corporate"]
CATEGORIES = ["groceries", "books", "electronics", "office", "furniture", "clothing"]
AMOUNTS = ["<20", "20-50", "50-100", "100-500", "500+"]
CHANNELS = ["web", "store", "phone"]
PARENT_ATTRIBUTES = ["age_band", "region", "segment"]
CHILD_ATTRIBUTES = ["category", "amount_band", "channel"]


def _pick(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per row of a (rows, k) matrix of probabilities."""
    cumulative = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((rng.random(len(probabilities))[:, None] > cumulative).sum(axis=1), probabilities.shape[1] - 1)


def generate(customers: int, mean_orders: float, seed: int) -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    age = rng.choice(6, customers, p=[0.12, 0.22, 0.22, 0.18, 0.15, 0.11])
    region = rng.choice(5, customers, p=[0.25, 0.2, 0.2, 0.2, 0.15])
    segment_by_age = np.array([[0.4, 0.5, 0.08, 0.02], [0.6, 0.1, 0.2, 0.1], [0.55, 0.02, 0.23, 0.2],
                               [0.6, 0.01, 0.2, 0.19], [0.7, 0.0, 0.18, 0.12], [0.9, 0.0, 0.08, 0.02]])
    segment = _pick(rng, segment_by_age[age])
    log_mean = np.array([0.0, -0.5, 0.6, 1.1])[segment] + np.array([-0.3, 0.0, 0.2, 0.2, 0.0, -0.4])[age]
    raw = rng.lognormal(log_mean, 0.8)
    counts = np.floor(raw * mean_orders / raw.mean()).astype(np.int64)
    owner = np.repeat(np.arange(customers), counts)
    category_by_segment = np.array([[0.45, 0.1, 0.1, 0.02, 0.08, 0.25], [0.3, 0.45, 0.1, 0.05, 0.02, 0.08],
                                    [0.05, 0.05, 0.25, 0.45, 0.15, 0.05], [0.02, 0.03, 0.35, 0.3, 0.28, 0.02]])
    category = _pick(rng, category_by_segment[segment[owner]] + 0.3 * (age[owner] >= 4)[:, None]
                     * np.array([0.3, 0.2, 0.0, 0.0, 0.2, 0.0]))
    amount_by_category = np.array([[0.5, 0.35, 0.12, 0.03, 0.0], [0.3, 0.5, 0.15, 0.05, 0.0],
                                   [0.02, 0.1, 0.2, 0.45, 0.23], [0.2, 0.35, 0.25, 0.15, 0.05],
                                   [0.0, 0.05, 0.15, 0.45, 0.35], [0.15, 0.4, 0.3, 0.14, 0.01]])
    amount = _pick(rng, amount_by_category[category] + 0.2 * (segment[owner] == 3)[:, None]
                   * np.array([0.0, 0.0, 0.2, 0.4, 0.4]))
    channel_by_age = np.array([[0.8, 0.15, 0.05], [0.7, 0.25, 0.05], [0.6, 0.3, 0.1], [0.45, 0.4, 0.15],
                               [0.3, 0.5, 0.2], [0.15, 0.55, 0.3]])
    channel = _pick(rng, channel_by_age[age[owner]] + 0.3 * (region[owner] == 4)[:, None] * np.array([0, 1.0, 0]))
    ids = rng.choice(10**9, customers, replace=False).astype(np.int64) + 10**9
    text = lambda names, codes: pa.array(np.array(names, dtype=object)[codes], pa.string())  # noqa: E731
    parents = pa.table({"customer_id": ids, "age_band": text(AGES, age), "region": text(REGIONS, region),
                        "segment": text(SEGMENTS, segment)})
    children = pa.table({"order_id": np.arange(owner.size, dtype=np.int64) + 1, "customer_id": ids[owner],
                         "category": text(CATEGORIES, category), "amount_band": text(AMOUNTS, amount),
                         "channel": text(CHANNELS, channel)})
    return parents, children


PARENT_SPEC = {"age_band": {"categories": AGES}, "region": {"categories": REGIONS},
               "segment": {"categories": SEGMENTS}}
CHILD_SPEC = {"category": {"categories": CATEGORIES}, "amount_band": {"categories": AMOUNTS},
              "channel": {"categories": CHANNELS}}
SPEC = {**PARENT_SPEC, **CHILD_SPEC}


def _codes(table: pa.Table, column: str) -> np.ndarray:
    return pc.index_in(table.column(column), value_set=pa.array(SPEC[column]["categories"])).to_numpy(
        zero_copy_only=False).astype(np.int64)


def _distribution(columns: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    flat = np.ravel_multi_index(tuple(columns), tuple(sizes))
    counts = np.bincount(flat, minlength=int(np.prod(sizes))).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def _tv(p: np.ndarray, q: np.ndarray) -> float:
    return 0.5 * float(np.abs(p - q).sum())


def summary(parents: pa.Table, children: pa.Table) -> dict:
    """What the scores compare: per-parent counts, joined order rows, each table's own columns, as cell codes."""
    position = pc.index_in(children.column("customer_id"), value_set=parents.column("customer_id")).to_numpy(
        zero_copy_only=False)
    counts = np.bincount(position, minlength=parents.num_rows)
    parent_codes = {name: _codes(parents, name) for name in PARENT_ATTRIBUTES}
    child_codes = {name: _codes(children, name) for name in CHILD_ATTRIBUTES}
    joined = {**{name: codes[position] for name, codes in parent_codes.items()}, **child_codes}
    return {"counts": counts, "parent": parent_codes, "child": child_codes, "joined": joined}


def scores(real: dict, synthetic: dict) -> dict:
    top = int(max(real["counts"].max(), synthetic["counts"].max())) + 1
    count_tv = _tv(np.bincount(real["counts"], minlength=top) / real["counts"].size,
                   np.bincount(synthetic["counts"], minlength=top) / synthetic["counts"].size)

    def pair_tv(kind: str, pairs) -> list[float]:
        return [_tv(_distribution([real[kind][a], real[kind][b]], [len(SPEC[a]["categories"]),
                                                                 len(SPEC[b]["categories"])]),
                    _distribution([synthetic[kind][a], synthetic[kind][b]], [len(SPEC[a]["categories"]),
                                                                            len(SPEC[b]["categories"])]))
                for a, b in pairs]

    cross = pair_tv("joined", list(itertools.product(PARENT_ATTRIBUTES, CHILD_ATTRIBUTES)))
    return {"count_tv": count_tv, "cross_mean": float(np.mean(cross)), "cross_max": float(np.max(cross)),
            "parent_tv": float(np.mean(pair_tv("parent", list(itertools.combinations(PARENT_ATTRIBUTES, 2))))),
            "child_tv": float(np.mean(pair_tv("child", list(itertools.combinations(CHILD_ATTRIBUTES, 2))))),
            "parents": synthetic["counts"].size, "children": int(synthetic["counts"].sum())}


def run_related(parents, children, epsilon, max_children, method, seed, parent_share):
    started = time.perf_counter()
    model = fit_related(parents, children, parent_key="customer_id", foreign_key="customer_id",
                        parent_columns=PARENT_SPEC, child_columns=CHILD_SPEC, context=["segment", "age_band", "region"],
                        max_children=max_children, epsilon=epsilon, delta=DELTA, method=method, child_key="order_id",
                        parent_share=parent_share)
    fitted = time.perf_counter()
    synthetic = model.sample(rng=seed)
    sampled = time.perf_counter()
    return synthetic.parents, synthetic.children, fitted - started, sampled - fitted


def run_independent(parents, children, epsilon, max_children, method, seed, parent_share):
    """Each table alone at the same split and sensitivities; orders to uniformly random customers."""
    rng = np.random.default_rng(seed)
    rho = rho_from_epsilon_delta(epsilon, DELTA)
    fit = fit_aim if method == "aim" else fit_mst
    started = time.perf_counter()
    # the same bound on each person's orders as fit_related (the baseline's child counts have the same sensitivity)
    bounded = children.filter(pa.array(_first_per_owner(children.column("customer_id").to_numpy(), max_children)))
    parent_model = fit(parents.select(PARENT_ATTRIBUTES), PARENT_SPEC, delta=DELTA,
                       epsilon=epsilon_from_rho_delta(parent_share * rho, DELTA))
    child_model = fit(bounded.select(CHILD_ATTRIBUTES), CHILD_SPEC, delta=DELTA,
                      epsilon=epsilon_from_rho_delta((1 - parent_share) * rho / max_children**2, DELTA))
    fitted = time.perf_counter()
    synthetic_parents = parent_model.sample(rng=rng)
    synthetic_children = child_model.sample(rng=rng)
    keys = np.arange(1, synthetic_parents.num_rows + 1, dtype=np.int64)
    synthetic_parents = synthetic_parents.add_column(0, "customer_id", pa.array(keys))
    owners = rng.integers(1, synthetic_parents.num_rows + 1, synthetic_children.num_rows)
    synthetic_children = synthetic_children.add_column(0, "customer_id", pa.array(owners))
    sampled = time.perf_counter()
    return synthetic_parents, synthetic_children, fitted - started, sampled - fitted


def _first_per_owner(owners: np.ndarray, limit: int) -> np.ndarray:
    order = np.argsort(owners, kind="stable")
    sorted_owners = owners[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_owners)) + 1]
    rank = np.arange(owners.size) - np.repeat(starts, np.diff(np.r_[starts, owners.size]))
    keep = np.empty(owners.size, dtype=bool)
    keep[order] = rank < limit
    return keep


def bootstrap(parents, children, seed):
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, parents.num_rows, parents.num_rows)
    position = pc.index_in(children.column("customer_id"), value_set=parents.column("customer_id")).to_numpy(
        zero_copy_only=False)
    order = np.argsort(position, kind="stable")
    starts = np.searchsorted(position[order], np.arange(parents.num_rows))
    counts = np.bincount(position, minlength=parents.num_rows)
    new_key = np.repeat(np.arange(1, picked.size + 1), counts[picked])
    rows = order[np.repeat(starts[picked], counts[picked]) + (np.arange(new_key.size) - np.repeat(
        np.cumsum(counts[picked]) - counts[picked], counts[picked]))]
    sampled_parents = parents.take(pa.array(picked)).set_column(0, "customer_id", pa.array(
        np.arange(1, picked.size + 1, dtype=np.int64)))
    sampled_children = children.take(pa.array(rows)).set_column(1, "customer_id", pa.array(new_key))
    return sampled_parents, sampled_children


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    return (f"{os.cpu_count()} CPUs (nproc), {model}, {memory_kb / 1024**2:.1f} GiB RAM, "
            f"Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5k customers / ~50k orders instead of 50k / ~500k")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--max-children", type=int, nargs="+", default=[60])
    parser.add_argument("--parent-share", type=float, default=DEFAULT_PARENT_SHARE)
    parser.add_argument("--aim", action="store_true", help="also AIM (related and independent)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    customers = 5_000 if args.quick else 50_000
    parents, children = generate(customers, 10.5, seed=2026)
    real = summary(parents, children)
    sections = []
    for max_children in args.max_children:
        rows = []
        for method in ["mst", *(["aim"] if args.aim else [])]:
            for label, related in ((f"related ({method.upper()})", True),
                                   (f"independent parents ({method.upper()})", False)):
                results = []
                for rep in range(args.reps):
                    run = run_related if related else run_independent
                    out = run(parents, children, args.epsilon, max_children, method, seed=rep,
                              parent_share=args.parent_share)
                    result = scores(real, summary(out[0], out[1]))
                    result.update(fit=out[2], sample=out[3])
                    results.append(result)
                    print(max_children, label, rep, {key: round(value, 4) for key, value in result.items()},
                          flush=True)
                rows.append((label, results))
        clipped = int(np.maximum(real["counts"] - max_children, 0).sum())
        sections.append((max_children, clipped, rows))
    floor = [scores(real, summary(*bootstrap(parents, children, seed=rep))) for rep in range(args.reps)]
    write(args, parents, children, real, sections, floor)


def write(args, parents, children, real, sections, floor) -> None:
    mean = lambda results, key: float(np.mean([r[key] for r in results]))  # noqa: E731
    counts = real["counts"]
    bounds = " ".join(str(k) for k in args.max_children)
    lines = [
        f"## Related-table synthesis: customers and orders ({parents.num_rows:,} / {children.num_rows:,} rows)",
        "",
        f"- Command: `.venv/bin/python bench/bench_synthetic_multi.py{' --quick' if args.quick else ''}"
        f"{' --aim' if args.aim else ''} --reps {args.reps} --max-children {bounds} "
        f"--parent-share {args.parent_share:g}`",
        f"- Machine: {machine()}",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. The machine was shared with other engineers' work "
        "while this ran: timings are noisy (upper bounds).",
        f"- Data: orders per customer mean {counts.mean():.1f}, median {np.median(counts):.0f}, 99th percentile "
        f"{np.percentile(counts, 99):.0f}, max {counts.max()}, {np.mean(counts == 0):.1%} without orders.",
        f"- epsilon = {args.epsilon:g}, delta = {DELTA:g}, person = customer; {args.parent_share:g} of the zCDP budget "
        "to the customer fit, the rest to the order fit (whose measurements have sensitivity max_children).",
        "- related: `fit_related`, context = segment, age_band, region; independent parents: the same method on each "
        "table alone at the same split and sensitivity, orders handed to uniformly random synthetic customers.",
        f"- Scores against the real unbounded tables, mean of {args.reps} runs (noise differs each run): "
        "count TV = TV of the orders-per-customer distribution (0 included); parent-child TV = TV of the (customer "
        "attribute, order attribute) joint over the joined orders, mean and max over the 9 pairs; customer / order "
        "2-way TV = mean over each table's own 3 pairs. Fit and sample times are wall seconds.",
    ]
    header = ("| method | fit s | sample s | customers | orders | count TV | parent-child TV mean | "
              "parent-child TV max | customer 2-way TV | order 2-way TV |")
    for max_children, clipped, rows in sections:
        lines += ["", f"### max_children = {max_children} (clips {clipped:,} of {children.num_rows:,} orders, "
                      f"{clipped / children.num_rows:.1%})", "", header, "|---|---|---|---|---|---|---|---|---|---|"]
        for label, results in [*rows, ("bootstrap of real customers (noise floor)", floor)]:
            timing = f"{mean(results, 'fit'):.2f} | {mean(results, 'sample'):.2f}" if "fit" in results[0] else "- | -"
            lines.append(f"| {label} | {timing} | {mean(results, 'parents'):,.0f} | {mean(results, 'children'):,.0f} "
                         f"| {mean(results, 'count_tv'):.4f} | {mean(results, 'cross_mean'):.4f} | "
                         f"{mean(results, 'cross_max'):.4f} | {mean(results, 'parent_tv'):.4f} | "
                         f"{mean(results, 'child_tv'):.4f} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
