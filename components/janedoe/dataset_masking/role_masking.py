"""Which masker a role gets for a dataset's table: raw, the table's default rules with the role's overrides, or none.

A role the policy does not name gets nothing: RoleNotAllowedError (the API answers 403). Registered datasets are masked
with the server's own key, whatever variable their policy's `secret_env` names.
"""

from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.masking import build_table_masker, load_secret
from janedoe.policy import parse_mask_rule, parse_policy, role_rules

SERVER_SECRET_ENV = "JANEDOE_SECRET"


class RoleNotAllowedError(JaneDoeInputError):
    """The policy gives this role no view of the data."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="role_not_allowed")


def parse_dataset_policy(policy_text: str):
    """A policy for a registered dataset: `secret_env` may only name the server's key, and no rule draws afresh.

    Any other variable of the server (its settings carry the state database's password) would key the hashes that
    every reader of the dataset sees, an offline guessing oracle for that variable. A `fresh` rule would draw anew on
    every export, and a dataset is read again and again: averaging the exports would undo the noise.
    """
    policy = parse_policy(policy_text, "policy")
    if policy.secret_env != SERVER_SECRET_ENV:
        raise JaneDoeInputError(
            f"datasets are masked with the server's key: secret_env must be {SERVER_SECRET_ENV} (or left out)",
            where="policy: secret_env",
        )
    fresh = _fresh_rule(policy)
    if fresh is not None:
        raise JaneDoeInputError(
            "a registered dataset is read many times: `fresh: true` draws would average away; drop `fresh`",
            where=f"policy: {fresh}",
        )
    return policy


def _fresh_rule(policy) -> str | None:
    """Where the first rule with `fresh: true` is, default rules and roles' overrides alike; None without one."""
    for table_name, table in policy.tables.items():
        for column, settings in table.columns.items():
            if getattr(settings.mask, "fresh", False):
                return f"tables.{table_name}.columns.{column}"
    for role_name, role in (policy.roles or {}).items():
        for table_name, rules in role.tables.items():
            for column, rule in rules.items():
                if getattr(parse_mask_rule(rule), "fresh", False):
                    return f"roles.{role_name}.tables.{table_name}.{column}"
    return None


def server_secret(policy) -> bytes | None:
    """The server's key ($JANEDOE_SECRET, or the file $JANEDOE_SECRET_FILE names); never another variable."""
    return load_secret(policy.model_copy(update={"secret_env": SERVER_SECRET_ENV}))


def role_masker(policy, table_name: str, schema, role: str, *, secret=None):
    """A TableMasker for what `role` may see of `table_name`, or None when the role sees raw values."""
    try:
        rules = role_rules(policy, role, table_name)
    except NotFoundError:
        raise RoleNotAllowedError("the dataset's policy gives this role no access", where=f"roles.{role}") from None
    if rules is None:
        return None
    if secret is None:
        secret = server_secret(policy)
    return build_table_masker(policy, table_name, schema, secret=secret, rules=rules)


def check_every_role(policy, table_name: str, schema) -> None:
    """Builds the default masker and each role's, so a policy that cannot mask this data fails at registration."""
    secret = server_secret(policy)
    build_table_masker(policy, table_name, schema, secret=secret)
    for role in (policy.roles or {}):
        role_masker(policy, table_name, schema, role, secret=secret)
