"""Where random rules get their randomness: a keyed pseudorandom function of each row's identity, or fresh draws.

Keyed draws are AES-256 (a pseudorandom permutation, so a pseudorandom function on distinct blocks) of one 16-byte
block per row and word: the row's identity, the word's index and the identity's kind. The AES key is derived with
HMAC from the secret, the table, the column, the rule and the run's seed, so a seed reproduces a run only for holders
of the secret, and two rules never share draws. An attacker who knows some rows' originals learns those rows' draws
and nothing about any other row's. Identities are numbers (integers of any width, floats, dates, times: their 64-bit
value, one AES call for a whole batch) or, for text and everything else, a keyed 64-bit MAC of their text (AES
CBC-MAC, vectorized over a batch). The integer 7 and the text '7' are different identities.
"""

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.keyed_digest import Hmac, derived_key, digest_words, per_distinct

_KIND_INTEGER, _KIND_FLOAT, _KIND_TEXT, _KIND_NULL = 1, 2, 3, 4
_SHORT_TEXT_BYTES = 256
_LOW32 = np.uint64(0xFFFFFFFF)


class Draws:
    """`words(identity, count)`: (rows, count) uniform 64-bit words, one row per identity value."""

    def words(self, identity: pa.Array, count: int = 1) -> np.ndarray:
        raise NotImplementedError


