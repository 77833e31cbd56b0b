"""Rules that rewrite text: partial, partial_email, regex_replace (vectorized with Arrow string kernels)."""

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_text
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
        parts = []
        if prefix:
            parts.append(pc.utf8_slice_codeunits(text, 0, prefix))
        parts.append(padding)
        if suffix:
            parts.append(pc.utf8_slice_codeunits(text, -suffix))
        if len(parts) == 1:
            return pc.if_else(pc.is_null(text), pa.scalar(None, pa.string()), padding)
        joined = pc.binary_join_element_wise(*parts, "")
        long_enough = pc.greater(pc.utf8_length(text), prefix + suffix)
        return pc.if_else(long_enough, joined, pa.scalar(padding, pa.string()))


class PartialEmailMasker(ColumnMasker):
    """anon.partial_email: two characters of the local part and of the domain, then '******', then the TLD."""

    output_type = pa.string()

    def __init__(self, rule: PartialEmailRule) -> None:
        self.rule = rule

    def apply(self, values: pa.Array) -> pa.Array:
        # One regex pass: two characters of the local part, the domain before its last dot, the last label.
        parts = pc.extract_regex(as_text(values), _EMAIL_PARTS)
        local, domain, tld = (pc.struct_field(parts, name) for name in ("local", "domain", "tld"))
        whole_domain = pc.binary_join_element_wise(domain, tld, ".")
        head = pc.utf8_slice_codeunits(pc.if_else(pc.equal(tld, ""), domain, whole_domain), 0, 2)
        return pc.binary_join_element_wise(local, "******@", head, "******.", tld, "")


_EMAIL_PARTS = r"(?s)^(?P<local>[^@]{0,2})[^@]*(?:@(?P<domain>.*?)(?:\.(?P<tld>[^.]*))?)?$"


class RegexReplaceMasker(ColumnMasker):
    output_type = pa.string()

    def __init__(self, rule: RegexReplaceRule) -> None:
        self.rule = rule

    def apply(self, values: pa.Array) -> pa.Array:
        return pc.replace_substring_regex(as_text(values), self.rule.pattern, self.rule.replacement)


def build_text_masker(rule, context: BuildContext) -> ColumnMasker:
    if isinstance(rule, PartialEmailRule) and not is_text(context.column_type):
        raise context.error(f"partial_email needs a text column, not {context.column_type}")
    if isinstance(rule, PartialRule):
        return PartialMasker(rule)
    if isinstance(rule, PartialEmailRule):
        return PartialEmailMasker(rule)
    return RegexReplaceMasker(rule)
