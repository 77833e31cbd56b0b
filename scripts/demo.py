"""`make demo`: the main jobs on the bundled data, through the real `janedoe` command, into demo-output/.

The pseudonymization key is taken from JANEDOE_SECRET when set; otherwise the demo makes a fresh random key for this
run only (an embedded default that is not a secret in the code, and that no output or log shows).
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
OUT = ROOT / "demo-output"
JANEDOE = str(Path(sys.executable).with_name("janedoe"))
ADULT = "data/adult/adult.csv"
ADULT_QIS = "sex,age,race,marital-status,education,native-country,workclass,occupation,salary-class"
PRIVACY_POLICY = "data/demo/adult_privacy_policy.yaml"

STEPS = [
    ("mask customers (personal data) -> CSV",
     ["mask", "--policy", "data/demo/policy.yaml", "data/demo/customers.csv", "demo-output/customers.masked.csv"]),
    ("mask Adult -> Parquet",
     ["mask", "--policy", "data/demo/adult_policy.yaml", ADULT, "demo-output/adult.masked.parquet"]),
    ("draft a policy for customers",
     ["policy", "init", "data/demo/customers.csv"], "demo-output/customers.policy-draft.yaml"),
    ("measure k-anonymity of raw Adult (9 QIs)",
     ["kanon", "check", ADULT, "--qi", ADULT_QIS, "--sensitive", "salary-class"]),
    ("k=5 optimal generalization of Adult (5% suppression)",
     ["kanon", "apply", "--policy", "data/demo/adult_kanon_policy.yaml", ADULT, "demo-output/adult.k5.csv"]),
    ("DP count (epsilon 0.1)",
     ["dp", "query", "--policy", PRIVACY_POLICY, "--ledger", "demo-output/ledger.db", "--analyst", "demo",
      ADULT, "count", "--epsilon", "0.1"]),
    ("DP histogram of education (epsilon 0.5)",
     ["dp", "query", "--policy", PRIVACY_POLICY, "--ledger", "demo-output/ledger.db", "--analyst", "demo",
      ADULT, "histogram(education)", "--epsilon", "0.5"]),
    ("DP synthetic Adult (MST, epsilon 1)",
     ["synth", "fit", "--policy", PRIVACY_POLICY, ADULT, "demo-output/adult.synthetic.csv", "--seed", "7"]),
    ("fidelity report of the synthetic Adult",
     ["synth", "report", ADULT, "demo-output/adult.synthetic.csv", "demo-output/adult.synthetic.html",
      "--policy", PRIVACY_POLICY, "--target", "salary-class"]),
    ("the privacy budget spent so far",
     ["dp", "budget", "--ledger", "demo-output/ledger.db"]),
    ("scan a small shop database (SQLite): a starting policy",
     ["db", "scan", "sqlite:///demo-output/shop.db", "--out", "demo-output/shop.policy-draft.yaml"]),
    ("masked copy of the shop database, foreign keys intact",
     ["db", "copy", "--policy", "data/demo/shop_policy.yaml", "--from", "sqlite:///demo-output/shop.db",
      "--to", "sqlite:///demo-output/shop.masked.db"]),
]


def build_shop_database(path: Path) -> None:
    """A small SQLite shop for the database steps: the demo customers and orders that reference them."""
    import csv
    import random
    import sqlite3

    rng = random.Random(7)
    with open(ROOT / "data" / "demo" / "customers.csv", newline="", encoding="utf-8") as source:
        by_email = {}
        for r in csv.DictReader(source):  # emails are UNIQUE in the shop: the first customer with one keeps it
            by_email.setdefault(r["email"], (int(r["id"]), r["name"], r["email"], r["phone"], r["city"],
                                             r["notes"] or None))
    customers = list(by_email.values())
    orders = []
    for order_id in range(1, 3 * len(customers) + 1):
        customer = customers[rng.randrange(len(customers))]
        day = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        note = f"Leave with neighbour; call {customer[3]}" if rng.random() < 0.2 else None
        orders.append((order_id, customer[0], day, round(rng.uniform(5, 500), 2), note))
    conn = sqlite3.connect(path)
    with conn:
        conn.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
                                    phone TEXT, city TEXT, notes TEXT);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                                 placed_at DATE NOT NULL, total NUMERIC(10, 2) NOT NULL, delivery_note TEXT);
            CREATE INDEX orders_customer ON orders (customer_id);
        """)
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", customers)
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
    conn.close()


def main() -> int:
    console = Console()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    build_shop_database(OUT / "shop.db")
    env = dict(os.environ)
    env.setdefault("JANEDOE_SECRET", secrets.token_hex(32))
    summary = Table(title="janedoe demo", show_lines=False)
    summary.add_column("step")
    summary.add_column("result")
    summary.add_column("seconds", justify="right")
    failures = 0
    for step in STEPS:
        title, args = step[0], step[1]
        stdout_file = step[2] if len(step) > 2 else None
        console.rule(title)
        started = time.monotonic()
        run = subprocess.run([JANEDOE, *args], cwd=ROOT, env=env, text=True, capture_output=True)
        seconds = time.monotonic() - started
        if stdout_file:
            (ROOT / stdout_file).write_text(run.stdout, encoding="utf-8")
            console.print(f"wrote {stdout_file}")
        else:
            console.print(run.stdout.rstrip())
        if run.stderr.strip():
            console.print(run.stderr.rstrip(), style="dim")
        ok = run.returncode == 0
        failures += not ok
        summary.add_row(title, "ok" if ok else f"exit {run.returncode}", f"{seconds:.1f}")
    console.rule("summary")
    console.print(summary)
    console.print("outputs: " + ", ".join(sorted(p.name for p in OUT.iterdir())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
