"""A conditional rule (`when:`) on a referenced key would mask some keys and keep others: refused before writing."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb import copy_database


def test_a_conditional_rule_on_a_referenced_key_is_refused(shop_module, sqlite_shop, secret_env, tmp_path):
    from janedoe.policy import parse_policy

    conditional = "      id: {mask: hash, when: {column: city, equals: Berlin}}\n      street"
    text = shop_module.POLICY.replace("      id: {mask: keep}\n      street", conditional)
    target = tmp_path / "copy.db"
    with pytest.raises(JaneDoeInputError, match="conditional rule would break the foreign key") as error:
        copy_database(parse_policy(text, "p.yaml"), sqlite_shop, str(target))
    assert "tables.addresses.columns.id.when" in str(error.value) and not target.exists()
