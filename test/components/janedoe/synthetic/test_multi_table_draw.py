"""Handing synthetic children to parents by context: exact matches first, without replacement, then fallbacks."""

import numpy as np
from janedoe.synthetic.context_draw import draw_by_context


def test_each_offered_row_is_used_once_when_the_contexts_match_in_number():
    rng = np.random.default_rng(0)
    contexts = rng.integers(0, 4, size=(1000, 2))
    offered = contexts[rng.permutation(1000)]
    chosen = draw_by_context(contexts, offered, [4, 4], np.random.default_rng(1))
    assert np.array_equal(np.sort(chosen), np.arange(1000))  # a permutation: no offered row twice
    assert np.array_equal(offered[chosen], contexts)


def test_a_short_context_group_is_drawn_with_replacement_within_it():
    wanted = np.array([[1]] * 10 + [[0]] * 2)
    offered = np.array([[1], [1], [0], [0], [0]])
    chosen = draw_by_context(wanted, offered, [2], np.random.default_rng(2))
    assert (offered[chosen] == wanted).all()
    assert set(chosen[:10]) == {0, 1}
    assert len(set(chosen[10:])) == 2  # enough rows: no repeats


def test_a_missing_context_falls_back_to_its_leading_columns_then_to_any_row():
    wanted = np.array([[0, 1], [2, 2]])
    offered = np.array([[0, 0], [1, 1], [1, 0]])
    draws = np.array([draw_by_context(wanted, offered, [3, 3], np.random.default_rng(seed)) for seed in range(40)])
    assert (draws[:, 0] == 0).all()  # no (0, 1): the only row with first column 0
    assert set(draws[:, 1]) == {0, 1, 2}  # no 2 in the first column either: any row


def test_nothing_wanted_needs_nothing_offered():
    chosen = draw_by_context(np.zeros((0, 1), dtype=np.int64), np.zeros((0, 1), dtype=np.int64), [3],
                             np.random.default_rng(3))
    assert chosen.size == 0
