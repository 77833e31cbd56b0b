"""Run a policy's `k_anonymity:` section: refuse unmasked identifying columns, mask, then k-anonymize.

Hierarchy files are resolved relative to the policy file; hierarchy rules are built from the masked data.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity.anonymize import AnonymizationConfig, AnonymizationResult, anonymize
from janedoe.k_anonymity.encoding import column_as_text
from janedoe.k_anonymity.hierarchy import (
    Hierarchy,
    date_hierarchy,
    grouping_hierarchy,
    interval_hierarchy,
    mask_right_hierarchy,
    read_hierarchy_csv,
)
from janedoe.k_anonymity.row_order import MIN_SECRET_BYTES
from janedoe.masking import build_table_masker, load_secret, policy_needs_secret
from janedoe.policy import Policy, choose_table


def _where(policy_path: Path, table_name: str, column: str | None = None) -> str:
    path = f"tables.{table_name}.columns.{column}" if column else f"tables.{table_name}.k_anonymity"
    return f"{policy_path}: {path}"


def _hierarchy(spec, table: pa.Table, column: str, policy_path: Path, where: str) -> Hierarchy | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        path = Path(spec)
        if not path.is_absolute():
            path = policy_path.parent / path
        return read_hierarchy_csv(path)
    values = column_as_text(table, column).unique().to_numpy(zero_copy_only=False)
    if hasattr(spec, "interval"):
        return interval_hierarchy(values, spec.interval, source=where)
    if hasattr(spec, "mask_right"):
        return mask_right_hierarchy(values, spec.mask_right, source=where)
    if hasattr(spec, "to"):
        return date_hierarchy(values, spec.to, source=where)
    return grouping_hierarchy(values, spec.groups, source=where)


def kanon_policy_columns(
    policy: Policy, table_name: str, input_columns: list[str], policy_path: str | Path
) -> list[str]:
    """The columns the table's k_anonymity section reads (quasi-identifiers, then sensitive columns), once the
    policy's roles are checked: no identifying column kept as is, every quasi-identifier kept, all in the input."""
    policy_path = Path(policy_path)
    _, table_policy = choose_table(policy, table_name, table_name, section="k_anonymity", where=str(policy_path))
    _check_masking_roles(policy, table_name, policy_path)
    columns = table_policy.columns
    quasi = [name for name, column in columns.items() if column.role == "quasi_identifier"]
    sensitive = [name for name, column in columns.items() if column.role == "sensitive"]
    if not quasi:
        raise JaneDoeInputError("no column has role quasi_identifier", where=_where(policy_path, table_name))
    for name in [*quasi, *sensitive]:
        if name not in input_columns:
            raise JaneDoeInputError("column is not in the input", where=_where(policy_path, table_name, name))
    return [*quasi, *sensitive]


def _check_masking_roles(policy: Policy, table_name: str, policy_path: Path) -> None:
    table_policy = policy.tables.get(table_name)
    if table_policy is None:
        return
    for name, column in table_policy.columns.items():
        if column.role == "identifying" and column.mask.mask == "keep":
            raise JaneDoeInputError(
                "identifying column is kept as is: give it a masking rule (or null) before k-anonymization",
                where=_where(policy_path, table_name, name),
            )
        if column.role == "quasi_identifier" and column.mask.mask != "keep":
            raise JaneDoeInputError(
                "a quasi-identifier must keep its values (mask: keep): k-anonymity generalizes it",
                where=_where(policy_path, table_name, name),
            )


def config_from_policy(
    policy: Policy, table_name: str, table: pa.Table, policy_path: str | Path
) -> AnonymizationConfig:
    """The table's k_anonymity section as an AnonymizationConfig; errors name the policy file and the field."""
    policy_path = Path(policy_path)
    _, table_policy = choose_table(policy, table_name, table_name, section="k_anonymity", where=str(policy_path))
    section = table_policy.k_anonymity
    assert section is not None  # choose_table(section="k_anonymity") refused a table without one
    columns = table_policy.columns
    quasi = [name for name, column in columns.items() if column.role == "quasi_identifier"]
    sensitive = [name for name, column in columns.items() if column.role == "sensitive"]
    if not quasi:
        raise JaneDoeInputError("no column has role quasi_identifier", where=_where(policy_path, table_name))
    for name in [*quasi, *sensitive]:
        if name not in table.column_names:
            raise JaneDoeInputError("column is not in the input", where=_where(policy_path, table_name, name))
    hierarchies = {}
    for name in quasi:
        hierarchy = _hierarchy(columns[name].hierarchy, table, name, policy_path, _where(policy_path, table_name, name))
        if hierarchy is not None:
            hierarchies[name] = hierarchy
    return AnonymizationConfig(
        quasi_identifiers=quasi,
        k=section.k,
        hierarchies=hierarchies,
        sensitive=sensitive,
        l=section.l,
        l_variant=section.l_variant,
        c=section.c,
        t=section.t,
        t_distance=section.t_distance,
        max_suppression=section.max_suppression,
        method=section.method,
        metric=section.metric,
        time_limit_seconds=section.time_limit_seconds,
    )


def anonymize_with_policy(
    policy: Policy,
    table_name: str,
    table: pa.Table,
    policy_path: str | Path,
    *,
    seed: int | None = None,
    secret: bytes | None = None,
) -> AnonymizationResult:
    """Mask the table per the policy's rules, then enforce its k_anonymity section.

    `secret`, when given, is the key (the environment is not read). With a seed, the key also makes the output's
    row order reproducible for its holders; without a key the order is drawn from the OS CSPRNG whatever the seed.
    """
    policy_path = Path(policy_path)
    _check_masking_roles(policy, table_name, policy_path)
    config = config_from_policy(policy, table_name, table, policy_path)
    if secret is None and (seed is not None or policy_needs_secret(policy, table_name)):
        secret = load_secret(policy)
    if secret is not None and seed is not None and len(secret) < MIN_SECRET_BYTES:
        raise JaneDoeInputError(f"the secret is shorter than {MIN_SECRET_BYTES} bytes", where=f"${policy.secret_env}")
    masking_secret = secret if policy_needs_secret(policy, table_name) else None
    masker = build_table_masker(policy, table_name, table.schema, secret=masking_secret, seed=seed)
    masked = masker.mask_table(table)
    result = anonymize(masked, config, secret=secret, seed=seed)
    result.report["table"] = table_name
    result.report["masking_rules"] = dict(masker.rule_names)
    return result
