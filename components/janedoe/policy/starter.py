"""A starting policy for a table: a suggested rule per column from its name and a sample of its values.

Suggestions are heuristics for a human to review, which is why every column gets a comment saying why.
"""

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:  # pyarrow and janedoe.detection are imported by `policy init`, not by every user of the policy
    import pyarrow as pa


@dataclass(frozen=True)
class ColumnSuggestion:
    column: str
    rule: str  # the YAML flow mapping, e.g. "{mask: partial_email}"
    reason: str


def _words(name: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return re.sub(r"[_\-.]+", " ", spaced).lower()


def suggest_column(name: str, kind: "pa.DataType", sample: "pa.Array | None") -> ColumnSuggestion:
    """The rule a column should probably get, and why: janedoe.detection's verdict (the one `db scan` gives), except
    for identifier columns, which a file cannot declare as keys the way a database does."""
    import pyarrow as pa
    from janedoe.detection import detect_column

    words = _words(name)
    if re.search(r"(^| )id$|^id ", words) or words == "id":
        if pa.types.is_integer(kind):
            return ColumnSuggestion(name, "{mask: keyed_permutation}", "an integer key: a keyed permutation keeps "
                                    "keys unique and joins working")
        return ColumnSuggestion(name, "{mask: hash}", "an identifier: a keyed HMAC keeps joins working")
    detection = detect_column(name, sample if sample is not None and len(sample) else None, kind)
    rule = yaml.safe_dump(detection.rule, default_flow_style=True, sort_keys=False, width=10_000,
                          allow_unicode=True).strip()
    return ColumnSuggestion(name, rule, detection.reason)


def _yaml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", name) and name.lower() not in {
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"
    } else json.dumps(name, ensure_ascii=False)


def starter_policy_yaml(table: str, schema: "pa.Schema", sample: "pa.RecordBatch | None", source: str) -> str:
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
