"""Keyed draws: a function of the key and the identity only, unpredictable across keys, and exactly uniform helpers."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from janedoe.masking.keyed_draws import KeyedDraws, below, integers_between
from scipy import stats

KEY = b"a key for the keyed draw tests.."


@pytest.mark.parametrize(
    "identity",
    [
        pa.array(np.arange(-500, 500)),
        pa.array(np.linspace(-1e6, 1e6, 1000)),
        pa.array([f"person {i}" * (i % 40) for i in range(1000)]),  # 0 to ~400 bytes: short and long texts
        pa.array(np.arange(1000, dtype=np.int32)).cast(pa.date32()),
        pa.array(np.arange(1000)).cast(pa.timestamp("us")),
        pa.array([str(i) for i in range(1000)]).dictionary_encode(),
    ],
)
def test_a_row_gets_the_same_words_wherever_it_stands_and_distinct_rows_other_words(identity):
    draws = KeyedDraws(KEY)
    words = draws.words(identity, count=3)
    order = np.random.default_rng(1).permutation(len(identity))
    moved = draws.words(identity.take(pa.array(order)), count=3)
    assert np.array_equal(moved, words[order])
    assert np.array_equal(draws.words(identity.slice(7, 50), count=3), words[7:57])
    distinct = len(set(pa.array(identity).cast(pa.string()).to_pylist()) if not pa.types.is_dictionary(identity.type)
                   else set(identity.dictionary.to_pylist()))
    assert len(np.unique(words[:, 0])) == distinct
    assert len(np.unique(words[:, 1])) == distinct and not np.array_equal(words[:, 0], words[:, 1])


def test_another_key_gives_unrelated_words():
    identity = pa.array([f"id-{i}" for i in range(20_000)])
    ours = KeyedDraws(KEY).words(identity)[:, 0]
    theirs = KeyedDraws(b"another key for the draws tests").words(identity)[:, 0]
    assert abs(stats.pearsonr((ours >> np.uint64(11)).astype(float), (theirs >> np.uint64(11)).astype(float))[0]) < 0.05


def test_words_are_uniform_bits():
    words = KeyedDraws(KEY).words(pa.array([f"x{i}" for i in range(50_000)]))[:, 0]
    bits = np.array([(words >> np.uint64(k)) & np.uint64(1) for k in range(64)], dtype=float)
    assert np.all(np.abs(bits.mean(axis=1) - 0.5) < 5 * 0.5 / np.sqrt(len(words)))


def test_texts_that_differ_only_in_padding_or_length_are_different_identities():
    texts = ["", "\0", "\0" * 16, "a", "a\0", "a" * 16, "a" * 16 + "\0", "a" * 300, "a" * 300 + "\0"]
    words = KeyedDraws(KEY).words(pa.array(texts))[:, 0]
    assert len(set(words.tolist())) == len(texts)


def test_nulls_and_other_types_with_the_same_bits_are_other_identities():
    draws = KeyedDraws(KEY)
    seven = [draws.words(pa.array([7]))[0, 0], draws.words(pa.array(["7"]))[0, 0],
             draws.words(pa.array([7.0]))[0, 0], draws.words(pa.array([dt.date(1970, 1, 8)]))[0, 0],
             draws.words(pa.array([None], pa.int64()))[0, 0]]
    assert len(set(seven)) == 5


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(1, 2**64 - 1))
def test_below_is_the_exact_128_bit_product(word, bound):
    assert int(below(np.array([word], dtype=np.uint64), bound)[0]) == (word * bound) >> 64


@settings(max_examples=200, deadline=None)
@given(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**64 - 1))
def test_integers_between_stay_inside_the_range(a, b, word):
    low, high = min(a, b), max(a, b)
    assert low <= int(integers_between(np.array([word], dtype=np.uint64), low, high)[0]) <= high


def test_fresh_draws_follow_a_keyed_counter_not_the_identity():
    from janedoe.masking.keyed_draws import FreshDraws

    same = pa.array(np.zeros(5000, dtype=np.int64))
    draws = FreshDraws(KEY)
    first, second = draws.words(same, count=2), draws.words(same, count=2)
    assert len(np.unique(np.concatenate([first.ravel(), second.ravel()]))) == 20_000  # no word comes back
    replay = FreshDraws(KEY)
    assert np.array_equal(replay.words(same, count=2), first)  # a key replays its stream (a seeded run)
    assert not np.array_equal(FreshDraws(b"another key for the draws tests").words(same, count=2), first)
    bits = np.array([(first[:, 0] >> np.uint64(k)) & np.uint64(1) for k in range(64)], dtype=float)
    assert np.all(np.abs(bits.mean(axis=1) - 0.5) < 5 * 0.5 / np.sqrt(len(first)))
