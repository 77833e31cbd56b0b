"""The command's contract with scripts: exit 0 on success, 2 on bad usage or input (one line, no traceback)."""

import os
import subprocess
import sys

JANEDOE = os.path.join(os.path.dirname(sys.executable), "janedoe")


def run(*args):
    return subprocess.run([JANEDOE, *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_area():
    result = run("--help")
    assert result.returncode == 0
    for area in ("mask", "policy", "kanon", "dp", "synth", "db"):
        assert area in result.stdout


def test_usage_error_exits_2_without_traceback():
    result = run("mask", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--no-such-option" in result.stderr


def test_missing_policy_file_is_one_line_naming_the_file(tmp_path):
    missing = tmp_path / "absent.yaml"
    result = run("mask", "--policy", str(missing), str(tmp_path / "in.csv"), str(tmp_path / "out.csv"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "absent.yaml" in lines[0]
    assert not (tmp_path / "out.csv").exists()
