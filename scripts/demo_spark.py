"""`make demo-spark`: the Spark path on the bundled Adult data, through the real `janedoe-spark` command, into
demo-output/spark/ (each step starts its own local[2] Spark session, as a user's job would).

The key comes from JANEDOE_SECRET when set; otherwise a fresh random key for this run only (never shown).
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "demo-output" / "spark"
JANEDOE_SPARK = str(Path(sys.executable).with_name("janedoe-spark"))
ADULT = "data/adult/adult.csv"
PRIVACY_POLICY = "data/demo/adult_privacy_policy.yaml"
SPARK = ["--master", "local[2]", "--delimiter", ";"]

STEPS = [
    ("mask Adult on Spark -> Parquet directory (same rows as `janedoe mask`)",
     ["mask", "--policy", "data/demo/adult_policy.yaml", ADULT, "demo-output/spark/adult_masked", *SPARK]),
    ("measure k-anonymity of raw Adult with one Spark aggregation",
     ["kanon", "check", ADULT, "--qi", "sex,age,race,marital-status,education", "--sensitive", "salary-class",
      *SPARK]),
    ("k=5 optimal generalization of Adult (lattice search on the driver)",
     ["kanon", "apply", "--policy", "data/demo/adult_kanon_policy.yaml", ADULT, "demo-output/spark/adult_k5",
      *SPARK]),
    ("DP histogram of education on Spark (epsilon 0.5, charged to the ledger first)",
     ["dp", "query", "--policy", PRIVACY_POLICY, "--ledger", "demo-output/spark/ledger.db", "--analyst", "demo",
      ADULT, "histogram(education)", "--epsilon", "0.5", *SPARK]),
    ("DP synthetic Adult (MST, epsilon 1; marginals measured by Spark)",
     ["synth", "fit", "--policy", PRIVACY_POLICY, ADULT, "demo-output/spark/adult_synthetic", "--seed", "7", *SPARK]),
]


def main() -> int:
    console = Console()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    env = dict(os.environ)
    env.setdefault("JANEDOE_SECRET", secrets.token_hex(32))
    summary = Table(title="janedoe on Spark: demo")
    summary.add_column("step")
    summary.add_column("result")
    summary.add_column("seconds", justify="right")
    failures = 0
    for title, args in STEPS:
        console.rule(title)
        started = time.monotonic()
        run = subprocess.run([JANEDOE_SPARK, *args], cwd=ROOT, env=env, text=True, capture_output=True)
        seconds = time.monotonic() - started
        console.print(run.stdout.rstrip()[-3000:])
        if run.returncode != 0:
            console.print(run.stderr.rstrip()[-2000:], style="dim")
        failures += run.returncode != 0
        summary.add_row(title, "ok" if run.returncode == 0 else f"exit {run.returncode}", f"{seconds:.1f}")
    console.rule("summary")
    console.print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
