"""The faster pool builder must give exactly the pools plain Faker gives, or pseudonyms would change across versions."""

import pytest
from faker import Faker
from janedoe.masking.faker_pools import faker_pool

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
        pool = faker_pool(kind, locale, seed, 400)
        assert [str(v) for v in pool.to_pylist()] == _plain_faker_pool(kind, locale, seed, 400)


def test_other_seed_gives_other_pool():
    assert faker_pool("name", "en_US", 1, 200).to_pylist() != faker_pool("name", "en_US", 2, 200).to_pylist()
