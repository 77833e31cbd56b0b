"""Subsetting with referential closure: `--where table:condition` and `--sample table:fraction` pick seed rows;
tables that reference a subsetted table keep only rows whose references survive; then every row a kept row
references is brought along (through self-references and cycles, until nothing changes). Nothing dangles.

Only key columns are held in memory (the primary key and the foreign key columns of the subsetted tables); the rows
themselves are streamed later and filtered by their primary key.
"""

import zlib
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.dependency_order import TableOrder
from janedoe.sqldb.schema_model import DatabaseSchema
from janedoe.sqldb.snapshot_reader import ExtraColumn, SnapshotReader

SEED_COLUMN = "_janedoe_seed"
KEY_SEPARATOR = "\x1f"


@dataclass
class SubsetSpec:
    where: dict[str, str] = field(default_factory=dict)
    sample: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.where and not self.sample

    def describe(self) -> str:
        return repr((sorted(self.where.items()), sorted(self.sample.items())))


def parse_subset_options(where: list[str], sample: list[str], tables: list[str]) -> SubsetSpec:
    spec = SubsetSpec()
    for text in where:
        name, condition = _split(text, "--where")
        _known(name, tables, "--where")
        spec.where[name] = condition
    for text in sample:
        name, fraction_text = _split(text, "--sample")
        _known(name, tables, "--sample")
        try:
            fraction = float(fraction_text)
        except ValueError:
            raise JaneDoeInputError("fraction must be a number between 0 and 1", where=f"--sample {name}") from None
        if not 0 < fraction <= 1:
            raise JaneDoeInputError("fraction must be in (0, 1]", where=f"--sample {name}")
        spec.sample[name] = fraction
    return spec


def _split(text: str, option: str) -> tuple[str, str]:
    name, sep, rest = text.partition(":")
    if not sep or not name or not rest.strip():
        raise JaneDoeInputError("expected table:value", where=option)
    return name.strip(), rest.strip()


def _known(name: str, tables: list[str], option: str) -> None:
    if name not in tables:
        raise JaneDoeInputError(f"no table {name!r} among the copied tables", where=option)


def key_strings(frame, columns: tuple[str, ...]) -> pa.Array:
    """One comparable string per row for a (possibly composite) key; null when any part is null."""
    parts = [pc.cast(_column(frame, c), pa.string()) for c in columns]
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, KEY_SEPARATOR)


def _column(frame, name: str) -> pa.Array:
    column = frame.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def filtered_tables(schema: DatabaseSchema, tables: list[str], spec: SubsetSpec) -> set[str]:
    """Seed tables plus every table that references one of them, directly or through others."""
    chosen = set(tables)
    filtered = set(spec.where) | set(spec.sample)
    changed = True
    while changed:
        changed = False
        for name in tables:
            if name in filtered:
                continue
            parents = {fk.referred_table for fk in schema.tables[name].foreign_keys} & chosen
            if parents & filtered:
                filtered.add(name)
                changed = True
    return filtered


def plan_subset(
    reader: SnapshotReader, schema: DatabaseSchema, order: TableOrder, spec: SubsetSpec, *, seed: int = 0
) -> dict[str, pa.Array]:
    """Primary keys (as key strings) of the rows each subsetted table keeps; tables not in the result keep all rows."""
    if spec.empty:
        return {}
    tables = order.tables
    chosen = set(tables)
    filtered = filtered_tables(schema, tables, spec)
    frames: dict[str, pa.Table] = {}
    for name in [t for t in tables if t in filtered]:
        table = schema.tables[name]
        if not table.primary_key:
            raise JaneDoeInputError("a table without a primary key cannot be subsetted", where=name)
        needed = list(table.primary_key)
        for fk in table.foreign_keys:
            if fk.referred_table in filtered:
                needed += list(fk.columns)
        for fk in schema.referencing(name):
            if fk.table in chosen:
                needed += list(fk.referred_columns)
        needed = list(dict.fromkeys(needed))
        extra = [ExtraColumn(f"CASE WHEN ({spec.where[name]}) THEN 1 ELSE 0 END", SEED_COLUMN, pa.int64())] if (
            name in spec.where
        ) else []
        batches = list(reader.read_batches(table, columns=needed, batch_size=100_000, extra=extra))
        fields = [pa.field(c, table.column(c).arrow_type) for c in needed]
        fields += [pa.field(e.name, e.arrow_type) for e in extra]
        frames[name] = pa.Table.from_batches(batches, schema=pa.schema(fields))
    kept: dict[str, np.ndarray] = {}
    for name in frames:
        frame = frames[name]
        mask = np.ones(frame.num_rows, dtype=bool)
        if name in spec.where:
            mask &= pc.fill_null(pc.equal(_column(frame, SEED_COLUMN), 1), False).to_numpy(zero_copy_only=False)
        if name in spec.sample:
            rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
            mask &= rng.random(frame.num_rows) < spec.sample[name]
        kept[name] = mask
    # Downward: seed tables first, then the rest in dependency order; a row whose reference to an already
    # decided table was dropped is dropped too. References that close a cycle are settled by the closure below.
    seeded = set(spec.where) | set(spec.sample)
    decided: set[str] = set()
    for name in [t for t in tables if t in seeded] + [t for t in tables if t in frames and t not in seeded]:
        for fk in schema.tables[name].foreign_keys:
            if fk.referred_table in decided and fk.referred_table != name:
                kept[name] &= _reference_survives(frames, kept, fk)
        decided.add(name)
    # Upward closure: bring along every row a kept row references, until nothing changes.
    references = [fk for name in frames for fk in schema.tables[name].foreign_keys if fk.referred_table in frames]
    changed = True
    while changed:
        changed = False
        for fk in references:
            child_keys = key_strings(frames[fk.table], fk.columns).filter(pa.array(kept[fk.table])).drop_null()
            if len(child_keys) == 0:
                continue
            parent_keys = key_strings(frames[fk.referred_table], fk.referred_columns)
            wanted = pc.fill_null(pc.is_in(parent_keys, value_set=pc.unique(child_keys)), False)
            wanted = wanted.to_numpy(zero_copy_only=False)
            added = wanted & ~kept[fk.referred_table]
            if added.any():
                kept[fk.referred_table] |= added
                changed = True
    return {
        name: key_strings(frames[name], schema.tables[name].primary_key).filter(pa.array(kept[name]))
        for name in frames
    }


def _reference_survives(frames: dict[str, pa.Table], kept: dict[str, np.ndarray], fk) -> np.ndarray:
    child = key_strings(frames[fk.table], fk.columns)
    parent = key_strings(frames[fk.referred_table], fk.referred_columns).filter(pa.array(kept[fk.referred_table]))
    survives = pc.or_kleene(pc.is_null(child), pc.is_in(child, value_set=pc.unique(parent)))
    return pc.fill_null(survives, False).to_numpy(zero_copy_only=False)


def keep_filter(batch: pa.RecordBatch, primary_key: tuple[str, ...], kept_keys: pa.Array) -> pa.Array:
    return pc.fill_null(pc.is_in(key_strings(batch, primary_key), value_set=kept_keys), False)
