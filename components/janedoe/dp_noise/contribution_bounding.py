"""Per-person contribution bounding: keep at most r rows per person, chosen by a keyed random rank of each row.

The rank is a keyed pseudorandom function of the row's content (AES-256 CBC-MAC over the row's columns, vectorized
over a whole batch), so it depends on nothing but the row and the key: not on file order, batches or partitions.
One process and Spark keep the same rows for the same key; rows with equal ranks are equal rows, so which of them is
kept does not change any statistic. Which rows a person keeps depends only on that person's rows, so removing one
person changes no one else's: the bound that the sensitivity assumes holds. Without a key, each query draws a fresh
one (the kept rows are then a uniformly random choice). The key is not a privacy secret (the guarantee holds for any
choice of rows), but with it the choice can be predicted, so it is never logged.
"""

import hashlib
import hmac
import secrets

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError

MIN_KEY_BYTES = 16
_CONTEXT = b"janedoe dp contribution bounding v1\x00"
_LONG_TEXT_BYTES = 256  # longer texts are MACed through their SHA-256 (collision resistant), not block by block
_CHUNK_ROWS = 1 << 14  # texts padded to the longest in their chunk: bounded memory
_KIND_INTEGER, _KIND_FLOAT, _KIND_TEXT, _KIND_LONG_TEXT, _KIND_NULL = 1, 2, 3, 4, 5


def checked_bounding_key(key: bytes | None) -> bytes:
    """The key a query ranks rows with: KEY checked, or a fresh random one."""
    if key is None:
        return secrets.token_bytes(32)
    if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
        raise JaneDoeInputError(f"the bounding key must be at least {MIN_KEY_BYTES} bytes", where="bounding_key")
    return bytes(key)


def _aes(key: bytes, purpose: bytes):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    return Cipher(algorithms.AES(hmac.digest(key, _CONTEXT + purpose, "sha256")), modes.ECB())


def _encrypt(cipher, blocks: np.ndarray) -> np.ndarray:
    data = cipher.encryptor().update(np.ascontiguousarray(blocks, dtype=np.uint64).tobytes())
    return np.frombuffer(data, dtype=np.uint64).reshape(-1, 2).copy()


def row_ranks(data: pa.Table | pa.RecordBatch, key: bytes) -> np.ndarray:
    """A keyed pseudorandom int64 per row of DATA, a function of the key and the row's values only."""
    text_cipher, row_cipher = _aes(key, b"text"), _aes(key, b"row")
    rows = data.num_rows
    state = np.zeros((rows, 2), dtype=np.uint64)
    state[:, 0] = data.num_columns
    state = _encrypt(row_cipher, state)
    for column in data.columns:
        words, kinds = _column_words(column, text_cipher)
        state[:, 0] ^= words
        state[:, 1] ^= kinds
        state = _encrypt(row_cipher, state)
    return state[:, 0].view(np.int64)


def _column_words(column, text_cipher) -> tuple[np.ndarray, np.ndarray]:
    """(one 64-bit word per value, its kind): integers and floats by value, everything else by a MAC of its text."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_dictionary(kind):  # each distinct value once: the same words as the decoded column
        words, kinds = _column_words(column.dictionary, text_cipher)
        indices = pc.fill_null(column.indices, 0).to_numpy(zero_copy_only=False)
        if not len(column.dictionary):
            return np.zeros(len(column), dtype=np.uint64), np.full(len(column), np.uint64(_KIND_NULL))
        return np.where(nulls, np.uint64(0), words[indices]), np.where(nulls, np.uint64(_KIND_NULL), kinds[indices])
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        words = pc.cast(column, pa.int64(), safe=False).fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64)
        code = _KIND_INTEGER
    elif pa.types.is_floating(kind):
        floats = pc.cast(column, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 is 0.0
        words = np.where(np.isnan(floats), np.nan, floats).view(np.uint64)  # one NaN
        code = _KIND_FLOAT
    else:
        text = column if pa.types.is_string(kind) or pa.types.is_large_string(kind) else pc.cast(column, pa.string())
        encoded = pc.dictionary_encode(text)  # a person's rows repeat their id: one MAC per distinct text
        distinct = _text_words(encoded.dictionary.cast(pa.large_binary()), text_cipher)
        indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        words = distinct[indices] if distinct.size else np.zeros(len(column), dtype=np.uint64)
        code = _KIND_TEXT
    kinds = np.where(nulls, np.uint64(_KIND_NULL), np.uint64(code))
    return np.where(nulls, np.uint64(0), words).astype(np.uint64), kinds


def _text_words(binary: pa.Array, cipher) -> np.ndarray:
    """CBC-MAC of each text's length block and then its 16-byte blocks (prefix-free: a PRF), a chunk at a time."""
    lengths = pc.binary_length(binary).to_numpy(zero_copy_only=False).astype(np.int64)
    kinds = np.full(len(binary), _KIND_TEXT, dtype=np.uint64)
    long = lengths > _LONG_TEXT_BYTES
    if long.any():  # rare: a long text is MACed as its digest, marked as such
        digests = [hashlib.sha256(value).digest() for value in binary.filter(pa.array(long)).to_pylist()]
        binary = pc.replace_with_mask(binary, pa.array(long), pa.array(digests, pa.large_binary()))
        kinds[long] = _KIND_LONG_TEXT
    out = np.empty(len(binary), dtype=np.uint64)
    for start in range(0, len(binary), _CHUNK_ROWS):
        stop = start + _CHUNK_ROWS
        out[start:stop] = _cbc_mac(binary.slice(start, _CHUNK_ROWS), lengths[start:stop], kinds[start:stop], cipher)
    return out


