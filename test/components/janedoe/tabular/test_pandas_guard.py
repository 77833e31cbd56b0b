"""The CLI and API keep pandas out of their processes even where it is installed (pyarrow would import it)."""

import subprocess
import sys

PROBE = """
import sys
{guard}
import pyarrow as pa
pa.array(["a", "b"])
print("pandas" in sys.modules)
"""


def _pandas_loaded(guard: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE.format(guard=guard)], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_pyarrow_carries_on_without_pandas_when_it_is_kept_out():
    assert _pandas_loaded("from janedoe.tabular import keep_pandas_out; keep_pandas_out()") == "False"


def test_without_the_guard_pyarrow_would_import_it_when_installed():
    try:
        import pandas  # noqa: F401
    except ImportError:
        return  # nothing to guard against in this environment
    assert _pandas_loaded("") == "True"


def test_the_cli_entry_point_keeps_it_out():
    probe = ("import atexit, sys; atexit.register(lambda: print('pandas loaded:', 'pandas' in sys.modules)); "
             "sys.argv = ['janedoe', 'policy', 'check', '--help']; from janedoe.cli import main; main()")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert "pandas loaded: False" in out
