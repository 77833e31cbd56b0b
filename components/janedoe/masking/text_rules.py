"""Rules that rewrite text: partial, partial_email, regex_replace (vectorized with Arrow string kernels)."""

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker
from janedoe.masking.keyed_digest import as_text
from janedoe.policy import PartialEmailRule, PartialRule, RegexReplaceRule


class PartialMasker(ColumnMasker):
    """anon.partial(ov, prefix, padding, suffix).

    Unlike PostgreSQL Anonymizer, a value too short to hide anything (length <= prefix + suffix) becomes the padding
    alone, so no short value survives whole.
    """

    output_type = pa.string()

    def __init__(self, rule: PartialRule) -> None:
        self.rule = rule

    def apply(self, values: pa.Array) -> pa.Array:
        text = as_text(values)
        prefix, suffix, padding = self.rule.prefix, self.rule.suffix, self.rule.padding
        head = pc.utf8_slice_codeunits(text, 0, prefix) if prefix else pc.if_else(pc.is_null(text), text, "")
        tail = pc.utf8_slice_codeunits(text, -suffix) if suffix else pc.if_else(pc.is_null(text), text, "")
        joined = pc.binary_join_element_wise(head, padding, tail, "")
        long_enough = pc.greater(pc.utf8_length(text), prefix + suffix)
        return pc.if_else(long_enough, joined, pa.scalar(padding, pa.string()))


class PartialEmailMasker(ColumnMasker):
    """anon.partial_email: two characters of the local part and of the domain, then '******', then the TLD."""

    output_type = pa.string()

    def __init__(self, rule: PartialEmailRule) -> None:
        self.rule = rule

    def apply(self, values: pa.Array) -> pa.Array:
        text = as_text(values)
        local = pc.replace_substring_regex(text, "@.*$", "")
        domain = pc.if_else(
            pc.match_substring(text, "@"), pc.replace_substring_regex(text, "^[^@]*@", ""), pa.scalar("", pa.string())
        )
        has_dot = pc.match_substring(domain, ".")
        tld = pc.if_else(has_dot, pc.replace_substring_regex(domain, r"^.*\.", ""), pa.scalar("", pa.string()))
        return pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(local, 0, 2),
            "******@",
            pc.utf8_slice_codeunits(domain, 0, 2),
            "******.",
            tld,
            "",
        )


class RegexReplaceMasker(ColumnMasker):
    output_type = pa.string()

    def __init__(self, rule: RegexReplaceRule) -> None:
        self.rule = rule

    def apply(self, values: pa.Array) -> pa.Array:
        return pc.replace_substring_regex(as_text(values), self.rule.pattern, self.rule.replacement)


def build_text_masker(rule, context: BuildContext) -> ColumnMasker:
    if isinstance(rule, PartialRule):
        return PartialMasker(rule)
    if isinstance(rule, PartialEmailRule):
        return PartialEmailMasker(rule)
    return RegexReplaceMasker(rule)
