"""PostgreSQL Anonymizer's random value functions: random_string, random_id, random_id_int, random_phone.

Drawn like every random rule (keyed by the row's identity unless `fresh: true`); nulls stay null.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, null_mask
from janedoe.masking.keyed_draws import below, integers_between
from janedoe.masking.random_rules import DrawingMasker
from janedoe.policy import RandomIdIntRule, RandomIdRule, RandomPhoneRule, RandomStringRule

LETTERS_AND_DIGITS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)
DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def drawn_texts(words: np.ndarray, alphabet: np.ndarray, prefix: bytes, nulls: np.ndarray) -> pa.Array:
    """One text per row: `prefix`, then one character of `alphabet` per word of the row."""
    rows, length = words.shape
    chars = alphabet[below(words, len(alphabet)).astype(np.intp)]
    width = len(prefix) + length
    data = np.empty((rows, width), dtype=np.uint8)
    data[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    data[:, len(prefix) :] = chars
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int64)
    texts = pa.LargeStringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data.tobytes()))
    texts = texts.cast(pa.string())
    if nulls.any():
        texts = pc.if_else(pa.array(nulls), pa.scalar(None, pa.string()), texts)
    return texts


class RandomTextMasker(DrawingMasker):
    output_type = pa.string()

    def __init__(self, rule, context: BuildContext, alphabet: np.ndarray, prefix: str, length: int) -> None:
        super().__init__(rule, context)
        self.alphabet, self.prefix, self.length = alphabet, prefix.encode("utf-8"), length

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        return drawn_texts(self.draws.words(identity, self.length), self.alphabet, self.prefix, null_mask(values))


class RandomIdMasker(DrawingMasker):
    def __init__(self, rule, context: BuildContext, kind: pa.DataType) -> None:
        super().__init__(rule, context)
        self.output_type = kind
        self.high = np.iinfo(kind.to_pandas_dtype()).max

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        drawn = integers_between(self.draws.words(identity)[:, 0], 1, int(self.high))
        nulls = null_mask(values)
        return pa.array(drawn.astype(self.output_type.to_pandas_dtype()), self.output_type,
                        mask=nulls if nulls.any() else None)


def build_random_value_masker(rule, context: BuildContext) -> ColumnMasker:
    if isinstance(rule, RandomStringRule):
        return RandomTextMasker(rule, context, LETTERS_AND_DIGITS, "", rule.length)
    if isinstance(rule, RandomPhoneRule):
        return RandomTextMasker(rule, context, DIGITS, rule.prefix, rule.digits)
    if isinstance(rule, RandomIdRule):
        return RandomIdMasker(rule, context, pa.int64())
    if isinstance(rule, RandomIdIntRule):
        return RandomIdMasker(rule, context, pa.int32())
    raise TypeError(type(rule))
