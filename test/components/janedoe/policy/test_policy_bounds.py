"""Policies crafted to exhaust memory or the stack are refused before PyYAML builds objects from them."""

import subprocess
import sys
import time

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.policy import load_policy, parse_policy

LAUGHS = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]


def billion_laughs() -> str:
    """The classic: nine levels of nine aliases, 9**9 strings once expanded."""
    lines = ["version: 1", "tables:", "  t:", "    columns:"]
    lines.append('      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]')
    for previous, name in zip(LAUGHS, LAUGHS[1:], strict=False):
        lines.append(f"      {name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\n"


def test_the_billion_laughs_policy_is_refused_at_its_line_quickly():
    started = time.perf_counter()
    with pytest.raises(JaneDoeInputError, match=r"^bomb.yaml:10: aliases expand the YAML past 100,000 nodes"):
        parse_policy(billion_laughs(), "bomb.yaml")
    assert time.perf_counter() - started < 0.5


def test_the_billion_laughs_policy_leaves_memory_small():
    """In a child process: the 1.9 GB an expanded bomb grew to would show in its own peak resident size (VmHWM: the
    rusage peak of a forked child carries the parent's, which grows with the test session)."""
    code = (
        "import sys\nfrom janedoe.errors import JaneDoeInputError\nfrom janedoe.policy import parse_policy\n"
        "try:\n    parse_policy(sys.stdin.read(), 'bomb.yaml')\nexcept JaneDoeInputError:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    print(status.split()[0])\n    sys.exit(2)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], input=billion_laughs(), text=True, timeout=120,
                            capture_output=True)
    assert result.returncode == 2, result.stderr
    assert int(result.stdout.strip()) < 400 * 1024  # KiB; the interpreter with pyarrow and pydantic loaded: ~150 MB


def test_an_alias_that_contains_itself_is_refused():
    with pytest.raises(JaneDoeInputError, match=r"^p.yaml:4: a YAML alias refers to itself"):
        parse_policy("version: 1\ntables:\n  t:\n    columns: &loop {x: *loop}\n", "p.yaml")


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deep_nesting_is_refused_without_exhausting_the_stack(depth):
    started = time.perf_counter()
    with pytest.raises(JaneDoeInputError, match=r"^p.yaml:1: YAML nested deeper than 64 levels"):
        parse_policy("[" * depth + "]" * depth, "p.yaml")
    assert time.perf_counter() - started < 2  # PyYAML's scanner looks ahead over the brackets: linear, not deep


def test_an_oversized_policy_is_refused_before_parsing(tmp_path):
    text = "version: 1\ntables: {}\n# " + "x" * (1 << 20) + "\n"
    with pytest.raises(JaneDoeInputError, match="larger than 1 MiB"):
        parse_policy(text, "big.yaml")
    path = tmp_path / "big.yaml"
    path.write_text(text)
    with pytest.raises(JaneDoeInputError, match=f"^{path}: the policy is larger than 1 MiB"):
        load_policy(path)


def test_ordinary_aliases_still_work():
    policy = parse_policy(
        "version: 1\ntables:\n  a:\n    columns: &shared\n      email: hash\n"
        "      name: {mask: pseudonymize, kind: name}\n"
        "  b:\n    columns: *shared\n",
        "p.yaml",
    )
    assert policy.tables["a"].columns.keys() == policy.tables["b"].columns.keys() == {"email", "name"}


def test_a_table_names_its_text_encoding():
    policy = parse_policy("version: 1\ntables:\n  t:\n    encoding: latin-1\n", "p.yaml")
    assert policy.tables["t"].encoding == "latin-1"
    with pytest.raises(JaneDoeInputError, match=r"^p.yaml:4: tables.t.encoding: unknown text encoding 'klingon'"):
        parse_policy("version: 1\ntables:\n  t:\n    encoding: klingon\n", "p.yaml")
