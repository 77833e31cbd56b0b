"""Benchmark: numeric columns in synthetic data, private bins against equal-width bins, on CPS 1988 (28,155 rows).

wage, education and experience are numeric with public bounds [0, 20000], [0, 18], [-4, 63]; ethnicity, smsa, region
and parttime are categorical. Fidelity: mean total variation over all 21 2-way marginals, the numeric columns cut at
the real data's deciles (repeated deciles merged), scored identically for every row of the table. Baseline: every
column sampled independently from its real marginal (with replacement, as many rows as the real table).

    .venv/bin/python bench/bench_synthetic_numeric.py [--seeds 3] [--epsilon 1]
"""

import argparse
import datetime as dt
import itertools
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from janedoe.synthetic import synthesize

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "cps1988.csv.gz"
RESULTS = ROOT / "bench" / "results" / "synthetic_numeric.md"
NUMERIC = ("wage", "education", "experience")
COLUMNS = {
    "wage": {"bounds": [0, 20000]},
    "education": {"bounds": [0, 18]},
    "experience": {"bounds": [-4, 63]},
    "ethnicity": {"categories": ["cauc", "afam"]},
    "smsa": {"categories": ["no", "yes"]},
    "region": {"categories": ["northeast", "midwest", "south", "west"]},
    "parttime": {"categories": ["no", "yes"]},
}


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    return (f"{os.cpu_count()} CPUs (nproc), {model}, {memory_kb / 1024**2:.1f} GiB RAM, "
            f"Python {platform.python_version()}")


def load() -> pa.Table:
    table = pacsv.read_csv(DATA).drop(["rownames"])
    return table.select(list(COLUMNS))


def coder(real: pa.Table):
    """Maps a table to cell codes: deciles of the real numeric columns, the declared categories."""
    edges = {name: np.unique(np.quantile(real.column(name).to_numpy(), np.arange(1, 10) / 10)) for name in NUMERIC}
    sizes = [len(edges[n]) + 1 if n in edges else len(COLUMNS[n]["categories"]) for n in COLUMNS]

    def codes(table: pa.Table) -> np.ndarray:
        out = []
        for name in COLUMNS:
            values = table.column(name).to_numpy(zero_copy_only=False)
            if name in edges:
                out.append(np.searchsorted(edges[name], values, side="right"))
            else:
                out.append(pc.index_in(table.column(name), value_set=pa.array(COLUMNS[name]["categories"]))
                           .to_numpy(zero_copy_only=False))
        return np.column_stack(out).astype(np.int64)

    return codes, sizes


def pair_tv(real: np.ndarray, synthetic: np.ndarray, sizes: list[int], a: int, b: int) -> float:
    cells = sizes[a] * sizes[b]
    p = np.bincount(real[:, a] * sizes[b] + real[:, b], minlength=cells) / len(real)
    q = np.bincount(synthetic[:, a] * sizes[b] + synthetic[:, b], minlength=cells) / len(synthetic)
    return 0.5 * float(np.abs(p - q).sum())


def two_way_tv(real: np.ndarray, synthetic: np.ndarray, sizes: list[int]) -> float:
    return float(np.mean([pair_tv(real, synthetic, sizes, a, b)
                          for a, b in itertools.combinations(range(len(sizes)), 2)]))