class KeyedDraws(Draws):
    """The same identity always gets the same words; without the key they are unpredictable."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # ~50 ms: only when masking

        self._cipher = Cipher(algorithms.AES(derived_key(key, "aes")), modes.ECB())
        self._text_cipher = Cipher(algorithms.AES(derived_key(key, "text mac")), modes.ECB())
        self._text_hmac = Hmac(derived_key(key, "text identity"))

    def words(self, identity: pa.Array, count: int = 1) -> np.ndarray:
        values, kinds = self._identity_words(identity)
        lanes = (count + 1) // 2
        blocks = np.empty((len(values), lanes, 2), dtype=np.uint64)
        blocks[:, :, 0] = values[:, None]
        blocks[:, :, 1] = (np.arange(lanes, dtype=np.uint64)[None, :] << np.uint64(32)) | kinds[:, None]
        encrypted = self._cipher.encryptor().update(blocks.tobytes())
        return np.frombuffer(encrypted, dtype=np.uint64).reshape(len(values), lanes * 2)[:, :count]

    def _identity_words(self, identity: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(identity, pa.ChunkedArray):
            identity = identity.combine_chunks()
        kind = identity.type
        if pa.types.is_dictionary(kind):
            identity = identity.cast(kind.value_type)
            kind = identity.type
        nulls = identity.is_null().to_numpy(zero_copy_only=False) if identity.null_count else None
        if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
            values = pc.cast(identity, pa.int64(), safe=False).fill_null(0).to_numpy(zero_copy_only=False)
            values = values.view(np.uint64)
            code = _KIND_INTEGER
        elif pa.types.is_floating(kind):
            floats = pc.cast(identity, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 is 0.0
            floats = np.where(np.isnan(floats), np.nan, floats)  # one NaN
            values = floats.view(np.uint64)
            code = _KIND_FLOAT
        elif pa.types.is_temporal(kind) and kind.bit_width in (32, 64):
            storage = pa.int32() if kind.bit_width == 32 else pa.int64()
            values = pc.cast(identity.view(storage), pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            values = values.view(np.uint64)
            code = 16 + zlib.crc32(str(kind).encode()) % 65536  # a date's days and a timestamp's ticks are other rows
        else:
            values = np.zeros(len(identity), dtype=np.uint64)
            valid = pc.is_valid(identity).to_numpy(zero_copy_only=False)
            digests = per_distinct(identity, self._text_words)
            values[valid] = digests.drop_null().to_numpy(zero_copy_only=False)
            code = _KIND_TEXT
        kinds = np.full(len(values), code, dtype=np.uint64)
        if nulls is not None:
            values = np.where(nulls, np.uint64(0), values)
            kinds[nulls] = _KIND_NULL
        return np.ascontiguousarray(values), kinds

    def _text_words(self, texts: pa.Array) -> pa.Array:
        """A keyed 64-bit word per text: CBC-MAC with AES over the text's length and then its 16-byte blocks (a PRF
        on this prefix-free encoding), for all texts at once with one AES call per block position; a text longer than
        _SHORT_TEXT_BYTES takes an HMAC of its own instead."""
        binary = texts.cast(pa.large_binary())
        offsets = np.frombuffer(binary.buffers()[1], dtype=np.int64)[binary.offset : binary.offset + len(binary) + 1]
        buffer = binary.buffers()[2]
        data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None and buffer.size else np.zeros(1, np.uint8)
        starts, lengths = offsets[:-1], np.diff(offsets)
        out = np.empty(len(binary), dtype=np.uint64)
        long = lengths > _SHORT_TEXT_BYTES
        if long.any():
            rows = np.flatnonzero(long)
            out[rows] = digest_words(self._text_hmac.digests(binary.take(pa.array(rows))))
        rows = np.flatnonzero(~long)
        blocks = (lengths[rows] + 15) // 16
        width = 16 * max(int(blocks.max()) if len(blocks) else 0, 1)
        padded: np.ndarray = np.zeros(len(rows) * width, dtype=np.uint8)  # each text zero-padded to `width` bytes
        sizes = lengths[rows]
        before = np.cumsum(sizes) - sizes
        step = np.arange(int(sizes.sum()))
        padded[step + np.repeat(np.arange(len(rows)) * width - before, sizes)] = data[
            step + np.repeat(starts[rows] - before, sizes)
        ]
        padded = padded.view(np.uint64).reshape(len(rows), width // 16, 2)
        state = np.empty((len(rows), 2), dtype=np.uint64)
        state[:, 0] = sizes.astype(np.uint64)
        state[:, 1] = 0
        state = self._text_encrypt(state)
        for block in range(int(blocks.max()) if len(blocks) else 0):
            active = blocks > block
            if active.all():
                state = self._text_encrypt(state ^ padded[:, block])
            else:
                state[active] = self._text_encrypt(state[active] ^ padded[active, block])
        out[rows] = state[:, 0]
        return pa.array(out, pa.uint64())

    def _text_encrypt(self, blocks: np.ndarray) -> np.ndarray:
        encrypted = self._text_cipher.encryptor().update(np.ascontiguousarray(blocks).tobytes())
        return np.frombuffer(encrypted, dtype=np.uint64).reshape(-1, 2).copy()


class FreshDraws(Draws):
    """New words on every call whatever the identity (AES-256 of a running counter): repeated outputs of one row can
    be averaged. A cipher, not numpy's generator, so the outputs never reveal a state that predicts other draws."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._cipher = Cipher(algorithms.AES(derived_key(key, "fresh")), modes.ECB())
        self._counter = 0

    def words(self, identity: pa.Array, count: int = 1) -> np.ndarray:
        blocks = np.zeros((len(identity) * count, 2), dtype=np.uint64)
        blocks[:, 0] = np.arange(self._counter, self._counter + len(blocks), dtype=np.uint64)
        self._counter += len(blocks)
        encrypted = self._cipher.encryptor().update(blocks.tobytes())
        return np.frombuffer(encrypted, dtype=np.uint64).reshape(len(identity), count * 2)[:, ::2].copy()


def below(words: np.ndarray, bound: int) -> np.ndarray:
    """floor(word * bound / 2**64): integers uniform in [0, bound) up to bound / 2**64 (128-bit product, vectorized)."""
    if bound >= 2**64:
        return words.astype(np.uint64)
    words = words.astype(np.uint64)
    b = np.uint64(bound)
    a_high, a_low = words >> np.uint64(32), words & _LOW32
    b_high, b_low = b >> np.uint64(32), b & _LOW32
    low_low = a_low * b_low
    middle = a_high * b_low + (low_low >> np.uint64(32))
    middle2 = (middle & _LOW32) + a_low * b_high
    return a_high * b_high + (middle >> np.uint64(32)) + (middle2 >> np.uint64(32))


def unit_floats(words: np.ndarray) -> np.ndarray:
    """Floats uniform in [0, 1) from the top 53 bits of each word."""
    return (words >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def integers_between(words: np.ndarray, low: int, high: int) -> np.ndarray:
    """int64 values uniform in [low, high] (inclusive)."""
    offsets = below(words, high - low + 1)
    return (offsets + np.uint64(low % 2**64)).view(np.int64)
