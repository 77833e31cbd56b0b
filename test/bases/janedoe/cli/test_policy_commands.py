import os
import subprocess
import sys
from pathlib import Path

from janedoe.policy import load_policy
from janedoe.tabular import read_schema

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")
ROOT = Path(__file__).resolve().parents[4]
CUSTOMERS = ROOT / "data" / "demo" / "customers.csv"
POLICY = ROOT / "data" / "demo" / "policy.yaml"


def run(*args, secret: str | None = None):
    env = {key: value for key, value in os.environ.items() if not key.startswith("JANEDOE_SECRET")}
    if secret is not None:
        env["JANEDOE_SECRET"] = secret
    return subprocess.run([JANEDOE, *map(str, args)], capture_output=True, text=True, env=env, timeout=120)


def test_check_a_valid_policy_alone_and_against_its_file():
    result = run("policy", "check", POLICY, CUSTOMERS)
    assert result.returncode == 0, result.stderr
    assert "valid (1 table, 11 columns)" in result.stdout
    assert "matches table 'customers'" in result.stdout and "JANEDOE_SECRET" in result.stdout


def test_check_reports_a_bad_policy_on_one_line(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY.read_text().replace("{mask: hash}", "{mask: hash, algorithm: md4}"))
    result = run("policy", "check", policy)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "tables.customers.columns.ip_address.algorithm" in result.stderr


def test_check_against_a_file_with_other_types(tmp_path):
    policy = tmp_path / "p.yaml"
    policy.write_text(POLICY.read_text().replace("{mask: keep}", "{mask: noise, ratio: 0.2}"))
    result = run("policy", "check", policy, CUSTOMERS)
    assert result.returncode == 2
    assert "tables.customers.columns.city: noise with a ratio needs a numeric" in result.stderr


def test_init_writes_a_commented_policy_that_checks(tmp_path):
    out = tmp_path / "starter.yaml"
    result = run("policy", "init", CUSTOMERS, "--output", out)
    assert result.returncode == 0, result.stderr
    policy = load_policy(out)
    columns = policy.tables["customers"].columns
    assert list(columns) == read_schema(CUSTOMERS).names
    assert columns["email"].mask.mask == "pseudonymize"
    assert columns["ssn"].mask.mask == "pseudonymize"
    assert columns["notes"].mask.mask == "redact"
    assert columns["city"].mask.mask == "pseudonymize"
    text = out.read_text()
    assert all("#" in line for line in text.splitlines() if line.startswith("      "))


def test_init_to_stdout():
    result = run("policy", "init", CUSTOMERS)
    assert result.returncode == 0 and result.stdout.startswith("# Starting policy")