# the configurations measured: equal-width bins (today), private bins (the new default), and private bins with MST's
# edges beyond the tree (target_edges.py) asked for the one pair a tree through `wage` cannot hold
CONFIGURATIONS = {
    "uniform": ("equal-width bins (today, `discretize: uniform`)", {"discretize": "uniform"}),
    "private": ("private bins (new default)", {}),
    "private+workload": ("private bins, `workload: [[education, experience]]`",
                         {"workload": [["education", "experience"]]}),
}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(real: pa.Table, codes, sizes, method: str, configuration: str, epsilon: float, seed: int) -> dict:
    section = {"method": method, "epsilon": epsilon, "delta": 1e-9, **CONFIGURATIONS[configuration][1]}
    started, cpu_started = time.perf_counter(), _cpu()
    result = synthesize(real, section, COLUMNS, rows=real.num_rows, seed=seed)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu_started
    names = list(COLUMNS)
    return {"tv": two_way_tv(codes(real), codes(result.table), sizes), "seconds": seconds, "cpu": cpu,
            "education_experience": pair_tv(codes(real), codes(result.table), sizes, names.index("education"),
                                            names.index("experience")),
            "fit": result.fit_seconds, "sample": result.sample_seconds,
            "measurements": sum(r.mechanism == "discrete_gaussian" for r in result.model.noise),
            "wage_mean": float(np.mean(result.table.column("wage").to_numpy()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epsilon", type=float, default=1.0)
    args = parser.parse_args()
    real = load()
    codes, sizes = coder(real)
    real_codes = codes(real)
    rng = np.random.default_rng(0)
    baseline = float(np.mean([two_way_tv(real_codes, np.column_stack(
        [rng.choice(real_codes[:, j], len(real_codes)) for j in range(real_codes.shape[1])]), sizes)
        for _ in range(args.seeds)]))
    floor = float(np.mean([two_way_tv(real_codes, real_codes[rng.integers(0, len(real_codes), len(real_codes))],
                                      sizes) for _ in range(args.seeds)]))
    rows = []
    for method in ("mst", "aim"):
        for discretize in ("uniform", "private", "private+workload")[: 3 if method == "mst" else 2]:
            runs = [run(real, codes, sizes, method, discretize, args.epsilon, seed) for seed in range(args.seeds)]
            rows.append((method, discretize, runs))
            print(method, discretize, [round(r["tv"], 4) for r in runs], [round(r["seconds"], 1) for r in runs],
                  flush=True)
    reference = run(real, codes, sizes, "mst", "private", 1000.0, 0)
    write(args, rows, baseline, floor, float(np.mean(real.column("wage").to_numpy())), reference)
    print(RESULTS.read_text())


def write(args, rows, baseline: float, floor: float, real_wage_mean: float, reference: dict) -> None:
    label = {name: text for name, (text, _) in CONFIGURATIONS.items()}
    lines = [
        "## Synthetic data: numeric columns on CPS 1988 (28,155 rows x 7 columns, 3 numeric)",
        "",
        "- Command: `.venv/bin/python bench/bench_synthetic_numeric.py"
        f" --seeds {args.seeds} --epsilon {args.epsilon:g}`",
        f"- Machine: {machine()}",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}. The machine was shared with other "
        "engineers' work while this ran: timings are noisy (upper bounds).",
        "- Data: bench/data/cps1988.csv.gz (R package AER's CPS1988, via Rdatasets; see bench/data/README.md). "
        "Public bounds: wage [0, 20000], education [0, 18], experience [-4, 63]; categories declared.",
        f"- epsilon = {args.epsilon:g}, delta = 1e-9, {args.seeds} seeds per row (noise from the OS CSPRNG, the seed "
        "fixes the sampling); rows sampled = real rows. Fidelity: mean total variation over the 21 2-way marginals, "
        "numeric columns cut at the real deciles (education's repeated deciles merged: 7 cells).",
        "- Equal-width (default bins): wage 32 bins of 625, education one cell per year (19), experience 64 bins. "
        "Private: wage and experience 16 bins each from a noisy 1024-cell (wage) / 68-value (experience) "
        "histogram paid from 10% of rho; education keeps one cell per year (19 values: no budget, as every "
        "integer range of at most 64 values).",
        "",
        "| method | bins | 2-way TV mean (per seed) | ratio to independent baseline | fit+sample s (CPU s), mean | "
        "noisy measurements | mean wage (real " + f"{real_wage_mean:.0f})" + " |",
        "|---|---|---|---|---|---|---|",
    ]
    times = {}
    for method, discretize, runs in rows:
        tv = float(np.mean([r["tv"] for r in runs]))
        seconds = float(np.mean([r["seconds"] for r in runs]))
        cpu = float(np.mean([r["cpu"] for r in runs]))
        times[method, discretize] = cpu
        per_seed = ", ".join(f"{r['tv']:.4f}" for r in runs)
        measurements = float(np.mean([r["measurements"] for r in runs]))
        wage = float(np.mean([r["wage_mean"] for r in runs]))
        lines.append(f"| {method.upper()} | {label[discretize]} | {tv:.4f} ({per_seed}) | {tv / baseline:.2f}x | "
                     f"{seconds:.2f} ({cpu:.2f}) | {measurements:.1f} | {wage:.0f} |")
    lines += [f"| independent columns (real 1-ways, sampled) | - | {baseline:.4f} | 1.00x | - | - | - |",
              f"| noise floor (bootstrap of real) | - | {floor:.4f} | {floor / baseline:.2f}x | - | - | - |", ""]
    verdicts, pairs = [], {}
    for method, discretize, runs in rows:
        pairs[method, discretize] = float(np.mean([r["education_experience"] for r in runs]))
        if discretize != "uniform":
            tv = float(np.mean([r["tv"] for r in runs]))
            verdicts.append(f"{method.upper()} {label[discretize]} {tv / baseline:.2f}x "
                            f"({'met' if tv <= 0.6 * baseline else 'NOT met'}), time "
                            f"{times[method, discretize] / times[method, 'uniform']:.2f}x today's (CPU)")
    lines.append("Issue target (at most 0.6x the independent baseline; fit+sample within 2x today's): "
                 + "; ".join(verdicts) + ".")
    lines += ["", "MST's model is a tree, and with private bins the tree's hub is `wage` (every numeric column's "
              "strongest relation), so a tree links education and experience (experience is age - education - 6) "
              "only through wage (their 2-way TV was 0.116 with a tree alone). With private bins MST now spends one "
              "more selection round, by the same exponential mechanism as a target's edges, among the pairs of "
              "numeric columns ((m - 1)(m - 2)/2 rounds for m numeric columns: the pairs no tree can hold; "
              "mst.py, numeric_focus), and measures the pair it picks beyond the tree: education-experience's 2-way "
              f"TV is {pairs['mst', 'private']:.3f} with MST's default, {pairs['aim', 'private']:.3f} with AIM. "
              "Naming the pair in `workload:` now adds nothing the default does not. MST with private bins at "
              f"epsilon 1000 (no noise to speak of, 1 seed) is at {reference['tv']:.4f} "
              f"({reference['tv'] / baseline:.2f}x)."]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
