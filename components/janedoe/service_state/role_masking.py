"""Which masker a role gets for a dataset's table: raw, the table's default rules with the role's overrides, or none.

A role the policy does not name gets nothing: RoleNotAllowedError (the API answers 403).
"""

from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.masking import build_table_masker, load_secret
from janedoe.policy import role_rules


class RoleNotAllowedError(JaneDoeInputError):
    """The policy gives this role no view of the data."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="role_not_allowed")


def role_masker(policy, table_name: str, schema, role: str, *, secret=None):
    """A TableMasker for what `role` may see of `table_name`, or None when the role sees raw values."""
    try:
        rules = role_rules(policy, role, table_name)
    except NotFoundError:
        raise RoleNotAllowedError("the dataset's policy gives this role no access", where=f"roles.{role}") from None
    if rules is None:
        return None
    if secret is None:
        secret = load_secret(policy)
    return build_table_masker(policy, table_name, schema, secret=secret, rules=rules)


def check_every_role(policy, table_name: str, schema) -> None:
    """Builds the default masker and each role's, so a policy that cannot mask this data fails at registration."""
    secret = load_secret(policy)
    build_table_masker(policy, table_name, schema, secret=secret)
    for role in (policy.roles or {}):
        role_masker(policy, table_name, schema, role, secret=secret)
