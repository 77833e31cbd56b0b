"""Which columns of a policy's table identify people, and whether an output table has one (under any spelling)."""

from janedoe.detection import match_header, normalize_header

# Rules that hide who a value belongs to: the column is an identifier (or a key) the data owner masks.
IDENTIFYING_RULES = frozenset({
    "partial", "partial_email", "fake", "pseudonymize", "hash", "random_string", "random_id", "random_id_int",
    "random_phone", "null", "constant", "regex_replace", "redact", "keyed_permutation",
})
# Header kinds that name a person or a key to one, whatever rule (even keep) the policy gives the column.
IDENTIFYING_KINDS = frozenset({
    "email", "credential", "user_name", "first_name", "last_name", "name", "phone", "national_id", "tax_id", "iban",
    "card", "ip", "address", "birth_date", "free_text",
})


def identifier_columns(table_policy) -> frozenset[str]:
    """The lower-cased columns of a janedoe.policy TablePolicy that identify people: masked by a rule that hides
    identity, or named like personal data. Quasi-identifiers the policy generalises or noises (age, city, salary)
    are not included: aggregates of them are what analyses release."""
    if table_policy is None:
        return frozenset()
    found = set()
    for name, column in table_policy.columns.items():
        header = match_header(name)
        if column.mask.mask in IDENTIFYING_RULES or (header is not None and header.kind in IDENTIFYING_KINDS):
            found.add(name.lower())
    return frozenset(found)


def compact_name(name: str) -> str:
    """'E-Mail', 'e_mail' and 'EMail' alike: case, accents and separators dropped."""
    return normalize_header(name).replace(" ", "")


def identifier_column_hits(column_names: list[str], identifiers: frozenset[str]) -> list[tuple[int, str]]:
    """(position, policy name) of each output column named as an identifier column."""
    wanted = {compact_name(name): name for name in identifiers if compact_name(name)}
    return [(i, wanted[compact_name(name)]) for i, name in enumerate(column_names) if compact_name(name) in wanted]
