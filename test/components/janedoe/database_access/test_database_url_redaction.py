"""redact_url: no credential of a database URL survives, in the user part or in any query parameter that holds one."""

import pytest
from janedoe.database_access import parse_database_url, redact_url
from janedoe.errors import JaneDoeInputError

CREDENTIAL = "Cr3dential-Value"


@pytest.mark.parametrize("parameter", ["password", "sslpassword", "passfile", "sslkey", "api_token", "client_secret",
                                       "PASSWORD", "SSLPassword"])
def test_every_credential_parameter_is_hidden(parameter):
    url = f"postgresql://alice:{CREDENTIAL}@db.example:5433/prod?sslmode=require&{parameter}={CREDENTIAL}"
    redacted = redact_url(url)
    assert CREDENTIAL not in redacted
    assert redacted.startswith("postgresql://alice:***@db.example:5433/prod?")
    assert f"{parameter}=***" in redacted and "sslmode=require" in redacted
    assert CREDENTIAL not in parse_database_url(url).redacted


def test_repeated_and_percent_encoded_credentials_are_hidden():
    url = f"postgresql://bob@h/db?sslpassword={CREDENTIAL}&sslpassword=%41{CREDENTIAL}&application_name=shop"
    redacted = redact_url(url)
    assert CREDENTIAL not in redacted and "application_name=shop" in redacted
    assert redacted.count("sslpassword=***") == 2


def test_urls_without_credentials_are_unchanged_and_unparsable_ones_hidden():
    assert redact_url("postgresql://bob@h/db") == "postgresql://bob@h/db"
    assert redact_url("sqlite:////srv/shop.db") == "sqlite:////srv/shop.db"
    assert redact_url(f"host=db password={CREDENTIAL}") == "<unparsable url>"
    assert redact_url(f"postgresql://u:{CREDENTIAL}@h:notaport/db") == "<unparsable url>"


def test_an_unsupported_url_error_shows_no_credential():
    with pytest.raises(JaneDoeInputError) as error:
        parse_database_url(f"mysql://root@localhost/x?sslpassword={CREDENTIAL}", where="url")
    assert CREDENTIAL not in str(error.value)
