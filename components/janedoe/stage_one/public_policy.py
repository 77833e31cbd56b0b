"""The public part of a table's policy, for analysts: built field by field from an allow-list, never by filtering a
dump, so a rule argument, a `when:` condition, a role override or a key name can never slip through.

What analysts need to write stage-1 code that runs in stage 2: each column's Arrow type, the public domain the data
owner declared (bounds, categories, bins, nullable), the masking rule's name (so identifier columns are known), the
DP budget settings and how the synthetic data was made.
"""

import pyarrow as pa

_DOMAIN_FIELDS = ("bounds", "categories", "bins", "nullable")
_DP_FIELDS = ("epsilon", "delta", "rho", "user_id", "max_rows_per_user")
_SYNTHETIC_FIELDS = ("method", "epsilon", "delta", "rows")


def _plain(value):
    """YAML-safe plain values (tuples as lists; categories are str, int, float or bool)."""
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def public_policy(table_name: str, table_policy, schema: pa.Schema) -> dict:
    """The allow-listed, publishable part of `table_policy` for the columns of `schema` (see the module)."""
    columns = {}
    for field in schema:
        spec = table_policy.columns.get(field.name)
        entry = {"type": str(field.type)}
        if spec is not None:
            entry["mask"] = spec.mask.mask  # the rule's name only: never its arguments, condition or otherwise rule
            for name in _DOMAIN_FIELDS:
                value = getattr(spec, name)
                if value is not None:
                    entry[name] = _plain(value)
        columns[field.name] = entry
    policy = {"table": table_name, "columns": columns}
    for section_name, fields in (("dp", _DP_FIELDS), ("synthetic", _SYNTHETIC_FIELDS)):
        section = getattr(table_policy, section_name)
        if section is not None:
            values = {name: getattr(section, name) for name in fields}
            policy[section_name] = {name: value for name, value in values.items() if value is not None}
    return policy
