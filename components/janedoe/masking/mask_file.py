"""Masking a whole file: stream it in batches through a table masker into an atomically written output.

A policy with set-dependent rules (unique pseudonyms) costs a first pass over the columns they read: memory holds
8 bytes per distinct value of those columns, never the rows. `shuffle` columns are shuffled over the whole file in
two passes (column_shuffle: at most a million values in memory, sorted runs spilled to temporary Arrow IPC files).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from janedoe.errors import JaneDoeInputError
from janedoe.masking.column_shuffle import WholeColumnShuffles
from janedoe.masking.secret import require_secret
from janedoe.masking.table_masker import build_table_masker
from janedoe.masking.unique_prepass import PrepassAccumulator
from janedoe.policy import Policy, choose_table
from janedoe.tabular import AtomicTableWriter, WriteBehind, iter_batches, read_ahead, read_schema, table_format

Progress = Callable[[int, int | None], None]


@dataclass
class MaskReport:
    """What a masking run did (no data values)."""

    table: str
    input_path: str
    output_path: str
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    rules: dict[str, str] = field(default_factory=dict)


def _known_row_count(path: Path) -> int | None:
    if table_format(path) == "parquet":
        import pyarrow.parquet as pq  # here: CSV and JSON Lines inputs do not pay for its import

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _prepass_batches(path: Path, columns: list[str], batch_size: int, encoding: str | None):
    """Only `columns` of the input: Parquet reads just those; text formats are parsed whole and narrowed."""
    if table_format(path) == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)  # the footer was checked by read_schema
        try:
            yield from parquet.iter_batches(batch_size=batch_size, columns=columns)
        finally:
            parquet.close()
        return
    for batch in iter_batches(path, batch_size=batch_size, encoding=encoding):
        yield batch.select(columns)


def mask_file(
    policy: Policy,
    input_path: str | Path,
    output_path: str | Path,
    *,
    table: str | None = None,
    batch_size: int = 65536,
    seed: int | None = None,
    secret: bytes | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> MaskReport:
    """Mask INPUT into OUTPUT per the policy; on any failure OUTPUT does not exist and INPUT is untouched.

    `secret`, when given, is the key and the environment is never read: a service masking a caller's file with a
    caller's policy passes the caller's key (or a random one), so an uploaded policy never reaches a server secret.
    `encoding` names the input's text encoding (overriding the table's `encoding:`; default UTF-8).
    `progress(rows_done, rows_total_or_None)` is called after each batch; with a first pass (unique pseudonyms), its
    rows count too and the total is twice the file's rows.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    table_format(output_path)
    if output_path.exists() and input_path.exists() and output_path.resolve() == input_path.resolve():
        raise JaneDoeInputError("the output must not be the input (sources are never modified)", where=str(output_path))
    table_name, table_policy = choose_table(policy, table, input_path.stem, where=str(input_path))
    if secret is None:
        secret = require_secret(policy, table_name)
    encoding = encoding or table_policy.encoding
    schema = read_schema(input_path, encoding=encoding)
    masker = build_table_masker(policy, table_name, schema, secret=secret, seed=seed)
    total = _known_row_count(input_path)
    report = MaskReport(table_name, str(input_path), str(output_path), rules=dict(masker.rule_names))
    started = time.perf_counter()
    done = 0
    with WholeColumnShuffles(masker) as shuffles:
        if masker.needs_prepass or shuffles:
            if total is not None:
                total *= 2
            states = PrepassAccumulator()
            columns = [name for name in schema.names if name in {*masker.prepass_columns, *shuffles.input_columns}]
            for batch in read_ahead(_prepass_batches(input_path, columns, batch_size, encoding)):
                if masker.needs_prepass:
                    states.add(masker.observe(batch))
                shuffles.observe(batch)
                done += batch.num_rows
                if progress is not None:
                    progress(done, total)
            if masker.needs_prepass:
                masker.use_prepass(states.result())
            shuffles.start()
        # The next batch is parsed and the last one encoded in background threads while this one is masked.
        with AtomicTableWriter(output_path, masker.output_schema) as writer, WriteBehind(writer.write_batch) as output:
            for batch in read_ahead(iter_batches(input_path, batch_size=batch_size, encoding=encoding)):
                output.put(masker.mask_batch(batch))
                report.rows += batch.num_rows
                report.batches += 1
                if progress is not None:
                    progress(done + report.rows, total)
            shuffles.check_finished()
    report.seconds = time.perf_counter() - started
    return report
