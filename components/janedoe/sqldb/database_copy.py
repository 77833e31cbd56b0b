"""`db copy`: a masked copy of a database, streamed in batches from one read-only snapshot into another database.

A target is either empty (a fresh copy), an unfinished copy of the same source with the same policy and options
(resumed after the last committed batch), or refused unless `replace` is given (then its tables are dropped first).
"""

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.copy_plan import CopyPlan, make_plan
from janedoe.sqldb.database_url import DatabaseUrl, parse_database_url
from janedoe.sqldb.reflection import STATE_TABLE
from janedoe.sqldb.snapshot_reader import SnapshotReader
from janedoe.sqldb.subset import keep_filter, plan_subset
from janedoe.sqldb.table_writer import META_ROW, TargetWriter

Progress = Callable[[str, int, int], None]


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    resumed: bool = False


def copy_database(
    policy,
    source_url: str,
    target_url: str,
    *,
    tables: list[str] | None = None,
    batch_size: int = 10_000,
    where: list[str] = (),
    sample: list[str] = (),
    replace: bool = False,
    seed: int = 0,
    policy_name: str = "policy",
    progress: Progress | None = None,
) -> CopyReport:
    if batch_size < 1:
        raise JaneDoeInputError("batch size must be at least 1", where="--batch-size")
    source = parse_database_url(source_url, where="--from")
    target = parse_database_url(target_url, where="--to")
    if source.conninfo == target.conninfo:
        raise JaneDoeInputError("the target is the source: refusing to write into it", where="--to")
    plan = make_plan(
        policy, source, target.dialect, tables=tables, where=where, sample=sample, seed=seed, policy_name=policy_name
    )
    created_file = target.dialect == "sqlite" and not os.path.exists(target.sqlite_path)
    writer = TargetWriter(target)
    try:
        state, resumed = _prepare_target(writer, plan, target, replace)
    except BaseException:
        writer.close()
        if created_file and os.path.exists(target.sqlite_path):
            os.remove(target.sqlite_path)
        raise
    report = CopyReport(resumed=resumed)
    try:
        with SnapshotReader(source) as reader:
            kept = plan_subset(reader, plan.schema, plan.order, plan.subset, seed=seed)
            for name in plan.order.tables:
                report.rows[name] = _copy_table(reader, writer, plan, name, state.get(name), kept.get(name),
                                                batch_size, progress)
        writer.finish(plan.metadata, plan.order.tables, plan.serials)
    finally:
        writer.close()
    return report


def _prepare_target(writer: TargetWriter, plan: CopyPlan, target: DatabaseUrl, replace: bool):
    existing = writer.existing_tables()
    if existing and not replace:
        state = writer.read_state() if STATE_TABLE in existing else None
        if state is not None and state.get(META_ROW, (0, None, False, None))[3] == plan.fingerprint:
            return state, True
        if state is not None:
            raise JaneDoeInputError(
                "the target holds an unfinished copy made with another policy, source or options:"
                " rerun with the same ones to resume, or use --replace",
                where=target.redacted,
            )
        raise JaneDoeInputError(
            f"the target is not empty ({len(existing)} tables): use --replace to overwrite it", where=target.redacted
        )
    if existing:
        writer.drop_all(existing)
    writer.create(plan.metadata, plan.order.tables, plan.fingerprint)
    return {}, False


def _copy_table(reader, writer, plan: CopyPlan, name: str, state, kept_keys, batch_size: int, progress) -> int:
    table = plan.schema.tables[name]
    rows_done, last_key, finished = (state[0], state[1], state[2]) if state else (0, None, False)
    total = len(kept_keys) if kept_keys is not None else reader.count_rows(name)
    if finished:
        if progress:
            progress(name, rows_done, total)
        return rows_done
    if rows_done and not table.primary_key:
        writer.clear_table(name)  # no key to resume after: this one table starts over
        rows_done, last_key = 0, None
    if progress:
        progress(name, rows_done, total)
    masker = plan.maskers[name]
    if rows_done and table.primary_key and _order_dependent(plan.rules[name]):
        # Replay the rows already written so collision handling assigns the remaining rows exactly as one run would.
        for batch in reader.read_batches(table, batch_size=batch_size, up_to_key=last_key):
            if kept_keys is not None:
                batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
            if batch.num_rows:
                masker.mask_batch(batch)
    # One batch is written (in its own thread: the drivers release the GIL while the server works) while the next
    # is read and masked; at most two batches are in memory at once, and batches still commit in order.
    pending = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="janedoe-writer") as background:
        after = last_key if table.primary_key else None
        for batch in reader.read_batches(table, batch_size=batch_size, after_key=after):
            if table.primary_key:
                last_key = [batch.column(c)[batch.num_rows - 1].as_py() for c in table.primary_key]
            if kept_keys is not None:
                batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
            masked = masker.mask_batch(batch) if batch.num_rows else batch.slice(0, 0)
            rows_done += batch.num_rows
            if pending is not None:
                pending.result()
            pending = background.submit(writer.write_batch, name, masked, rows_done, last_key)
            if progress:
                progress(name, rows_done, total)
        if pending is not None:
            pending.result()
    writer.mark_finished(name)
    return rows_done


def _order_dependent(rules: dict) -> bool:
    return any(rule.mask == "pseudonymize" and rule.unique for rule in rules.values())
