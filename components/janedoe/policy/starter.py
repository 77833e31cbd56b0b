"""A starting policy for a table: a suggested rule per column from its name and a sample of its values.

Suggestions are heuristics for a human to review, which is why every column gets a comment saying why.
"""

import json
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

VALUE_SHARE = 0.8  # a column "looks like" a kind when this share of its non-null sample values match


@dataclass(frozen=True)
class ColumnSuggestion:
    column: str
    rule: str  # the YAML flow mapping, e.g. "{mask: partial_email}"
    reason: str


_VALUE_PATTERNS = [
    ("email", r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", "{mask: partial_email}", "values look like email addresses"),
    ("ssn", r"^\d{3}-\d{2}-\d{4}$", '{mask: partial, prefix: 0, padding: "***-**-", suffix: 4}',
     "values look like US social security numbers"),
    ("iban", r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$", "{mask: fake, kind: iban}", "values look like IBANs"),
    ("ip", r"^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+:[0-9a-fA-F:]+$", "{mask: fake, kind: ipv4}",
     "values look like IP addresses"),
    ("card", r"^\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}$", '{mask: partial, prefix: 0, padding: "**** ", suffix: 4}',
     "values look like payment card numbers"),
    ("phone", r"^\+?([\s().-]*\d){10,15}[\s().-]*(x\d+)?$", "{mask: pseudonymize, kind: phone_number}",
     "values look like phone numbers"),
]

_NAME_PATTERNS = [
    (r"e-?mail", "{mask: partial_email}", "the name says email address"),
    (r"ssn|social.?security|national.?id|nino|passport", '{mask: partial, prefix: 0, padding: "***-**-", suffix: 4}',
     "the name says national identity number"),
    (r"iban|bank.?account|account.?number", "{mask: fake, kind: iban}", "the name says bank account"),
    (r"credit.?card|card.?number|\bcc\b|\bpan\b", '{mask: partial, prefix: 0, padding: "**** ", suffix: 4}',
     "the name says payment card"),
    (r"phone|mobile|\bcell\b|\bfax\b|\btel", "{mask: pseudonymize, kind: phone_number}", "the name says phone number"),
    (r"first.?name|given.?name|forename", "{mask: pseudonymize, kind: first_name}", "the name says first name"),
    (r"last.?name|sur.?name|family.?name", "{mask: pseudonymize, kind: last_name}", "the name says last name"),
    (r"^(full.?)?name$|customer.?name|person", "{mask: pseudonymize, kind: name}", "the name says a name"),
    (r"birth|\bdob\b|born", "{mask: generalize, to: year}", "the name says date of birth: keep only the year"),
    (r"\bip\b|ip.?addr", "{mask: fake, kind: ipv4}", "the name says IP address"),
    (r"street|address|addr", "{mask: fake, kind: street_address}", "the name says street address"),
    (r"zip|postcode|postal", '{mask: partial, prefix: 2, padding: "***", suffix: 0}', "the name says postal code"),
    (r"password|passwd|secret|token|api.?key", '{mask: "null"}', "the name says a credential"),
    (r"note|comment|remark|description|free.?text|message", '{mask: "null"}',
     "free text can hold anything personal"),
    (r"salary|income|wage|revenue|balance", "{mask: noise, ratio: 0.1}", "the name says an amount about a person"),
    (r"^age$", "{mask: generalize, step: 10}", "an exact age helps re-identify: ten-year ranges"),
    (r"latitude|longitude|^lat$|^lon$|^lng$|geo", "{mask: noise, ratio: 0.001}", "the name says a location"),
]


def _words(name: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.sub(r"[_\-.]+", " ", spaced).lower()


def _suggest_from_values(sample: pa.Array) -> tuple[str, str] | None:
    text = sample.drop_null()
    if pa.types.is_dictionary(text.type):
        text = text.cast(text.type.value_type)
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) or len(text) == 0:
        return None
    text = pc.utf8_trim_whitespace(text)
    for _, pattern, rule, reason in _VALUE_PATTERNS:
        share = pc.sum(pc.match_substring_regex(text, pattern)).as_py() / len(text)
        if share >= VALUE_SHARE:
            return rule, reason
    return None


def suggest_column(name: str, kind: pa.DataType, sample: pa.Array | None) -> ColumnSuggestion:
    """The rule a column should probably get, and why."""
    words = _words(name)
    if re.search(r"(^| )id$|^id ", words) or words == "id":
        if pa.types.is_integer(kind):
            return ColumnSuggestion(name, "{mask: keyed_permutation}", "an integer key: a keyed permutation keeps "
                                    "keys unique and joins working")
        return ColumnSuggestion(name, "{mask: hash}", "an identifier: a keyed HMAC keeps joins working")
    if sample is not None:
        found = _suggest_from_values(sample)
        if found:
            return ColumnSuggestion(name, found[0], found[1])
    for pattern, rule, reason in _NAME_PATTERNS:
        if re.search(pattern, words):
            return ColumnSuggestion(name, rule, reason)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return ColumnSuggestion(name, "{mask: keep}", "a date not named as personal; consider noise with an interval")
    return ColumnSuggestion(name, "{mask: keep}", "nothing in its name or values looks personal")


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name) and name.lower() not in {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"
    } else json.dumps(name, ensure_ascii=False)


def starter_policy_yaml(table: str, schema: pa.Schema, sample: pa.RecordBatch | None, source: str) -> str:
    """A commented policy YAML for one table, every column listed."""
    suggestions = [
        suggest_column(field.name, field.type, sample.column(field.name) if sample is not None else None)
        for field in schema
    ]
    lines = [
        f"# Starting policy for {source}, written by `janedoe policy init`: review every rule before use.",
        "version: 1",
        "secret_env: JANEDOE_SECRET        # where the key for pseudonyms and hashes comes from",
        "default: error                    # columns this policy does not name are an error",
        "tables:",
        f"  {_yaml_key(table)}:",
        "    columns:",
    ]
    width = max((len(_yaml_key(s.column)) for s in suggestions), default=0) + 1
    rule_width = max((len(s.rule) for s in suggestions), default=0)
    for suggestion in suggestions:
        key = (_yaml_key(suggestion.column) + ":").ljust(width + 1)
        lines.append(f"      {key}{suggestion.rule.ljust(rule_width)}  # {suggestion.reason}")
    if not suggestions:
        lines[-1] = "    columns: {}"
    return "\n".join(lines) + "\n"
