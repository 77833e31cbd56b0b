"""Which table of the policy a command works on: --table, else the input's name, else the only one with the section."""

from janedoe.errors import JaneDoeInputError


def table_with_section(policy, table: str | None, input_name: str, section: str, where: str):
    """(name, table policy) of the table to use; its `section` (dp, synthetic, k_anonymity) must be set."""
    if table is None:
        with_section = [name for name, entry in policy.tables.items() if getattr(entry, section) is not None]
        if input_name in with_section:
            table = input_name
        elif len(with_section) == 1:
            table = with_section[0]
        else:
            raise JaneDoeInputError(f"name the policy table with --table (no single table has a {section}: section)",
                                    where=where)
    if table not in policy.tables:
        known = ", ".join(sorted(policy.tables)) or "none"
        raise JaneDoeInputError(f"table {table!r} is not in the policy (its tables: {known})", where=where)
    entry = policy.tables[table]
    if getattr(entry, section) is None:
        raise JaneDoeInputError(f"table {table!r} has no {section}: section", where=f"{where}: tables.{table}")
    return table, entry
