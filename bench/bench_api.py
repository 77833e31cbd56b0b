"""Benchmark of the janedoe HTTP API: requests/s and p50/p99 latency through a real server.

Scenarios: the framework floor (`/v1/health`: no key, no database), masked row reads (100 rows, analyst role),
DP count queries on SQLite state and on PostgreSQL state (with an overspend check against the ledger), and masking a
10 MB CSV upload. The load generator runs on the same machine as the server, so both share the cores: it is `wrk`
(installed with apt-get when missing and allowed; C, one thread) or, failing that, an httpx asyncio client, which
itself saturates a core at a few hundred requests/s. The server's CPU time per request is measured from /proc, so the
numbers can be read apart from the (shared) machine's load.

    .venv/bin/python bench/bench_api.py [--quick]
"""

import argparse
import asyncio
import datetime
import glob
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".bench-cache" / "api"
RESULTS = ROOT / "bench" / "results" / "api.md"
SERVER = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
SECRET = "bench-secret-0123456789abcdef"

POLICY = """\
version: 1
default: error
tables:
  customers:
    dp: {epsilon: 1000000.0}
    columns:
      id:     {mask: hash}
      name:   {mask: pseudonymize, kind: name}
      email:  {mask: partial_email}
      ssn:    {mask: partial, prefix: 0, padding: "***-**-", suffix: 4}
      age:    {mask: generalize, step: 10, bounds: [0, 120]}
      city:   {mask: keep}
      salary: {mask: noise, ratio: 0.1}
roles:
  owner: {raw: true}
  analyst: {}
"""


