"""Where random bits come from: the OS CSPRNG by default, a numpy Generator only when a test asks for one.

Every sampler draws only uniform integers below a bound through `integers_below`, so the exactness argument never
depends on floating point and the same code runs on both sources.
"""

import os

import numpy as np


def _uniform_words(count: int, dtype) -> np.ndarray:
    return np.frombuffer(os.urandom(count * np.dtype(dtype).itemsize), dtype=dtype)


class UrandomSource:
    """Uniform integers from os.urandom (the kernel's CSPRNG), by rejection so every value is exactly equally likely."""

    def integers_below(self, high: int, size: int) -> np.ndarray:
        high = int(high)
        if high <= 0 or high > 1 << 63:
            raise ValueError("integers_below needs 0 < high <= 2^63")
        if high & (high - 1) == 0:  # a power of two: mask, no rejection
            dtype = np.uint32 if high <= 1 << 32 else np.uint64
            return (_uniform_words(size, dtype) & dtype(high - 1)).astype(np.int64)
        bits = 32 if high < 1 << 32 else 64
        dtype = np.uint32 if bits == 32 else np.uint64
        # Keep words below the largest multiple of high that fits: each residue is then exactly equally likely.
        limit = dtype(((1 << bits) // high) * high)
        keep_rate = int(limit) / float(1 << bits)
        words = _uniform_words(int(size / keep_rate * 1.01) + 16, dtype)  # one read covers the rejections, usually
        words = words[words < limit]
        while words.size < size:
            more = _uniform_words(size - words.size + 16, dtype)
            words = np.concatenate([words, more[more < limit]])
        return (words[:size] % dtype(high)).astype(np.int64)


class GeneratorSource:
    """A seeded numpy Generator: reproducible draws for tests; not for releases."""

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator

    def integers_below(self, high, size: int) -> np.ndarray:
        return self.generator.integers(0, high, size=size, dtype=np.int64)


def as_source(rng) -> UrandomSource | GeneratorSource:
    """None -> the OS CSPRNG; a numpy Generator -> that generator; a source -> itself."""
    if rng is None:
        return UrandomSource()
    if isinstance(rng, np.random.Generator):
        return GeneratorSource(rng)
    if hasattr(rng, "integers_below"):
        return rng
    raise TypeError("rng must be None, a numpy Generator or a source with integers_below")
