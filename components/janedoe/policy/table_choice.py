"""Which table of a policy a command or a request works on, chosen one way everywhere (CLI, Spark CLI, API)."""

from typing import Literal

from janedoe.errors import JaneDoeInputError
from janedoe.policy.model import Policy, TablePolicy

Section = Literal["dp", "synthetic", "k_anonymity"]


def choose_table(
    policy: Policy,
    table: str | None,
    input_name: str,
    *,
    section: Section | None = None,
    where: str,
    option: str = "--table",
) -> tuple[str, TablePolicy]:
    """(name, table policy): `table` when given; else, with no `section`, the input's name; else the input's name if
    that table has the section, else the only table that has it. A named table must exist and have the section.

    `option` is what the caller calls the choice (`--table`, or an API field) in the one-line error."""
    if table is None:
        table = input_name if section is None else _only_table_with(policy, section, input_name, where, option)
    if table not in policy.tables:
        known = ", ".join(sorted(policy.tables)) or "none"
        raise JaneDoeInputError(
            f"table {table!r} is not in the policy (its tables: {known}); name one with {option}", where=where
        )
    entry = policy.tables[table]
    if section is not None and getattr(entry, section) is None:
        raise JaneDoeInputError(f"table {table!r} has no {section}: section", where=f"{where}: tables.{table}")
    return table, entry


def _only_table_with(policy: Policy, section: Section, input_name: str, where: str, option: str) -> str:
    with_section = [name for name, entry in policy.tables.items() if getattr(entry, section) is not None]
    if input_name in with_section:
        return input_name
    if len(with_section) == 1:
        return with_section[0]
    raise JaneDoeInputError(f"name the policy table with {option} (no single table has a {section}: section)",
                            where=where)
