"""Everything decided before a single row moves: tables, order, rules, maskers, target schema, fingerprint.

Shared by `db copy` and `db dump`, so both refuse a bad policy before they touch an output.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import sqlalchemy as sa
from janedoe.database_access import DatabaseUrl
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.dependency_order import TableOrder, order_tables
from janedoe.sqldb.key_rules import resolve_rules
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.schema_model import DatabaseSchema
from janedoe.sqldb.subset import SubsetSpec, parse_subset_options
from janedoe.sqldb.target_schema import build_target_metadata, serial_columns


@dataclass
class CopyPlan:
    source: DatabaseUrl
    schema: DatabaseSchema
    order: TableOrder
    maskers: dict
    rules: dict
    output_schemas: dict[str, pa.Schema]
    metadata: sa.MetaData
    serials: list[tuple[str, str]]
    subset: SubsetSpec
    fingerprint: str
    seed: int


def make_plan(
    policy,
    source: DatabaseUrl,
    target_dialect: str,
    *,
    tables: list[str] | None = None,
    where: Sequence[str] = (),
    sample: Sequence[str] = (),
    seed: int = 0,
    policy_name: str = "policy",
) -> CopyPlan:
    from janedoe.masking import build_table_masker, load_secret
    from janedoe.policy import TablePolicy

    schema = reflect_schema(source)
    if not schema.tables:
        raise JaneDoeInputError("the source database has no tables", where=source.redacted)
    chosen = _chosen_tables(schema, tables)
    order = order_tables(schema, chosen)
    subset = parse_subset_options(list(where), list(sample), order.tables)
    rules = resolve_rules(policy, schema, order.tables, policy_name=policy_name)
    secret = load_secret(policy)
    missing = {name: TablePolicy() for name in order.tables if name not in policy.tables}
    if missing:  # tables the policy leaves out follow its `default`, like its unnamed columns do
        policy = policy.model_copy(update={"tables": {**policy.tables, **missing}})
    maskers = {}
    for name in order.tables:
        maskers[name] = build_table_masker(
            policy, name, schema.tables[name].arrow_schema(), secret=secret, seed=seed, rules=rules[name]
        )
    output_schemas = {name: maskers[name].output_schema for name in order.tables}
    metadata = build_target_metadata(schema, order.tables, output_schemas, target_dialect, rules)
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "policy": policy.model_dump(mode="json"),
                "source": source.redacted,
                "tables": order.tables,
                "subset": subset.describe(),
                "seed": seed,
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    return CopyPlan(
        source=source,
        schema=schema,
        order=order,
        maskers=maskers,
        rules=rules,
        output_schemas=output_schemas,
        metadata=metadata,
        serials=serial_columns(schema, order.tables, output_schemas),
        subset=subset,
        fingerprint=fingerprint,
        seed=seed,
    )


def _chosen_tables(schema: DatabaseSchema, tables: list[str] | None) -> list[str]:
    if not tables:
        return sorted(schema.tables)
    chosen = []
    for name in tables:
        if name not in schema.tables:
            raise JaneDoeInputError(f"no table {name!r} in the source database", where="--tables")
        chosen.append(name)
    missing = sorted(
        {fk.referred_table for name in chosen for fk in schema.tables[name].foreign_keys} - set(chosen)
    )
    if missing:
        raise JaneDoeInputError(
            f"the chosen tables reference tables left out ({', '.join(missing)}): add them to --tables",
            where="--tables",
        )
    return chosen
