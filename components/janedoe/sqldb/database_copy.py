"""`db copy`: a masked copy of a database, streamed in batches from one read-only snapshot into another database.

A target is either empty (a fresh copy), an unfinished copy of the same source with the same policy and options
(resumed after the last committed batch), or refused unless `replace` is given (then its tables are dropped first).
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from janedoe.database_access import DatabaseUrl, parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.copy_plan import CopyPlan, make_plan
from janedoe.sqldb.post_load import PostLoadBuilder
from janedoe.sqldb.pseudonym_prepass import prepare_set_dependent_rules
from janedoe.sqldb.reflection import STATE_TABLE
from janedoe.sqldb.snapshot_reader import SnapshotReader
from janedoe.sqldb.subset import plan_subset
from janedoe.sqldb.table_copy import Progress, TableCopy, copy_in_lanes
from janedoe.sqldb.table_writer import META_ROW, TargetWriter


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
    where: Sequence[str] = (),
    sample: Sequence[str] = (),
    replace: bool = False,
    seed: int = 0,
    policy_name: str = "policy",
    progress: Progress | None = None,
    lanes: int = 2,
) -> CopyReport:
    """`lanes`: PostgreSQL to PostgreSQL, how many tables are copied at once (each from the same snapshot)."""
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
    post_load = None
    try:
        steps = writer.post_load_steps(plan.metadata, plan.order.tables)
        if steps:
            post_load = PostLoadBuilder(lambda: TargetWriter(target), steps, workers=lanes)
        with SnapshotReader(source) as reader:
            kept = plan_subset(reader, plan.schema, plan.order, plan.subset, seed=seed)
            prepare_set_dependent_rules(plan, reader, kept, batch_size)
            totals = {
                name: reader.count_rows(name) if kept.get(name) is None else len(kept[name])
                for name in plan.order.tables
            }
            job = TableCopy(plan, state, kept, totals, batch_size, progress, post_load)
            if lanes > 1 and source.dialect == target.dialect == "postgresql" and len(plan.order.tables) > 1:
                report.rows.update(copy_in_lanes(job, reader, writer, lanes))
            else:
                for name in plan.order.tables:
                    report.rows[name] = job.copy(reader, writer, name)
        if post_load is not None:
            post_load.wait()
        writer.finish(plan.metadata, plan.order.tables, plan.serials)
    finally:
        if post_load is not None:
            post_load.close()
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
