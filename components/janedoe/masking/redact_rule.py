"""redact: personal spans inside free text replaced ('[EMAIL]', '[NAME]', ...), the rest of the text kept.

The spans are found by janedoe.detection's patterns and name list, a few Arrow regex passes per batch. Unlike the
keyed rules, the output keeps no link to the original spans: a redacted span cannot be joined on or reversed.
"""

import pyarrow as pa
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_text
from janedoe.masking.keyed_digest import as_text
from janedoe.policy import RedactRule


class RedactMasker(ColumnMasker):
    output_type = pa.string()

    def __init__(self, rule: RedactRule) -> None:
        from janedoe.detection import redact_spans  # here: the patterns and name list only where a rule redacts

        self._redact = redact_spans
        self.entities: tuple[str, ...] = tuple(rule.entities)
        self.replacements: dict[str, str]
        if isinstance(rule.replacement, str):
            self.replacements = dict.fromkeys(self.entities, rule.replacement)
        else:
            self.replacements = {entity: text for entity, text in (rule.replacement or {}).items()}

    def apply(self, values: pa.Array) -> pa.Array:
        return self._redact(as_text(values), self.entities, self.replacements)


def build_redact_masker(rule: RedactRule, context: BuildContext) -> ColumnMasker:
    kind = context.column_type
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if not is_text(kind):
        raise context.error(f"redact needs a text column, not {context.column_type}")
    return RedactMasker(rule)
