"""The output's row order: a uniformly random permutation, so no one who knows the input's order can link output
rows back to input rows (and so to people) by position.

By default the permutation comes from the OS CSPRNG and nobody can reproduce it. With a seed AND a secret it is
reproducible by holders of the secret only: the sort keys are SHAKE-256 output keyed by HMAC-SHA256(secret, seed,
row count, parameters), so knowing or guessing the seed gains nothing without the key. A seed without a secret
is ignored (CSPRNG): a seed alone would let anyone who guesses it rebuild the permutation and undo the shuffle.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

import numpy as np
from janedoe.errors import JaneDoeInputError

MIN_SECRET_BYTES = 16
_CONTEXT = b"janedoe k_anonymity row order v1\x00"
_KEY_BYTES = 8  # one uint64 sort key per row; ties (probability ~ rows^2 / 2^65) keep their input order


def keyed_order_key(secret: bytes, seed: int, rows: int, parameters: dict, *, where: str | None = None) -> bytes:
    """The 32-byte key a seeded order is expanded from. The row count and the run's parameters are mixed in, so
    the same seed on another table or with other settings gives an unrelated order."""
    if len(secret) < MIN_SECRET_BYTES:
        raise JaneDoeInputError(f"the secret is shorter than {MIN_SECRET_BYTES} bytes", where=where)
    message = json.dumps({"seed": int(seed), "rows": int(rows), "parameters": parameters}, sort_keys=True)
    return hmac.digest(secret, _CONTEXT + message.encode("utf-8"), "sha256")


def row_permutation(rows: int, key: bytes | None = None) -> np.ndarray:
    """A uniformly random permutation of range(rows): from `key` (see keyed_order_key), else from the OS CSPRNG."""
    size = rows * _KEY_BYTES
    stream = hashlib.shake_256(key).digest(size) if key is not None else secrets.token_bytes(size)
    return np.argsort(np.frombuffer(stream, dtype=np.uint64), kind="stable")
