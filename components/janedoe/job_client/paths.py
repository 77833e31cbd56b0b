"""Where a job reads its data and writes its outputs: the folders the sandbox mounts, named by the environment."""

import os
from pathlib import Path

from janedoe.errors import JaneDoeInputError

DATA_DIR_ENV, OUTPUT_DIR_ENV = "JANEDOE_DATA_DIR", "JANEDOE_OUTPUT_DIR"


def folder(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        raise JaneDoeInputError(
            f"{variable} is not set: run inside a janedoe job, or set it to a folder (the stage-1 package for data)",
            where=variable,
        )
    return Path(value)


def plain_name(name: str, what: str) -> str:
    """A file name with no directory part: a job cannot reach outside its folders by naming '../x' or '/x'."""
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name
            or "\0" in name or len(name) > 255):
        raise JaneDoeInputError("must be a plain file name (no path separators, not . or ..)", where=what)
    return name


def data_path(table: str) -> Path:
    """The job's copy of `table`: DP synthetic data in stage 1 and dp mode, the real data in review mode."""
    return folder(DATA_DIR_ENV) / f"{plain_name(table, 'table')}.parquet"


def output_path(name: str) -> Path:
    """Where the job writes the output `name` (declare it in janedoe-job.yaml to have it considered)."""
    return folder(OUTPUT_DIR_ENV) / plain_name(name, "output name")
