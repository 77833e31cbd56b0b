"""Copying tables: one table's batches through the masking engine into the target, and several tables at once.

Within a table, one batch is written (tabular.WriteBehind: the drivers release the GIL while the server works) while
the next is read and masked; at most two batches per table are in memory, and batches commit in order. Between
tables, PostgreSQL to PostgreSQL, `lanes` tables are copied at once, each lane with its own connections reading the
same exported snapshot, so the servers' and the masking engine's work spreads over the cores.
"""

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from janedoe.sqldb.copy_plan import CopyPlan
from janedoe.sqldb.post_load import PostLoadBuilder
from janedoe.sqldb.subset import keep_filter
from janedoe.sqldb.table_shuffles import table_shuffles
from janedoe.tabular import WriteBehind

Progress = Callable[[str, int, int], None]


class CopyStopped(Exception):
    """Another lane failed or the run was interrupted: this lane stops after its current batch."""


@dataclass
class TableCopy:
    plan: CopyPlan
    state: dict
    kept: dict
    totals: dict[str, int]
    batch_size: int
    progress: Progress | None
    post_load: PostLoadBuilder | None
    stop: threading.Event = field(default_factory=threading.Event)
    _progress_lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self, name: str, done: int) -> None:
        if self.progress is not None:
            with self._progress_lock:  # the callback may not be thread-safe (rich's task table is not)
                self.progress(name, done, self.totals[name])

    def copy(self, reader, writer, name: str) -> int:
        rows = self._copy(reader, writer, name)
        if self.post_load is not None:
            self.post_load.table_loaded(name)
        return rows

    def _copy(self, reader, writer, name: str) -> int:
        plan, table, kept_keys = self.plan, self.plan.schema.tables[name], self.kept.get(name)
        state = self.state.get(name)
        rows_done, last_key, finished = (state[0], state[1], state[2]) if state else (0, None, False)
        if finished:
            self.report(name, rows_done)
            return rows_done
        if rows_done and not table.primary_key:
            writer.clear_table(name)  # no key to resume after: this one table starts over
            rows_done, last_key = 0, None
        self.report(name, rows_done)
        masker = plan.maskers[name]  # set-dependent rules were prepared from the whole database (pseudonym_prepass)
        with (
            table_shuffles(masker, reader, table, kept_keys=kept_keys, batch_size=self.batch_size, rows_done=rows_done),
            WriteBehind(lambda item: writer.write_batch(name, *item)) as output,
        ):
            after = last_key if table.primary_key else None
            for batch in reader.read_batches(table, batch_size=self.batch_size, after_key=after):
                if self.stop.is_set():
                    raise CopyStopped(name)
                if table.primary_key:
                    last_key = [batch.column(c)[batch.num_rows - 1].as_py() for c in table.primary_key]
                if kept_keys is not None:
                    batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
                masked = masker.mask_batch(batch) if batch.num_rows else batch.slice(0, 0)
                rows_done += batch.num_rows
                output.put((masked, rows_done, last_key))
                self.report(name, rows_done)
        writer.mark_finished(name)
        return rows_done


def _estimated_cost(job: TableCopy, name: str) -> int:
    """Rows times (1 + masked columns): a table with many masked columns takes longer per row than one kept as is."""
    masked = sum(1 for rule in job.plan.rules[name].values() if rule.mask != "keep")
    return job.totals[name] * (1 + masked)


def copy_in_lanes(job: TableCopy, reader, writer, lanes: int) -> dict[str, int]:
    """Tables spread over `lanes` threads, most expensive first; the first lane uses the caller's reader and writer.
    Unique pseudonyms were fixed from the whole database before (pseudonym_prepass), so any lane gives the same."""
    from janedoe.sqldb.snapshot_reader import SnapshotReader
    from janedoe.sqldb.table_writer import TargetWriter

    names = job.plan.order.tables
    shared = sorted(names, key=lambda name: -_estimated_cost(job, name))
    lock = threading.Lock()
    rows: dict[str, int] = {}
    snapshot = reader.export_snapshot()

    def next_table() -> str | None:
        with lock:
            return shared.pop(0) if shared else None

    def lane(index: int) -> None:
        if index == 0:
            _drain(reader, writer)
            return
        with SnapshotReader(job.plan.source, snapshot) as lane_reader:
            lane_writer = TargetWriter(writer.url)
            try:
                _drain(lane_reader, lane_writer)
            finally:
                lane_writer.close()

    def _drain(lane_reader, lane_writer) -> None:
        while (name := next_table()) is not None:
            rows[name] = job.copy(lane_reader, lane_writer, name)

    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="janedoe-lane") as pool:
        futures = [pool.submit(lane, index) for index in range(lanes)]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            job.stop.set()  # a no-op when every lane is done; otherwise one failed and the others stop
            wait(futures)
        except BaseException:  # Ctrl-C while waiting: the lanes stop after their current batch
            job.stop.set()
            raise
    errors = [error for f in futures if (error := f.exception()) is not None]
    real = [error for error in errors if not isinstance(error, CopyStopped)]
    if real or errors:
        raise (real or errors)[0]
    return {name: rows[name] for name in names}
