"""comma_separated_names: the one parser of `--qi age,zip`-style values in the CLI, the Spark CLI and the API."""

import json
import subprocess
import sys

import pytest
from janedoe.option_parsing import comma_separated_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("age,zip", ["age", "zip"]),
        (" age , zip code ,sex ", ["age", "zip code", "sex"]),  # inner spaces belong to the name
        ("a,,b,", ["a", "b"]),
        ("zip,age,zip", ["zip", "age", "zip"]),  # order and repeats kept: the caller decides what a repeat means
        ("", []),
        (" , ", []),
        (None, []),
    ],
)
def test_names(text, names):
    assert comma_separated_names(text) == names


def test_importing_it_imports_no_other_library():
    probe = (
        "import json, sys; before = set(sys.modules); import janedoe.option_parsing; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    added = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert set(added) - {"janedoe"} == {"janedoe.option_parsing", "janedoe.option_parsing.names"}
