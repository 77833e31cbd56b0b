"""The policy file's models: tables of columns, each column with one masking rule plus other areas' fields.

A column is written flat in YAML (`ssn: {mask: partial, prefix: 0, ...}`): the rule's parameters sit next to the
column's other fields (role, hierarchy, bounds, ...), so the column model splits them apart before validation.
"""

from typing import Any, Literal

from janedoe.errors import NotFoundError
from janedoe.policy.dp_section import BoundsColumnFields, DpSection
from janedoe.policy.kanon_section import KAnonymityColumnFields, KAnonymitySection
from janedoe.policy.mask_rules import KeepRule, MaskRule
from janedoe.policy.roles_section import RoleSection
from janedoe.policy.synthetic_section import (
    SyntheticColumnFields,
    SyntheticRelation,
    SyntheticSection,
    relation_problem,
)
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

MASK_RULE = TypeAdapter(MaskRule)


def rule_input(value: Any) -> Any:
    """A rule as written ('hash', {mask: hash}, {mask: null}) in the dict form the MaskRule union validates.

    A column written with no value (`notes:`, `notes: ~`, `notes: null`, `notes: {}`) gets the null rule: reading an
    empty entry as `keep` would copy every original value while the policy looks as if it masks the column.
    """
    if value is None or value == {}:
        return {"mask": "null"}
    if isinstance(value, str):
        return {"mask": value}
    if isinstance(value, dict) and "mask" in value and value["mask"] is None:
        return {**value, "mask": "null"}
    if isinstance(value, dict) and "mask" not in value:
        return {"mask": "keep", **value}
    return value


class ColumnPolicy(KAnonymityColumnFields, BoundsColumnFields, SyntheticColumnFields):
    """One column: its masking rule (default keep) and the fields other areas read (role, hierarchy, bounds...)."""

    model_config = ConfigDict(extra="forbid")
    mask: MaskRule = Field(default_factory=KeepRule)

    @model_validator(mode="before")
    @classmethod
    def _split_rule_from_column_fields(cls, data: Any) -> Any:
        if isinstance(data, BaseModel):
            return data
        data = rule_input(data)
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("mask"), BaseModel):
            return data
        own = {name for name in cls.model_fields if name != "mask"}
        column = {key: value for key, value in data.items() if key in own}
        column["mask"] = {key: value for key, value in data.items() if key not in own}
        return column

    @model_serializer(mode="wrap")
    def _flatten(self, handler) -> dict[str, Any]:
        dumped = handler(self)
        rule = dumped.pop("mask")
        flat = {**rule, **dumped}
        return {key: value for key, value in flat.items() if value is not None}


class TablePolicy(BaseModel):
    """One table's columns and the sections other areas read (k_anonymity, dp, synthetic)."""

    model_config = ConfigDict(extra="forbid")
    columns: dict[str, ColumnPolicy] = Field(default_factory=dict)
    k_anonymity: KAnonymitySection | None = None
    dp: DpSection | None = None
    synthetic: SyntheticSection | None = None
    encoding: str | None = None  # the text encoding of the table's CSV / JSON Lines files (default UTF-8)

    @field_validator("columns", mode="before")
    @classmethod
    def _empty_columns(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        import codecs

        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown text encoding {value!r}") from None
        return value


class Policy(BaseModel):
    """A whole policy file."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    secret_env: str = Field(default="JANEDOE_SECRET", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    default: Literal["error", "keep", "null"] = "error"
    tables: dict[str, TablePolicy] = Field(default_factory=dict)
    roles: dict[str, RoleSection] | None = None
    # parent and child tables synthesized together (`janedoe synth fit-related`)
    relations: list[SyntheticRelation] | None = None

    @model_validator(mode="after")
    def _relations_name_tables(self):
        problem = relation_problem(self.tables, self.relations or [])
        if problem is not None:
            path, message = problem
            raise PydanticCustomError("policy_field", "{message}", {"path": path, "message": message})
        return self

    @model_validator(mode="after")
    def _role_rules_are_mask_rules(self):
        for role_name, role in (self.roles or {}).items():
            for table_name, columns in role.tables.items():
                if table_name not in self.tables:
                    raise PydanticCustomError(
                        "role_rule",
                        "{path}: {message}",
                        {"path": f"{role_name}.tables.{table_name}", "message": "table is not in the policy's tables"},
                    )
                for column_name, rule in columns.items():
                    try:
                        MASK_RULE.validate_python(rule_input(rule))
                    except ValidationError as error:
                        first = error.errors()[0]
                        raise PydanticCustomError(
                            "role_rule",
                            "{path}: {message}",
                            {
                                "path": f"{role_name}.tables.{table_name}.{column_name}",
                                "loc": first["loc"],
                                "type": first["type"],
                                "ctx": first.get("ctx") or {},
                                "message": first["msg"],
                            },
                        ) from None
        return self


def parse_mask_rule(value: Any) -> MaskRule:
    """A MaskRule from its written form ('hash' or {mask: partial, prefix: 1, ...})."""
    return MASK_RULE.validate_python(rule_input(value))


def role_rules(policy: Policy, role: str, table: str) -> dict[str, MaskRule] | None:
    """Per-column rules a role sees for a table: the columns' own rules overridden by the role's; None means raw."""
    if policy.roles is None or role not in policy.roles:
        raise NotFoundError(f"role {role!r} is not in the policy")
    section = policy.roles[role]
    if section.raw:
        return None
    table_policy = policy.tables.get(table)
    rules = {name: column.mask for name, column in (table_policy.columns if table_policy else {}).items()}
    for column, rule in section.tables.get(table, {}).items():
        rules[column] = parse_mask_rule(rule)
    return rules
