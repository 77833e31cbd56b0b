"""Where the key for pseudonyms, hashes and permutations comes from: an environment variable or a file it names.

Secrets never come from the policy file or the command line, and never appear in a message.
"""

import os
from pathlib import Path

from janedoe.errors import JaneDoeInputError
from janedoe.policy import (
    DrawnRule,
    HashRule,
    KeyedPermutationRule,
    MaskRule,
    Policy,
    PseudonymizeRule,
    parse_mask_rule,
)

KEYED_RULES = (PseudonymizeRule, HashRule, KeyedPermutationRule)
MIN_SECRET_BYTES = 16


def load_secret(policy: Policy) -> bytes | None:
    """The secret from $<secret_env>, else from the file named by $<secret_env>_FILE, else None."""
    name = policy.secret_env
    value = os.environ.get(name)
    if value:
        return value.encode("utf-8")
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            data = Path(file_name).read_bytes().rstrip(b"\r\n")
        except OSError as error:
            raise JaneDoeInputError(
                f"cannot read the secret file named by {name}_FILE ({error.strerror})", where=f"${name}_FILE"
            ) from None
        if not data:
            raise JaneDoeInputError(f"the secret file named by {name}_FILE is empty", where=f"${name}_FILE")
        return data
    return None


def rule_needs_secret(rule: MaskRule) -> bool:
    """Keyed rules, and random rules unless they draw afresh (their draws are keyed by the secret)."""
    return isinstance(rule, KEYED_RULES) or (isinstance(rule, DrawnRule) and not rule.fresh)


def check_secret_length(secret: bytes | None, policy: Policy) -> None:
    """A short secret can be guessed, and with it every pseudonym, hash and draw: refuse it."""
    if secret is not None and len(secret) < MIN_SECRET_BYTES:
        env = policy.secret_env
        raise JaneDoeInputError(
            f"the secret is shorter than {MIN_SECRET_BYTES} bytes; use at least 32 random bytes "
            f"(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')",
            where=f"${env}",
        )


def policy_needs_secret(policy: Policy, table: str | None = None) -> bool:
    """Whether masking `table` (or any table when None), including any role's view of it, needs the secret."""
    tables = [table] if table is not None else list(policy.tables)
    for name in tables:
        table_policy = policy.tables.get(name)
        if table_policy and any(rule_needs_secret(column.mask) for column in table_policy.columns.values()):
            return True
        for role in (policy.roles or {}).values():
            if any(rule_needs_secret(parse_mask_rule(rule)) for rule in role.tables.get(name, {}).values()):
                return True
    return False


def missing_secret_error(policy: Policy, where: str, rule_name: str) -> JaneDoeInputError:
    env = policy.secret_env
    return JaneDoeInputError(
        f"rule {rule_name!r} needs a secret: set the environment variable {env} (or {env}_FILE to a file holding it)",
        where=where,
    )


def require_secret(policy: Policy, table: str) -> bytes | None:
    """The secret when masking `table` needs one (a user error if it is not set), else None; reads no data."""
    table_policy = policy.tables.get(table)
    for name, column in (table_policy.columns if table_policy else {}).items():
        if rule_needs_secret(column.mask):
            secret = load_secret(policy)
            if not secret:
                raise missing_secret_error(policy, f"tables.{table}.columns.{name}", column.mask.mask)
            return secret
    return None
