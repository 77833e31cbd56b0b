"""Build one-column maskers straight from rule dicts, the way a policy would."""

import pyarrow as pa
from janedoe.masking import build_table_masker
from janedoe.policy import parse_policy

SECRET = b"test secret, 32 bytes long......"


def policy_for(rules: dict, table: str = "t", default: str = "error"):
    columns = {name: rule for name, rule in rules.items()}
    return parse_policy_dict({"version": 1, "default": default, "tables": {table: {"columns": columns}}})


def parse_policy_dict(data: dict):
    import yaml

    return parse_policy(yaml.safe_dump(data, allow_unicode=True), "test-policy.yaml")


def mask_column(values: pa.Array, rule: dict, *, secret: bytes | None = SECRET, seed: int | None = 1,
                table: str = "t", column: str = "c") -> pa.Array:
    policy = policy_for({column: rule}, table)
    batch = pa.record_batch({column: values})
    masker = build_table_masker(policy, table, batch.schema, secret=secret, seed=seed)
    if masker.needs_prepass:  # unique pseudonyms: the column's values are the whole set
        masker.prepass([batch])
    out = masker.mask_batch(batch).column(0)
    assert out.type == masker.output_schema.field(column).type
    return out
