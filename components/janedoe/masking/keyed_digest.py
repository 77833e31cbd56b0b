"""HMAC of many values at once, and the text form values are keyed by.

HMAC is computed once per distinct value, from precomputed inner and outer pad states (exactly RFC 2104 HMAC,
about twice as fast as hmac.digest per call). Values are keyed by their text form, so the same key in an integer
column of one table and a text column of another maps the same way.
"""

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_BLOCK = {"md5": 64, "sha1": 64, "sha224": 64, "sha256": 64, "sha384": 128, "sha512": 128}
_SIZE = {"md5": 16, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def as_text(values: pa.Array) -> pa.Array:
    """The canonical text form of a column's values (strings as they are, numbers and dates as Arrow prints them)."""
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        return values.cast(pa.string(), safe=False)
    return pc.cast(values, pa.string())


class Hmac:
    """HMAC with one key, applied to many messages."""

    def __init__(self, key: bytes, algorithm: str = "sha256") -> None:
        block = _BLOCK[algorithm]
        self.algorithm = algorithm
        self.digest_size = _SIZE[algorithm]
        if len(key) > block:
            key = hashlib.new(algorithm, key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.new(algorithm, bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.new(algorithm, bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digests(self, texts: pa.Array) -> np.ndarray:
        """(n, digest_size) uint8 digests of a string array without nulls."""
        messages = texts.cast(pa.binary()).to_pylist()
        inner, outer = self._inner, self._outer
        out = bytearray()
        for message in messages:
            h = inner.copy()
            h.update(message)
            o = outer.copy()
            o.update(h.digest())
            out += o.digest()
        return np.frombuffer(bytes(out), dtype=np.uint8).reshape(len(messages), self.digest_size)


def derived_key(secret: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose, so pseudonyms, hashes and permutations never share a key."""
    return Hmac(secret).digest(b"janedoe\0" + purpose.encode("utf-8"))


def digest_words(digests: np.ndarray) -> np.ndarray:
    """The first 8 bytes of each digest as an unsigned 64-bit integer."""
    return np.ascontiguousarray(digests[:, :8]).view(">u8").ravel().astype(np.uint64)


def hex_strings(digests: np.ndarray) -> pa.Array:
    """Lower-case hex of each digest row, as an Arrow string array over one buffer (bytes.hex runs in C)."""
    count, size = digests.shape
    text = np.ascontiguousarray(digests).tobytes().hex().encode("ascii")
    offsets = np.arange(0, (count + 1) * size * 2, size * 2, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))


def per_distinct(values: pa.Array, compute) -> pa.Array:
    """Apply `compute` (distinct non-null text -> outputs) once per distinct value and spread the results back.

    When a sample shows nearly every value is distinct (keys, emails), de-duplicating costs more than it saves and
    `compute` runs on the non-null values directly.
    """
    text = as_text(values)
    sample = text.slice(0, 2048)
    if len(sample) and pc.count_distinct(sample).as_py() > 0.9 * (len(sample) - sample.null_count):
        valid = text.drop_null() if text.null_count else text
        outputs = compute(valid)
        if not text.null_count:
            return outputs
        positions = pc.subtract(pc.cumulative_sum(pc.cast(pc.is_valid(text), pa.int64())), 1)
        return outputs.take(pc.if_else(pc.is_valid(text), positions, pa.scalar(None, pa.int64())))
    encoded = pc.dictionary_encode(text)
    distinct = encoded.dictionary
    outputs = compute(distinct)
    return outputs.take(encoded.indices)