def _cbc_mac(binary: pa.Array, lengths: np.ndarray, kinds: np.ndarray, cipher) -> np.ndarray:
    offsets = np.frombuffer(binary.buffers()[1], dtype=np.int64)[binary.offset : binary.offset + len(binary) + 1]
    buffer = binary.buffers()[2]
    data = np.frombuffer(buffer, dtype=np.uint8) if buffer is not None and buffer.size else np.zeros(1, np.uint8)
    starts, sizes = offsets[:-1], np.diff(offsets)
    blocks = (sizes + 15) // 16
    width = 16 * max(int(blocks.max()) if blocks.size else 0, 1)
    padded: np.ndarray = np.zeros(len(binary) * width, dtype=np.uint8)  # each text zero-padded to `width` bytes
    before = np.cumsum(sizes) - sizes
    step = np.arange(int(sizes.sum()))
    padded[step + np.repeat(np.arange(len(binary)) * width - before, sizes)] = data[
        step + np.repeat(starts - before, sizes)
    ]
    padded = padded.view(np.uint64).reshape(len(binary), width // 16, 2)
    state = np.empty((len(binary), 2), dtype=np.uint64)
    state[:, 0] = lengths.astype(np.uint64)
    state[:, 1] = kinds
    state = _encrypt(cipher, state)
    for block in range(int(blocks.max()) if blocks.size else 0):
        active = blocks > block
        if active.all():
            state = _encrypt(cipher, state ^ padded[:, block])
        else:
            state[active] = _encrypt(cipher, state[active] ^ padded[active, block])
    return state[:, 0].copy()


def bound_contributions(table: pa.Table, user_id: str | None, rows_per_user: int, *,
                        bounding_key: bytes | None = None) -> pa.Table:
    """At most rows_per_user rows per person, those of lowest keyed rank (row_ranks over all of TABLE's columns;
    equal rows in file order); rows without a user id go. Without a key, a fresh random one."""
    if user_id is None:
        return table
    key = checked_bounding_key(bounding_key)
    if table.column(user_id).null_count:
        table = table.filter(pc.is_valid(table.column(user_id)))
    users = pc.dictionary_encode(table.column(user_id).combine_chunks())
    codes = users.indices.to_numpy(zero_copy_only=False)
    crowded = np.flatnonzero(np.bincount(codes, minlength=len(users.dictionary))[codes] > rows_per_user)
    if crowded.size == 0:  # nobody has too many rows: nothing to rank
        return table
    rows = pa.array(crowded)
    ranked = table.take(rows).set_column(table.schema.get_field_index(user_id), user_id, users.take(rows))
    keep = np.ones(table.num_rows, dtype=bool)
    keep[crowded] = first_rows_by_rank(codes[crowded], row_ranks(ranked, key), rows_per_user)
    return table.filter(pa.array(keep))


def first_rows_by_rank(codes: np.ndarray, ranks: np.ndarray, rows_per_user: int) -> np.ndarray:
    """Which rows are among the rows_per_user lowest ranks of their person (code); ties keep the earlier row."""
    order = np.lexsort((ranks, codes))  # stable: equal (code, rank) stay in row order
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1] if codes.size else np.zeros(0, dtype=np.int64)
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_codes.size]))
    position = np.empty(codes.size, dtype=np.int64)
    position[order] = np.arange(codes.size) - run_start
    return position < rows_per_user