def customers_csv(path: Path, rows: int) -> Path:
    """Personal-looking columns, generated once and cached."""
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    index = np.arange(rows)
    ids = pa.array([f"C{i:08d}" for i in index])
    table = pa.table({
        "id": ids,
        "name": pa.array([f"Person{i} Lastname{i % 977}" for i in index]),
        "email": pa.array([f"user{i}@example{i % 13}.org" for i in index]),
        "ssn": pa.array([f"{a:03d}-{b:02d}-{c:04d}" for a, b, c in zip(
            rng.integers(100, 999, rows), rng.integers(10, 99, rows), rng.integers(1000, 9999, rows), strict=True)]),
        "age": rng.integers(18, 90, rows),
        "city": rng.choice(["Lyon", "Porto", "Graz", "Turku", "Cork", "Bergen"], rows),
        "salary": np.round(rng.normal(50_000, 15_000, rows), 2),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    pacsv.write_csv(table, temp)
    os.replace(temp, path)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, state: str, data_dir: str, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [SERVER, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--state", state,
                "--data-dir", data_dir, "--workers", str(workers), "--rate", "1000000", "--max-body-mb", "64"]
        self.log = open(os.path.join(data_dir, f"server-{self.port}.log"), "wb")
        self.process = subprocess.Popen(argv, env={**os.environ, "JANEDOE_SECRET": SECRET},
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (Debian's binaries), as the test fixture makes one."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
        if not found:
            raise RuntimeError("PostgreSQL binaries not found")
        self.bin = os.path.dirname(found[0])
        self.root = tempfile.mkdtemp(prefix="janedoe-bench-pg-")
        os.chmod(self.root, 0o777)
        self.data = os.path.join(self.root, "data")
        port = free_port()
        self._run([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {self.root} -c fsync=off -c max_connections=200"
        self._run([f"{self.bin}/pg_ctl", "-D", self.data, "-o", options, "-l", f"{self.root}/log", "-w", "start"])
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, argv: list[str]) -> None:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True)

    def stop(self) -> None:
        self._run([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def find_wrk() -> str | None:
    """wrk from PATH, or installed from Debian (root only); None means the httpx fallback is used."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet).returncode != 0:
        subprocess.run(["apt-get", "update"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], **quiet)
    return shutil.which("wrk")


WRK_SCRIPT = """\
wrk.method = "{method}"
wrk.headers["X-API-Key"] = "{key}"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
local paged = {paged}
local n = 0
request = function()
  if not paged then return wrk.format() end
  n = n + 1
  return wrk.format(nil, "{path}?limit=100&offset=" .. ((n * 7919) % 9900))
end
"""


def _milliseconds(output: str, percentile: str) -> float:
    """A latency percentile from wrk's --latency table (NaN when wrk printed none, e.g. no request finished)."""
    found = re.search(rf"^\s+{percentile}%\s+([0-9.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if found is None:
        return float("nan")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[found.group(2)]


def load_wrk(wrk: str, url: str, path: str, *, key: str = "", method: str = "GET", body: str | None = None,
             paged: bool = False, concurrency: int, seconds: float) -> dict:
    """Closed-loop load from wrk: `concurrency` keep-alive connections on one wrk thread."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(method=method, key=key, body="nil" if body is None else repr(body),
                                       paged="true" if paged else "false", path=path))
    try:
        argv = [wrk, "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script.name,
                url + path]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.remove(script.name)
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failed = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0
    errors = re.search(r"Socket errors: (.*)", output)
    statuses = {"2xx": requests - failed} | ({"other": failed} if failed else {}) | (
        {"socket errors": errors.group(1).strip()} if errors else {})
    return {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)),
        "p50_ms": _milliseconds(output, "50"),
        "p99_ms": _milliseconds(output, "99"),
        "statuses": statuses,
        "answered": requests - failed,
        "generator_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
    }


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers), from /proc."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pids += [int(child) for child in children.read().split()]
    except OSError:
        pass
    for each in pids:
        try:
            with open(f"/proc/{each}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


async def load(make_request, *, concurrency: int, seconds: float) -> dict:
    """Closed-loop load: `concurrency` clients each send the next request when the last one is answered."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        stop_at = time.perf_counter() + seconds

        async def worker():
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                try:
                    status = (await make_request(client)).status_code
                except httpx.TransportError as error:
                    status = type(error).__name__
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "statuses": statuses,
        "answered": statuses.get(200, 0),
    }


def setup_state(state: str, data_dir: str) -> tuple[str, str]:
    from janedoe.service_store import StateStore

    store = StateStore.open(state, data_dir=data_dir)
    admin, _ = store.keys.create(role="owner", name="bench-admin", admin=True)
    analyst, _ = store.keys.create(role="analyst", name="bench-analyst")
    store.close()
    return admin, analyst


def register(url: str, admin: str, csv_path: Path) -> str:
    with open(csv_path, "rb") as data:
        response = httpx.post(f"{url}/v1/datasets", headers={"X-API-Key": admin}, timeout=300,
                              files={"file": ("customers.csv", data), "policy": ("policy.yaml", POLICY.encode())})
    response.raise_for_status()
    return response.json()["dataset_id"]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
    load_average = os.getloadavg()
    return (f"{os.cpu_count()} cores ({cpu}), {int(memory) / 1024 / 1024:.0f} GiB RAM, Python "
            f"{platform.python_version()}; load average at start {load_average[0]:.1f} (shared machine)")


def run_http_scenarios(state: str, data_dir: str, label: str, seconds: float, workers: int, rows_csv: Path,
                       wrk: str | None) -> list:
    admin, analyst = setup_state(state, data_dir)
    server = Server(state, data_dir, workers)
    results = []
    try:
        dataset_id = register(server.url, admin, rows_csv)
        headers = {"X-API-Key": analyst}
        offsets = np.random.default_rng(1).integers(0, 9_900, 100_000)
        counter = iter(range(10**9))
        dp_body = f'{{"dataset_id":"{dataset_id}","query":"count","epsilon":0.001}}'

        async def health(client):
            return await client.get(f"{server.url}/v1/health")

        async def rows(client):
            offset = int(offsets[next(counter) % len(offsets)])
            return await client.get(f"{server.url}/v1/datasets/{dataset_id}/rows",
                                    params={"limit": 100, "offset": offset}, headers=headers)

        async def dp_count(client):
            return await client.post(f"{server.url}/v1/dp/query", headers=headers,
                                     json={"dataset_id": dataset_id, "query": "count", "epsilon": 0.001})

        wrk_requests = {
            health: {"path": "/v1/health"},
            rows: {"path": f"/v1/datasets/{dataset_id}/rows", "key": analyst, "paged": True},
            dp_count: {"path": "/v1/dp/query", "key": analyst, "method": "POST", "body": dp_body},
        }
        scenarios = [(f"DP count query ({label} state)", dp_count, 32)]
        if label == "sqlite":
            scenarios = [("framework floor: GET /v1/health", health, 32),
                         *((f"masked rows, 100 per read, {c} connections", rows, c) for c in (8, 16, 32)), *scenarios]
        for name, request, concurrency in scenarios:
            if wrk:
                warm_up = load_wrk(wrk, server.url, **wrk_requests[request], concurrency=8, seconds=2)
                cpu_before = process_tree_cpu_seconds(server.process.pid)
                result = load_wrk(wrk, server.url, **wrk_requests[request], concurrency=concurrency,
                                  seconds=seconds)
            else:
                warm_up = asyncio.run(load(request, concurrency=8, seconds=min(2.0, seconds)))
                cpu_before = process_tree_cpu_seconds(server.process.pid)
                result = asyncio.run(load(request, concurrency=concurrency, seconds=seconds))
            result["server_cpu_ms"] = 1000 * (process_tree_cpu_seconds(server.process.pid) - cpu_before) / max(
                1, result["requests"])
            result["load_average"] = os.getloadavg()[0]
            if request is dp_count:
                time.sleep(1)  # requests in flight when the generator stopped still finish (and spend)
                result["ledger"] = ledger_check(state, dataset_id, "bench-analyst")
                result["answered_in_all"] = warm_up["answered"] + result["answered"]
            results.append((name, result))
    finally:
        server.stop()
    return results


def ledger_check(state: str, dataset_id: str, analyst: str) -> dict:
    from janedoe.ledger import Ledger

    ledger = Ledger.open(state)
    try:
        budget = ledger.budget(dataset_id, analyst)
        spends = ledger.spends(dataset_id, analyst)
    finally:
        ledger.close()
    return {"spent": budget.spent, "total": budget.total, "spends": len(spends),
            "sum_of_spends": sum(spend.charged for spend in spends)}


def mask_upload_scenario(data_dir: str, big_csv: Path, uploads: int) -> dict:
    state = f"sqlite:///{data_dir}/mask-state.db"
    admin, analyst = setup_state(state, data_dir)
    server = Server(state, data_dir, 1)
    latencies = []
    try:
        payload = big_csv.read_bytes()
        with httpx.Client(timeout=300, headers={"X-API-Key": analyst}) as client:
            for _ in range(uploads):
                started = time.perf_counter()
                response = client.post(f"{server.url}/v1/mask", files={"file": ("customers.csv", payload),
                                                                        "policy": ("p.yaml", POLICY.encode())})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)
    finally:
        server.stop()
    latencies.sort()
    megabytes = len(payload) / 1e6
    return {"uploads": uploads, "megabytes": megabytes, "p50_s": latencies[len(latencies) // 2],
            "max_s": latencies[-1], "mb_per_s": megabytes / statistics.median(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else 10.0
    workers = 2
    started = datetime.datetime.now(datetime.UTC)
    header = machine()
    wrk = find_wrk()
    rows_csv = customers_csv(CACHE / "customers-10k.csv", 10_000)
    big_csv = customers_csv(CACHE / "customers-10mb.csv", 125_000)
    results = []
    with tempfile.TemporaryDirectory(prefix="janedoe-bench-api-") as directory:
        sqlite_dir = os.path.join(directory, "sqlite")
        os.makedirs(sqlite_dir)
        results += run_http_scenarios(f"sqlite:///{sqlite_dir}/state.db", sqlite_dir, "sqlite", seconds, workers,
                                      rows_csv, wrk)
        postgres = None
        try:
            postgres = Postgres()
            pg_dir = os.path.join(directory, "pg")
            os.makedirs(pg_dir)
            results += run_http_scenarios(postgres.url, pg_dir, "PostgreSQL", seconds, workers, rows_csv, wrk)
        except RuntimeError as error:
            results.append(("DP count query (PostgreSQL state)", {"error": str(error)}))
        finally:
            if postgres is not None:
                postgres.stop()
        mask = mask_upload_scenario(directory, big_csv, 2 if args.quick else 5)
    write_results(header, started, args, workers, seconds, results, mask, wrk)
    print(RESULTS.read_text())


def write_results(header, started, args, workers, seconds, results, mask, wrk) -> None:
    floor = next((r for name, r in results if name.startswith("framework floor")), None)
    generator = ("wrk (one thread, Lua script for the key, the body and the row offsets)" if wrk else
                 "httpx asyncio (wrk could not be installed; this client caps far below the server)")
    lines = [
        "## API (janedoe-api)",
        "",
        f"Command: `.venv/bin/python bench/bench_api.py{' --quick' if args.quick else ''}`; "
        f"{started:%Y-%m-%d %H:%M} UTC. Machine: {header}.",
        f"Server: `janedoe-api serve --workers {workers}` (uvicorn with uvloop and httptools when installed). "
        f"Load generator: {generator}, 32 concurrent keep-alive connections (masked rows also at 8 and 16: fewer "
        f"requests in flight, shorter queues, lower tail latency), {seconds:g} s per scenario after a 2 s "
        "warm-up, on the same 2 cores as the server. No peer HTTP anonymization service installs here; the peer "
        "floor is this server's own `/v1/health` (FastAPI + uvicorn, no key check, no database), measured in the same "
        "run. `server CPU ms/req` is the server processes' CPU time divided by requests (from /proc): 2 idle cores "
        "could serve at most about 2000 / that many requests/s, less what the load generator takes.",
        "",
        "| scenario | requests | requests/s | p50 ms | p99 ms | server CPU ms/req | load avg (1 min) at end "
        "| vs floor | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, result in results:
        if "error" in result:
            lines.append(f"| {name} | not run: {result['error']} | | | | | | | |")
            continue
        ratio = f"{result['rps'] / floor['rps']:.2f}x" if floor else "n/a"
        lines.append(f"| {name} | {result['requests']} | {result['rps']:,.0f} | {result['p50_ms']:.1f} | "
                     f"{result['p99_ms']:.1f} | {result['server_cpu_ms']:.2f} | {result['load_average']:.1f} | "
                     f"{ratio} | {result['statuses']} |")
    lines += ["", "Ledger after each DP run (budget epsilon 1,000,000, cost 0.001 per query):", ""]
    for name, result in results:
        if "ledger" in result:
            ledger = result["ledger"]
            answered = result["answered_in_all"]
            # The generator stops with up to 32 (+8 warm-up) requests in flight: the server finishes and charges them.
            charged_once = abs(ledger["spent"] - ledger["sum_of_spends"]) < 1e-6 and abs(
                ledger["spent"] - ledger["spends"] * 0.001) < 1e-6
            covered = answered <= ledger["spends"] <= answered + 40
            verdict = ("no overspend: every spend recorded once, every answer charged" if charged_once and covered
                       else "MISMATCH")
            lines.append(f"- {name}: {answered} answers received (warm-up included), {ledger['spends']} spends "
                         f"recorded (the difference: requests in flight when the generator stopped), spent "
                         f"{ledger['spent']:.3f} = sum of spends {ledger['sum_of_spends']:.3f}: {verdict}")
    rows_results = [r for name, r in results if name.startswith("masked rows") and "rps" in r]
    pg_result = next((r for name, r in results if "PostgreSQL" in name and "rps" in r), None)
    if rows_results and floor:
        met_rows = any(r["rps"] >= 1000 and r["p99_ms"] <= 50 for r in rows_results)
        met_pg = pg_result is not None and pg_result["rps"] >= 300
        lines += ["", f"Targets in this run: masked rows {'met' if met_rows else 'NOT met'}, DP on PostgreSQL "
                  f"{'met' if met_pg else 'NOT met'}; the framework floor reached {floor['rps']:,.0f} requests/s."]
    lines += [
        "",
        "What bounds each path: a masked read is served from per-process caches (the dataset's table, the role's "
        "masker, masked and JSON-encoded chunks of 4,096 rows, dataset records for 2 s) and costs the key check "
        "(cached for 5 s), one audit INSERT shared by concurrent requests (group commit, stored before the rows are "
        "sent) and a string join. A DP query keeps its guarantee: the spend is one durable transaction under the "
        "budget's lock before any noise is drawn, and the budget shown in the answer is the row as that spend left "
        "it (returned by the same statement, no second read). "
        "Every query here is one analyst's, so all spends serialize on one lock: SQLite's database write lock held "
        "through an fsync'd commit, or PostgreSQL's budget row lock, held only inside one autocommit statement (a "
        "conditional UPDATE whose WHERE is the budget check, and the spend's INSERT, in one CTE; this bench's cluster "
        "runs with fsync=off). What remains per query is mostly CPU (see server CPU ms/req).",
    ]
    lines += [
        "",
        f"Masking a {mask['megabytes']:.1f} MB CSV upload through `POST /v1/mask` (7 columns, mixed rules, CSV back), "
        f"{mask['uploads']} sequential uploads: p50 {mask['p50_s']:.2f} s, max {mask['max_s']:.2f} s, "
        f"{mask['mb_per_s']:.1f} MB/s end to end (upload, mask, download).",
        "",
        "Targets from the issue: >= 1,000 masked-row reads/s at p99 <= 50 ms; >= 300 DP queries/s on PostgreSQL "
        "state with zero overspend. The load average column counts this benchmark's own processes (wrk, the server's "
        "workers, PostgreSQL) besides anything else on the machine, which may be shared: absolute numbers move "
        "between runs (the floor itself from about 6,000 to 10,000 requests/s across sessions here); compare rows "
        "against the floor and the CPU per request measured alongside them.",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
