"""The masking rule suggested for each kind of personal data, and whether it suits a column's Arrow type.

Rules are plain policy mappings (`{"mask": ...}`), so this brick needs nothing from the policy brick; `policy init`
and `db scan` write them as they are.
"""

from typing import Any

import pyarrow as pa

RULES: dict[str, dict[str, Any]] = {
    "email": {"mask": "pseudonymize", "kind": "email"},
    "credential": {"mask": "null"},
    "user_name": {"mask": "pseudonymize", "kind": "user_name"},
    "first_name": {"mask": "pseudonymize", "kind": "first_name"},
    "last_name": {"mask": "pseudonymize", "kind": "last_name"},
    "name": {"mask": "pseudonymize", "kind": "name"},
    "birth_date": {"mask": "generalize", "to": "year"},
    "phone": {"mask": "pseudonymize", "kind": "phone_number"},
    "national_id": {"mask": "pseudonymize", "kind": "ssn"},
    "tax_id": {"mask": "hash", "length": 16},
    "iban": {"mask": "pseudonymize", "kind": "iban"},
    "card": {"mask": "partial", "prefix": 0, "padding": "XXXXXXXXXXXX", "suffix": 4},
    "ip": {"mask": "hash"},
    "address": {"mask": "pseudonymize", "kind": "street_address"},
    "postal_code": {"mask": "partial", "prefix": 2, "padding": "xxx", "suffix": 0},
    "city": {"mask": "pseudonymize", "kind": "city"},
    "gender": {"mask": "shuffle"},
    "salary": {"mask": "noise", "ratio": 0.1},
    "balance": {"mask": "noise", "ratio": 0.1},
    "free_text": {"mask": "redact"},
    "age": {"mask": "generalize", "step": 10},
    "geo": {"mask": "noise", "ratio": 0.001},
}

# Faker locales whose `ssn` provider writes that country's identifier, so pseudonyms keep the format.
NATIONAL_ID_LOCALES = {"fr_nir": "fr_FR", "it_cf": "it_IT", "nl_bsn": "nl_NL"}

# A text birth date in day.month.year (or month/day/year) order: keep only the year.
_YEAR_OF_TEXT_DATE = {
    "dmy": {"mask": "regex_replace", "pattern": r"^\s*\d{1,2}[./-]\d{1,2}[./-](\d{4}).*$", "replacement": r"\1"},
    "mdy": {"mask": "regex_replace", "pattern": r"^\s*\d{1,2}[./-]\d{1,2}[./-](\d{4}).*$", "replacement": r"\1"},
    "ymd": {"mask": "regex_replace", "pattern": r"^\s*(\d{4})[./-].*$", "replacement": r"\1"},
}


def rule_for(kind: str, arrow_type: pa.DataType, detail: str = "") -> dict[str, Any] | None:
    """The rule for `kind` on a column of `arrow_type`, or None when that rule cannot apply to the type."""
    rule = dict(RULES[kind])
    if kind == "national_id" and detail in NATIONAL_ID_LOCALES:
        rule["locale"] = NATIONAL_ID_LOCALES[detail]
    if kind == "birth_date" and detail in _YEAR_OF_TEXT_DATE:
        rule = dict(_YEAR_OF_TEXT_DATE[detail])
    return rule if fits(rule, arrow_type) else None


def fits(rule: dict[str, Any], arrow_type: pa.DataType) -> bool:
    mask = rule["mask"]
    text = pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or (
        pa.types.is_dictionary(arrow_type) and pa.types.is_string(arrow_type.value_type)
    )
    number = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)
    if mask == "generalize":
        return number if "step" in rule else (text or pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type))
    if mask == "noise":
        return number
    if mask in ("pseudonymize", "partial", "redact", "regex_replace"):
        return text
    return not pa.types.is_null(arrow_type)
