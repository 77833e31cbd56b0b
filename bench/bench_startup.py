"""Start-up of the `janedoe` command: CPU and wall time of whole processes above the interpreter's own start.

Each command runs as a fresh process, best of 5 after one untimed warm-up, next to `python -c pass` measured in the
same run; CPU time is the children's user + system time (resource.getrusage(RUSAGE_CHILDREN)), which a loaded machine
inflates less than wall time. Byte code is cached in a private directory (PYTHONPYCACHEPREFIX), as an installed
wheel's would be, so no run pays for compiling sources.

    .venv/bin/python bench/bench_startup.py
"""

import datetime
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "startup.md"
JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
RUNS = 5
SMALL_ROWS = 200

# (label, arguments, CPU target above the interpreter's start in seconds, or None)
COMMANDS = [
    ("janedoe --help", ["--help"], 0.35),
    ("janedoe --version", ["--version"], None),
    ("janedoe dp budget --ledger new.db", ["dp", "budget", "--ledger", "{new_ledger}"], 0.35),
    ("janedoe policy check POLICY", ["policy", "check", "{policy}"], None),
    (f"janedoe policy check POLICY INPUT ({SMALL_ROWS} rows)", ["policy", "check", "{policy}", "{input}"], 0.6),
]

# What the commands cannot go below while they use these libraries: each imported alone, in its own process.
FLOORS = [
    ("typer (the CLI framework)", "import typer"),
    ("pydantic (typer converts every parameter with it)", "import pydantic"),
    ("sqlalchemy (the ledger)", "import sqlalchemy"),
    ("numpy + pyarrow (tables)", "import numpy, pyarrow"),
    ("janedoe.policy (pydantic models of the policy file)",
     "from janedoe.tabular import keep_pandas_out; keep_pandas_out(); import janedoe.policy"),
]


def timed(command: list[str], env: dict, cwd: Path, before_each=None) -> tuple[float, float]:
    """Best (CPU, wall) seconds of RUNS runs of a whole process, after one untimed warm-up."""
    best_cpu = best_wall = float("inf")
    for run in range(RUNS + 1):
        if before_each:
            before_each()
        start = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
        wall = time.perf_counter() - started
        end = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        if run:
            cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
            best_cpu, best_wall = min(best_cpu, cpu), min(best_wall, wall)
    return best_cpu, best_wall


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} cores ({model}), {memory_kb / 2**20:.0f} GiB RAM, "
            f"Python {platform.python_version()}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="janedoe-startup-") as scratch:
        work = Path(scratch)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        lines = (ROOT / "data" / "demo" / "customers.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        (work / "customers.csv").write_text("".join(lines[: SMALL_ROWS + 1]), encoding="utf-8")
        places = {"policy": str(ROOT / "data" / "demo" / "policy.yaml"), "input": str(work / "customers.csv"),
                  "new_ledger": str(work / "new.db")}

        def fresh_ledger():
            (work / "new.db").unlink(missing_ok=True)

        load_start = os.getloadavg()
        started = datetime.datetime.now(datetime.UTC)
        base_cpu, base_wall = timed([sys.executable, "-c", "pass"], env, work)
        rows = []
        for label, arguments, target in COMMANDS:
            command = [JANEDOE, *(argument.format(**places) for argument in arguments)]
            cpu, wall = timed(command, env, work, fresh_ledger)
            met = "-" if target is None else ("met" if cpu - base_cpu <= target else "NOT met")
            rows.append(f"| `{label}` | {cpu - base_cpu:.3f} | {wall - base_wall:.3f} | "
                        f"{'-' if target is None else f'{target:.2f}'} | {met} |")
        floors = []
        for label, code in FLOORS:
            cpu, wall = timed([sys.executable, "-c", code], env, work)
            floors.append(f"| {label} | `{code.split('; ')[-1]}` | {cpu - base_cpu:.3f} |")
        load_end = os.getloadavg()

    text = "\n".join([
        "## Start-up (janedoe command)",
        "",
        f"Command: `.venv/bin/python bench/bench_startup.py`; {started:%Y-%m-%d %H:%M} UTC. Machine: {machine()}; "
        f"load average (1, 5, 15 min) {load_start[0]:.1f}, {load_start[1]:.1f}, {load_start[2]:.1f} at start and "
        f"{load_end[0]:.1f}, {load_end[1]:.1f}, {load_end[2]:.1f} at end (shared machine: wall times are inflated "
        "by other processes more than CPU times).",
        "",
        f"Whole processes, best of {RUNS} after a warm-up, minus `python -c pass` measured in the same run "
        f"({base_cpu:.3f} s CPU, {base_wall:.3f} s wall). CPU is user + system time of the process. Byte code cached "
        "as for an installed wheel. `policy check` reads the demo policy and the first "
        f"{SMALL_ROWS} rows of data/demo/customers.csv; `dp budget` opens a new SQLite ledger each run.",
        "",
        "| command | CPU s above start | wall s above start | CPU target | target |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
        "Floors: libraries imported alone (same method), which the commands above import.",
        "",
        "| library | import | CPU s above start |",
        "|---|---|---:|",
        *floors,
        "",
    ])
    RESULTS.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
