"""The row-order permutation is uniform, from the CSPRNG and from keys alike (checked by chi-square over all 24
orders of 4 rows), and a keyed order depends on every input of the key."""

import itertools
from collections import Counter

from janedoe.k_anonymity.row_order import keyed_order_key, row_permutation
from scipy import stats

ORDERS = list(itertools.permutations(range(4)))
DRAWS = 24_000
SECRET = b"row-order-test-secret-16+"


def chi_square_p(permutations) -> float:
    counts = Counter(tuple(p.tolist()) for p in permutations)
    assert set(counts) <= set(ORDERS)
    return stats.chisquare([counts[order] for order in ORDERS]).pvalue


def test_random_orders_are_uniform():
    assert chi_square_p(row_permutation(4) for _ in range(DRAWS)) > 1e-6


def test_keyed_orders_are_uniform_over_seeds():
    keys = (keyed_order_key(SECRET, seed, 4, {}) for seed in range(DRAWS))
    assert chi_square_p(row_permutation(4, key) for key in keys) > 1e-6


def test_the_key_depends_on_secret_seed_rows_and_parameters():
    base = keyed_order_key(SECRET, 7, 100, {"k": 5})
    assert keyed_order_key(SECRET, 7, 100, {"k": 5}) == base
    others = [
        keyed_order_key(SECRET + b"x", 7, 100, {"k": 5}),
        keyed_order_key(SECRET, 8, 100, {"k": 5}),
        keyed_order_key(SECRET, 7, 101, {"k": 5}),
        keyed_order_key(SECRET, 7, 100, {"k": 6}),
    ]
    assert len({base, *others}) == 5
