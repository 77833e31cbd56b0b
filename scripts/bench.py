"""`make bench`: run every bench/bench_*.py one after another, then gather their results into BENCHMARKS.md.

Each benchmark writes its own section to bench/results/<area>.md (command, machine, date, numbers, ratios against the
peer tools measured in the same run); this script only orders and concatenates them.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = """# Benchmarks

Produced by `make bench` (which runs `scripts/bench.py`, which runs every `bench/bench_*.py` and gathers the sections
they write to `bench/results/`). Every section states its own command, machine and date. Peer tools run in the same run,
on the same machine, from their own virtual environments under `.bench-cache/`, so the ratios compare like with like.
Numbers taken while other work shared the machine are marked as such in their section.

"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="areas to run (e.g. masking dp_noise); default: all")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--collect-only", action="store_true", help="only rebuild BENCHMARKS.md from bench/results")
    args = parser.parse_args()
    scripts = sorted((ROOT / "bench").glob("bench_*.py"))
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]
    failed = []
    if not args.collect_only:
        for script in scripts:
            print(f"== {script.name}", flush=True)
            started = time.monotonic()
            command = [sys.executable, str(script)] + (["--quick"] if args.quick else [])
            if subprocess.run(command, cwd=ROOT).returncode != 0:
                failed.append(script.name)
            print(f"== {script.name} took {time.monotonic() - started:.0f} s", flush=True)
    sections = [p.read_text(encoding="utf-8").strip() for p in sorted((ROOT / "bench" / "results").glob("*.md"))]
    (ROOT / "BENCHMARKS.md").write_text(HEADER + "\n\n".join(sections) + "\n", encoding="utf-8")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
