"""`db scan`: a starting policy for a whole database, every table and column listed with a suggested rule and why.

Foreign key columns get the rule of the column they reference (the copy requires it); referenced keys that look
personal get a rule that keeps them one-to-one.
"""

import pyarrow as pa
import yaml
from janedoe.database_access import parse_database_url
from janedoe.sqldb.dependency_order import order_tables
from janedoe.sqldb.personal_data import Suggestion, suggest_rule
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.snapshot_reader import SnapshotReader


def scan_database(url_text: str, *, sample_rows: int = 500, secret_env: str = "JANEDOE_SECRET") -> str:
    """The policy YAML text for the database at `url_text` (read through a read-only snapshot)."""
    url = parse_database_url(url_text, where="URL")
    schema = reflect_schema(url)
    order = order_tables(schema)
    suggestions: dict[tuple[str, str], Suggestion] = {}
    with SnapshotReader(url) as reader:
        for name in order.tables:
            table = schema.tables[name]
            sample = next(iter(reader.read_batches(table, batch_size=sample_rows, limit=sample_rows)), None)
            unique_columns = {u.columns[0] for u in table.uniques if len(u.columns) == 1}
            if len(table.primary_key) == 1:
                unique_columns.add(table.primary_key[0])
            referenced = {c for fk in schema.referencing(name) for c in fk.referred_columns}
            for column in table.columns:
                values = sample.column(column.name) if sample is not None else pa.array([], column.arrow_type)
                suggestion = suggest_rule(
                    column.name, values, nullable=column.nullable, unique=column.name in unique_columns
                )
                if column.name in referenced and suggestion.rule["mask"] not in ("keep", "hash"):
                    reason = suggestion.reason + "; referenced by a foreign key, so hash (one-to-one, same everywhere)"
                    suggestion = Suggestion({"mask": "hash"}, reason)
                suggestions[(name, column.name)] = suggestion
    for _ in range(len(schema.tables) + 1):  # foreign keys copy their referenced column's rule, along chains
        for name in order.tables:
            for fk in schema.tables[name].foreign_keys:
                for column_name, referred in zip(fk.columns, fk.referred_columns, strict=False):
                    parent = suggestions[(fk.referred_table, referred)]
                    reason = f"foreign key to {fk.referred_table}.{referred}: same rule keeps joins"
                    suggestions[(name, column_name)] = Suggestion(dict(parent.rule), reason)
    return render_policy(order.tables, schema, suggestions, url.redacted, secret_env)


def render_policy(tables, schema, suggestions, source: str, secret_env: str) -> str:
    lines = [
        f"# Starting policy written by `janedoe db scan` for {source}.",
        "# Review every rule: suggestions come from column names and a sample of values.",
        "version: 1",
        f"secret_env: {secret_env}",
        "default: error",
        "tables:",
    ]
    for name in tables:
        lines.append(f"  {_key(name)}:")
        lines.append("    columns:")
        for column in schema.tables[name].columns:
            suggestion = suggestions[(name, column.name)]
            rule = yaml.safe_dump(suggestion.rule, default_flow_style=True, sort_keys=False, width=10_000,
                                  allow_unicode=True).strip()
            lines.append(f"      {_key(column.name)}: {rule}  # {suggestion.reason}")
    return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    return yaml.safe_dump(name, default_flow_style=True, allow_unicode=True).strip().removesuffix("...").strip()
