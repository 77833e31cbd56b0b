"""Keeping pandas out of processes that do not use it.

pyarrow imports pandas (seconds of start-up) on its first `pa.array` of a Python list whenever pandas is installed,
only to ask whether the list is a pandas object. The CLI and the API never use pandas; in an environment that holds it
for another project (the workspace venv, for Spark), they should start as fast as from their own wheels.
"""

import importlib.abc
import sys


class _NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is kept out of this process", name=name)
        return None


def keep_pandas_out() -> None:
    """Make `import pandas` fail in this process (pyarrow then carries on without it); no-op once pandas is in."""
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())
