"""The faster pool builder must give exactly the pools plain Faker gives, and seeded pools must be orderings of them."""

import pytest
from faker import Faker
from janedoe.masking.faker_pools import PUBLIC_SEED, distinct_faker_pool, draw_pool, faker_pool, public_faker_pool

KINDS = ["email", "name", "first_name", "last_name", "street_address", "city", "company", "phone_number", "address"]


def _plain_faker_pool(kind: str, locale: str, seed: int, size: int) -> list[str]:
    fake = Faker(locale)
    fake.seed_instance(seed)
    method = getattr(fake, kind)
    return [str(method()) for _ in range(size)]


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "ja_JP"])
@pytest.mark.parametrize("kind", KINDS)
def test_pool_equals_plain_faker_draws(kind, locale):
    for seed in (7, 2**63 + 11):
        pool = draw_pool(kind, locale, seed, 400)
        assert [str(v) for v in pool.to_pylist()] == _plain_faker_pool(kind, locale, seed, 400)


def test_public_pool_is_faker_with_the_public_seed():
    assert public_faker_pool("city", "en_US", 300).to_pylist() == _plain_faker_pool("city", "en_US", PUBLIC_SEED, 300)


def test_seeded_pool_is_a_reproducible_ordering_of_the_public_pool():
    public = public_faker_pool("name", "en_US", 200).to_pylist()
    first, again = faker_pool("name", "en_US", 1, 200).to_pylist(), faker_pool("name", "en_US", 1, 200).to_pylist()
    other = faker_pool("name", "en_US", 2, 200).to_pylist()
    assert first == again
    assert sorted(first) == sorted(public) == sorted(other)
    assert first != other and first != public


def test_distinct_pool_has_no_repeats_and_covers_the_public_values():
    pool = distinct_faker_pool("first_name", "en_US", 5, 1000).to_pylist()
    assert len(pool) == len(set(pool))
    assert set(pool) == set(public_faker_pool("first_name", "en_US", 1000).to_pylist())
