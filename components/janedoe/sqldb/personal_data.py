"""Which columns look personal, and what rule to suggest: janedoe.detection's verdict (the same one `policy init`
gives a file), adjusted for what only a database knows: NOT NULL and unique constraints.

Each suggestion carries its reason: `db scan` writes it as a comment so a reviewer can see why a rule is there.
"""

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from janedoe.detection import detect_column


@dataclass
class Suggestion:
    rule: dict[str, Any]
    reason: str


def suggest_rule(name: str, values: pa.Array, *, nullable: bool, unique: bool) -> Suggestion:
    """The rule for one column from its name and a sample of its values; `keep` when nothing looks personal."""
    detection = detect_column(name, values if len(values) else None, values.type)
    rule, reason = dict(detection.rule), detection.reason
    if rule["mask"] == "null" and not nullable:
        text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
        rule = {"mask": "constant", "value": "[redacted]"} if text else {"mask": "keep"}
        reason += "; NOT NULL, so a constant instead of null" if text else "; NOT NULL and not text: review by hand"
    if rule["mask"] == "pseudonymize" and unique:
        rule["unique"] = True
        reason += "; unique constraint, so unique pseudonyms"
    return Suggestion(rule, reason)
