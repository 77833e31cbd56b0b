"""Which columns look personal, judged by their names and by a sample of their values, and what rule to suggest.

Each suggestion carries its reason: `db scan` writes it as a comment so a reviewer can see why a rule is there.
"""

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
PHONE = r"\+?\(?\d{1,4}\)?[\s.-]?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?"
SSN = r"\d{3}-\d{2}-\d{4}"
IBAN = r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}"
IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
CARD = r"(?:\d[ -]?){13,19}"

# (name pattern, rule, reason); the first match wins, so specific names come before general ones.
NAME_RULES: list[tuple[str, dict[str, Any], str]] = [
    (r"e?_?mail", {"mask": "pseudonymize", "kind": "email"}, "name says email address"),
    (r"(first|given|fore)_?name", {"mask": "pseudonymize", "kind": "first_name"}, "name says first name"),
    (r"(last|family|sur)_?name|surname", {"mask": "pseudonymize", "kind": "last_name"}, "name says last name"),
    (r"(user|login)_?name|username|login", {"mask": "pseudonymize", "kind": "user_name"}, "name says user name"),
    (r"(full_?|customer_?|contact_?|person_?|display_?)?name", {"mask": "pseudonymize", "kind": "name"},
     "name says person name"),
    (r"(phone|mobile|cell|telephone|tel|fax)(_?(number|no))?", {"mask": "pseudonymize", "kind": "phone_number"},
     "name says phone number"),
    (r"ssn|social_?security(_?number)?|national_?id|tax_?id", {"mask": "pseudonymize", "kind": "ssn"},
     "name says national identifier"),
    (r"iban|account_?(number|no)|bank_?account", {"mask": "pseudonymize", "kind": "iban"}, "name says bank account"),
    (r"(credit_?)?card_?(number|no)|cc_?number|pan", {"mask": "partial", "prefix": 0, "padding": "XXXXXXXXXXXX",
                                                       "suffix": 4}, "name says payment card number"),
    (r"(street|address|addr)(_?line)?_?\d?|street_?address", {"mask": "pseudonymize", "kind": "street_address"},
     "name says street address"),
    (r"city|town", {"mask": "pseudonymize", "kind": "city"}, "name says city"),
    (r"zip|zip_?code|post_?code|postal_?code", {"mask": "partial", "prefix": 2, "padding": "xxx", "suffix": 0},
     "name says postal code"),
    (r"ip|ip_?address|client_?ip", {"mask": "hash"}, "name says IP address"),
    (r"(date_?of_?)?birth(_?date|day)?|dob|birthdate", {"mask": "generalize", "to": "year"}, "name says birth date"),
    (r"password|passwd|pwd|secret|token|api_?key", {"mask": "null"}, "name says credential"),
    (r"notes?|comments?|remarks?|message|body|free_?text|description", {"mask": "null"},
     "name says free text, which often carries personal data"),
    (r"salary|income|wage", {"mask": "noise", "ratio": 0.1}, "name says income"),
]

# (pattern that a whole value matches, rule, reason)
VALUE_RULES: list[tuple[str, dict[str, Any], str]] = [
    (EMAIL, {"mask": "pseudonymize", "kind": "email"}, "values look like email addresses"),
    (SSN, {"mask": "pseudonymize", "kind": "ssn"}, "values look like social security numbers"),
    (IBAN, {"mask": "pseudonymize", "kind": "iban"}, "values look like IBANs"),
    (IPV4, {"mask": "hash"}, "values look like IP addresses"),
    (PHONE, {"mask": "pseudonymize", "kind": "phone_number"}, "values look like phone numbers"),
]

# patterns found inside free text
EMBEDDED_RULES: list[tuple[str, str]] = [(EMAIL, "email addresses"), (PHONE, "phone numbers"), (SSN, "SSNs")]


@dataclass
class Suggestion:
    rule: dict[str, Any]
    reason: str


def suggest_rule(name: str, values: pa.Array, *, nullable: bool, unique: bool) -> Suggestion:
    """The rule for one column from its name and a sample of its values; `keep` when nothing looks personal."""
    suggestion = _by_name(name, values.type) or _by_values(values)
    if suggestion is None:
        return Suggestion({"mask": "keep"}, "nothing personal in the name or the sampled values")
    rule = dict(suggestion.rule)
    if rule["mask"] == "null" and not nullable:
        rule = {"mask": "constant", "value": "[redacted]"} if pa.types.is_string(values.type) else {"mask": "keep"}
        suggestion.reason += "; NOT NULL, so a constant instead of null" if rule["mask"] == "constant" else (
            "; NOT NULL and not text: review by hand"
        )
    if rule["mask"] == "pseudonymize" and unique:
        rule["unique"] = True
        suggestion.reason += "; unique constraint, so unique pseudonyms"
    return Suggestion(rule, suggestion.reason)


def _by_name(name: str, arrow_type: pa.DataType) -> Suggestion | None:
    lowered = name.lower()
    for pattern, rule, reason in NAME_RULES:
        if re.fullmatch(pattern, lowered):
            if not _rule_fits_type(rule, arrow_type):
                continue
            return Suggestion(dict(rule), reason)
    return None


def _rule_fits_type(rule: dict[str, Any], arrow_type: pa.DataType) -> bool:
    mask = rule["mask"]
    if mask == "generalize":
        return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)
    if mask == "noise":
        return pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type)
    if mask in ("pseudonymize", "partial"):
        return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    return True


def _by_values(values: pa.Array) -> Suggestion | None:
    if not pa.types.is_string(values.type):
        return None
    present = values.drop_null()
    present = present.filter(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(present)), 0))
    if len(present) == 0:
        return None
    for pattern, rule, reason in VALUE_RULES:
        share = pc.mean(pc.cast(pc.match_substring_regex(present, f"^\\s*(?:{pattern})\\s*$"), pa.float64())).as_py()
        if share >= 0.8:
            return Suggestion(dict(rule), f"{reason} ({share:.0%} of sampled values)")
    found = [label for pattern, label in EMBEDDED_RULES if pc.any(pc.match_substring_regex(present, pattern)).as_py()]
    if found:
        return Suggestion({"mask": "null"}, f"free text containing {' and '.join(found)}")
    return None
