"""Spark benchmark: janedoe-spark on local[1] and local[2] against one janedoe process and against Spark's own
scan-and-write of the same data (the engine's floor), for masking, a DP grouped sum, a k-anonymity measurement and
MST's marginals, with the peak memory of the JVM (driver and executors share it in local mode) and of the Python side.

Run: .venv/bin/python bench/bench_spark.py [--quick] [--rows 1000000,10000000]; writes bench/results/spark.md.
Inputs are generated once (vectorized) into .bench-cache/spark/ as Parquet; every job runs in its own process
(bench/spark_job.py) so each gets a fresh JVM and its memory is its own.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench-cache" / "spark"
RESULTS = ROOT / "bench" / "results" / "spark.md"
JOBS = ["floor", "mask", "dp_sum", "kanon", "mst"]
REGIONS = ["north", "south", "east", "west", "centre", "coast", "hills", "islands"]
CHUNK = 1_000_000
ROW_GROUP = 131_072  # Spark splits a file at row groups (16 MB splits): several tasks per file

sys.path.insert(0, str(ROOT / "bench"))
from bench_masking import machine  # noqa: E402


def generate(rows: int) -> Path:
    path = CACHE / f"people-{rows}-rg{ROW_GROUP}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(rows)
    names = pa.array([f"{first} {last}" for first in ("Ana", "Ben", "Chloe", "Dev", "Eli", "Fay", "Gus", "Hana")
                      for last in ("Ito", "Jones", "Kim", "Lee", "Moreau", "Nagy", "Ortiz", "Park")])
    schema = None
    temporary = path.with_suffix(".tmp")
    with pq.ParquetWriter(temporary, pa.schema([
        ("id", pa.int64()), ("person", pa.int64()), ("name", pa.string()), ("email", pa.string()),
        ("age", pa.int64()), ("zip", pa.string()), ("sex", pa.string()), ("region", pa.string()),
        ("salary", pa.float64())])) as writer:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            ids = np.arange(start, start + n)
            persons = rng.integers(0, max(rows // 4, 1), n)
            batch = pa.record_batch({
                "id": pa.array(ids),
                "person": pa.array(persons),
                "name": names.take(pa.array(rng.integers(0, len(names), n))),
                "email": pc.binary_join_element_wise("u", pc.cast(pa.array(persons), pa.string()), "@mail.test", ""),
                "age": pa.array(rng.integers(18, 90, n)),
                "zip": pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 99_999, n)), pa.string()), 5, "0"),
                "sex": pa.array(np.where(rng.random(n) < 0.5, "F", "M")),
                "region": pa.array(REGIONS).take(pa.array(rng.integers(0, len(REGIONS), n))),
                "salary": pa.array(np.round(rng.lognormal(10.5, 0.5, n), 2)),
            })
            schema = schema or batch.schema
            writer.write_batch(batch, row_group_size=ROW_GROUP)
    temporary.rename(path)
    return path


def _tree_memory(pid: int) -> tuple[int, int]:
    """(JVM RSS, Python RSS) in bytes over PID and its descendants."""
    jvm = python = 0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    pending = [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
            name = status.split("\n", 1)[0].split()[-1]
            rss = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            continue
        if name == "java":
            jvm += rss
        else:
            python += rss
    return jvm, python


def run_job(engine: str, job: str, source: Path, workdir: Path) -> dict:
    shutil.rmtree(workdir, ignore_errors=True)
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "spark_job.py"), engine, job, str(source),
                                str(workdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak_jvm = peak_python = 0
    while process.poll() is None:
        jvm, python = _tree_memory(process.pid)
        peak_jvm, peak_python = max(peak_jvm, jvm), max(peak_python, python)
        time.sleep(0.2)
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"{engine} {job} failed: {err.strip().splitlines()[-1] if err.strip() else '?'}")
    result = json.loads(out.strip().splitlines()[-1])
    shutil.rmtree(workdir, ignore_errors=True)
    return {**result, "jvm_mib": peak_jvm / 2**20, "python_mib": peak_python / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", default=None, help="comma-separated sizes (default 1M,10M)")
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--fresh", action="store_true", help="rerun jobs this machine has results for")
    parser.add_argument("--all-jobs-up-to", type=int, default=1_000_000,
                        help="larger inputs run only the floor and masking (the other jobs read a few columns)")
    args = parser.parse_args()
    sizes = [int(x) for x in (args.rows or ("200000" if args.quick else "1000000,10000000")).split(",")]
    jobs = args.jobs.split(",")
    started = time.monotonic()
    done_file = CACHE / "results.json"  # finished runs of this machine, so an interrupted run resumes (--fresh: redo)
    done = {} if args.fresh or not done_file.exists() else json.loads(done_file.read_text())
    results: dict[tuple, dict] = {}
    with tempfile.TemporaryDirectory(prefix="janedoe-bench-spark-") as scratch:
        for rows in sizes:
            source = generate(rows)
            for job in jobs if rows <= args.all_jobs_up_to else [j for j in jobs if j in ("floor", "mask")]:
                for engine in ("single", "local[1]", "local[2]"):
                    name = f"{rows} {job} {engine}"
                    print(f"{rows:,} rows, {job}, {engine}", flush=True)
                    if name not in done:
                        done[name] = run_job(engine, job, source, Path(scratch) / "work")
                        done_file.write_text(json.dumps(done, indent=1))
                    results[(rows, job, engine)] = done[name]
                    print(f"  {results[(rows, job, engine)]}", flush=True)
    write_results(results, sizes, jobs, time.monotonic() - started)


def write_results(results: dict, sizes: list[int], jobs: list[str], seconds: float) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        "## spark",
        "",
        f"Command: `.venv/bin/python bench/bench_spark.py --rows {','.join(map(str, sizes))}`  ",
        f"Machine: {machine()}  ",
        f"Date: {now}, whole run {seconds:.0f} s; 1-minute load average {load:.1f} at the end.  ",
        "Each job in its own process; Spark session start-up excluded (paid once per cluster). Input: generated "
        "Parquet (id, person, name, email, age, zip, sex, region, salary; row groups of 131,072 rows, read by Spark "
        "in 16 MB splits). Floor: Spark reading and writing the same "
        "Parquet with no computation (single: pyarrow reading and writing it). Memory: peak RSS of the JVM (driver "
        "and executors share it in local mode) and of the Python processes (driver + workers).",
        "",
        "| rows | job | engine | seconds | rows/s | ratio to the engine's floor | JVM peak MiB | Python peak MiB |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for rows in sizes:
        for job in jobs:
            for engine in ("single", "local[1]", "local[2]"):
                result = results.get((rows, job, engine))
                if result is None:
                    continue
                floor = results.get((rows, "floor", engine))
                ratio = f"{result['seconds'] / floor['seconds']:.2f}" if floor and job in ("mask",) else "-"
                lines.append(f"| {rows:,} | {job} | {engine} | {result['seconds']:.2f} | "
                             f"{rows / result['seconds']:,.0f} | {ratio} | {result['jvm_mib']:.0f} | "
                             f"{result['python_mib']:.0f} |")
    lines += ["", "Scaling, local[1] seconds / local[2] seconds (target: at least 1.7 on 2 cores):", ""]
    for rows in sizes:
        for job in jobs:
            one, two = results.get((rows, job, "local[1]")), results.get((rows, job, "local[2]"))
            if one and two:
                lines.append(f"- {rows:,} rows, {job}: {one['seconds'] / two['seconds']:.2f}")
    largest = max(rows for rows in sizes if (rows, "mask", "local[1]") in results)
    per_core = largest / results[(largest, "mask", "local[1]")]["seconds"]
    core_hours = 1e9 / per_core / 3600
    lines += ["", f"Projection on paper: masking ran at {per_core:,.0f} rows/s on one core (local[1], {largest:,} "
              "rows). "
              f"A billion such rows then cost about {core_hours:.1f} core-hours: about {core_hours * 60 / 64:.0f} "
              "minutes on a 64-core cluster, if storage delivers the bytes (the floor row above is the I/O part) and "
              "the per-core rate holds (tasks are independent: no shuffle except for unique pseudonyms' digests)."]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
