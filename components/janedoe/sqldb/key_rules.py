"""Every column's masking rule for a copy, with foreign keys kept valid.

A referencing column must be masked exactly like the column it references (same rule, same parameters, same key),
so a join still finds its row: a foreign key column the policy does not name inherits the referenced column's rule,
and a different rule is refused. A referenced key column must have a rule that maps equal values to equal values
and different values to different values: keep, hash, pseudonymize (with unique: true) or keyed_permutation.
"""

from janedoe.errors import JaneDoeInputError
from janedoe.policy import KeepRule, MaskRule, NullRule
from janedoe.sqldb.neutral_values import not_null_rule
from janedoe.sqldb.schema_model import DatabaseSchema

KEY_SAFE_RULES = ("keep", "hash", "pseudonymize", "keyed_permutation")


def resolve_rules(policy, schema: DatabaseSchema, tables: list[str], *, policy_name: str = "policy") -> dict:
    """{table: {column: rule}} for every column of `tables`; errors name the table and the column."""
    named: dict[tuple[str, str], MaskRule] = {}
    for table_name in tables:
        table_policy = policy.tables.get(table_name)
        columns = table_policy.columns if table_policy is not None else {}
        for column_name, column_policy in columns.items():
            if column_name not in schema.tables[table_name].column_names:
                raise JaneDoeInputError(
                    "column is not in the database", where=f"{policy_name}: tables.{table_name}.columns.{column_name}"
                )
            named[(table_name, column_name)] = column_policy.mask
    rules = dict(named)
    chosen = set(tables)
    foreign_keys = [fk for name in tables for fk in schema.tables[name].foreign_keys if fk.referred_table in chosen]
    # Inherit along chains of references (a -> b -> c) until nothing changes.
    for _ in range(len(foreign_keys) + 1):
        changed = False
        for fk in foreign_keys:
            for column_name, referred in zip(fk.columns, fk.referred_columns, strict=False):
                parent = rules.get((fk.referred_table, referred))
                if parent is None or (fk.table, column_name) in named or (fk.table, column_name) in rules:
                    continue
                rules[(fk.table, column_name)] = parent
                changed = True
        if not changed:
            break
    default = str(policy.default)
    for table_name in tables:
        for column in schema.tables[table_name].columns:
            key = (table_name, column.name)
            if key in rules:
                continue
            if default == "keep":
                rules[key] = KeepRule()
            elif default == "null":  # privacy by default; a NOT NULL column gets its default or a neutral value
                rules[key] = NullRule(mask="null") if column.nullable else not_null_rule(column)
            else:
                raise JaneDoeInputError(
                    "column is not in the policy and the policy's default is 'error'",
                    where=f"{policy_name}: tables.{table_name}.columns.{column.name}",
                )
    for fk in foreign_keys:
        for column_name, referred in zip(fk.columns, fk.referred_columns, strict=False):
            parent_rule = rules[(fk.referred_table, referred)]
            child_rule = rules[(fk.table, column_name)]
            if parent_rule.mask not in KEY_SAFE_RULES:
                raise JaneDoeInputError(
                    f"rule {parent_rule.mask!r} would break the foreign key {fk.label()}: a referenced key needs"
                    f" one of {', '.join(KEY_SAFE_RULES)}",
                    where=f"{policy_name}: tables.{fk.referred_table}.columns.{referred}",
                )
            if parent_rule.when is not None:  # some keys masked, others kept: the tables could disagree
                raise JaneDoeInputError(
                    f"a conditional rule would break the foreign key {fk.label()}: a referenced key is masked the"
                    " same way in every row (drop when)",
                    where=f"{policy_name}: tables.{fk.referred_table}.columns.{referred}.when",
                )
            if child_rule == parent_rule:
                continue
            if child_rule.mask == "null" and schema.tables[fk.table].column(column_name).nullable:
                continue  # dropping the link is allowed: nothing dangles
            raise JaneDoeInputError(
                f"foreign key column must be masked like {fk.referred_table}.{referred} ({parent_rule.mask}), not"
                f" with {child_rule.mask!r}; remove it from the policy to inherit the referenced column's rule",
                where=f"{policy_name}: tables.{fk.table}.columns.{column_name}",
            )
    result: dict[str, dict] = {name: {} for name in tables}
    for (table_name, column_name), rule in rules.items():
        if table_name in result:
            result[table_name][column_name] = rule
    for table_name in tables:
        _check_referenced_keys_have_no_row_key(schema, table_name, result[table_name], policy_name)
    return result


def _check_referenced_keys_have_no_row_key(schema: DatabaseSchema, table_name: str, rules: dict, policy_name: str):
    """A referenced key's pseudonym must be a function of its own value, which the referencing columns also hold.
    (`unique: true` is fine: its pseudonyms are fixed from the set of values of every table sharing the key.)"""
    referenced = {c for fk in schema.referencing(table_name) for c in fk.referred_columns}
    for column in sorted(referenced):
        rule = rules.get(column)
        if getattr(rule, "row_key", None) is not None:
            raise JaneDoeInputError(
                "a column referenced by a foreign key cannot take its value from a row_key (the referencing columns"
                " have no such column): remove row_key",
                where=f"{policy_name}: tables.{table_name}.columns.{column}.row_key",
            )
