"""`shuffle` over a whole table in a copy, dump or in-place run, not within each batch.

Before a table's rows are masked, a first pass reads (only) its `shuffle` columns, their `row_key`s and, for a
subset, its primary key, through the same snapshot and in the same primary-key order, and hands them to masking's
two-pass whole-column shuffle (bounded memory: sorted runs spill to temporary files). A resumed copy reads the whole
table in the first pass and drops the values of the rows it already wrote, so it continues the same sequence and
ends as an uninterrupted copy would.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from janedoe.sqldb.schema_model import TableSchema
from janedoe.sqldb.subset import keep_filter


@contextmanager
def table_shuffles(masker, reader, table: TableSchema, *, kept_keys=None, batch_size: int,
                   rows_done: int = 0) -> Iterator[None]:
    """Within this block `masker.mask_batch` shuffles whole columns; read the rows after the first `rows_done`
    (of those kept) in primary-key order. On a normal exit, checks every value was handed out."""
    from janedoe.masking import WholeColumnShuffles

    with WholeColumnShuffles(masker) as shuffles:
        if shuffles:
            columns = list(shuffles.input_columns)
            if kept_keys is not None:
                columns += [c for c in table.primary_key if c not in columns]
            written = dict.fromkeys(shuffles.columns, 0)  # non-null values in the rows already written
            seen = 0
            for batch in reader.read_batches(table, columns=columns, batch_size=batch_size):
                if kept_keys is not None:
                    batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
                if seen < rows_done:
                    done = batch.slice(0, rows_done - seen)
                    for name in written:
                        written[name] += done.num_rows - done.column(name).null_count
                seen += batch.num_rows
                shuffles.observe(batch)
            shuffles.start()
            shuffles.skip(written)
        yield
        shuffles.check_finished()
