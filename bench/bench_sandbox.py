"""Start-up overhead of the job sandbox: `python -c pass` run by run_in_sandbox versus run directly.

Median of 10 after one untimed warm-up, each a fresh process. Three rows: the job's interpreter run directly (as
subprocess.run), `/usr/bin/true` in the sandbox (bwrap, the limits and the runner's bookkeeping alone) and
`python -c pass` in the sandbox. The machine may be shared: medians, and the same run for all three rows.

    .venv/bin/python bench/bench_sandbox.py
"""

import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from janedoe.sandbox import SANDBOX_PYTHON, ResourceLimits, SandboxMounts, run_in_sandbox, sandbox_available

RUNS = 10


def median_seconds(run) -> float:
    run()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    reason = sandbox_available()
    if reason is not None:
        sys.exit(f"sandbox not available: {reason}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        root.chmod(0o755)
        (root / "code").mkdir(mode=0o755)
        (root / "output").mkdir()
        mounts = SandboxMounts(root / "code", root / "output")

        def sandboxed(argv):
            def run():
                outcome = run_in_sandbox(argv, mounts, ResourceLimits(), log_path=root / "log")
                assert outcome.state == "succeeded", (root / "log").read_text()

            return run

        direct = median_seconds(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
        true = median_seconds(sandboxed(["/usr/bin/true"]))
        python = median_seconds(sandboxed([SANDBOX_PYTHON, "-c", "pass"]))
    print(f"Sandbox start-up, median of {RUNS} ({platform.machine()}, Python {platform.python_version()})\n")
    print("| command | median ms | over direct python ms |")
    print("|---|---:|---:|")
    print(f"| `python -c pass`, directly | {direct * 1000:.0f} | 0 |")
    print(f"| `/usr/bin/true` in the sandbox | {true * 1000:.0f} | {(true - direct) * 1000:+.0f} |")
    print(f"| `python -c pass` in the sandbox | {python * 1000:.0f} | {(python - direct) * 1000:+.0f} |")


if __name__ == "__main__":
    main()
