"""An on-disk cache of public Faker pools, so a run does not pay Faker's import and draws (about 0.1 s per pool).

Only pools drawn with a fixed public seed are stored (nothing derived from a secret or from data); a run's keyed
pools are permutations of them made in memory. The cache lives in $JANEDOE_CACHE_DIR, else $XDG_CACHE_HOME/janedoe,
else ~/.cache/janedoe; JANEDOE_CACHE_DIR=off turns it off. A missing, unwritable or damaged cache only costs time.
"""

import os
from pathlib import Path

import pyarrow as pa


def cache_dir() -> Path | None:
    configured = os.environ.get("JANEDOE_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "none") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "janedoe"


def pool_path(name: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / "faker-pools" / f"{name}.parquet"


def load_pool(name: str) -> pa.Array | None:
    path = pool_path(name)
    if path is None or not path.is_file():
        return None
    try:
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:  # not pq.read_table: its dataset machinery is a 20 ms import
            table = parquet.read()
        if table.num_columns != 1 or table.num_rows == 0:
            return None
        return table.column(0).combine_chunks()
    except (OSError, pa.ArrowException):
        return None


def store_pool(name: str, pool: pa.Array) -> None:
    path = pool_path(name)
    if path is None:
        return
    from janedoe.errors import JaneDoeInputError
    from janedoe.tabular import write_table_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table_atomic(pa.table({"value": pool}), path)
    except (OSError, JaneDoeInputError, pa.ArrowException):
        pass
