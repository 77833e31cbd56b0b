"""parse_database_url and url_credentials: one reading of a database location (sqldb, the ledger, the state)."""

import os

import pytest
from janedoe.database_access import parse_database_url, redact_url, url_credentials
from janedoe.errors import JaneDoeInputError

SPECIAL = "p@ss:w/rd#?&%= é"  # every character with a meaning in a URL, and a non-ASCII one
ENCODED = "p%40ss%3Aw%2Frd%23%3F%26%25%3D%20%C3%A9"


def test_a_password_with_special_characters_is_decoded_once_and_never_shown():
    url = parse_database_url(f"postgresql://alice:{ENCODED}@db.example:5433/prod?sslmode=require")
    assert url.redacted == "postgresql://alice:***@db.example:5433/prod?sslmode=require"
    for shown in (url.redacted, repr(url), str(url), redact_url(url.conninfo)):
        assert "p@ss" not in shown and "p%40ss" not in shown and "rd" not in shown
    assert url_credentials(url.conninfo) == [SPECIAL]  # what a driver would quote, so errors can be scrubbed of it


def test_percent_encoded_credential_parameters_are_found_decoded():
    text = "postgresql://bob@h/db?sslpassword=%41bc&sslpassword=x%20y&application_name=shop%20app&password=s3cr%40t"
    assert sorted(url_credentials(text)) == ["Abc", "s3cr@t", "x y"]
    redacted = redact_url(text)
    assert "Abc" not in redacted and "s3cr" not in redacted and "application_name=shop" in redacted


def test_a_url_without_a_password():
    url = parse_database_url("postgres://bob@h:5432/db")
    assert url.redacted == "postgresql://bob@h:5432/db" and url_credentials(url.conninfo) == []
    assert url.conninfo == "postgresql://bob@h:5432/db"
    assert url.sqlalchemy_url() == "postgresql+psycopg://bob@h:5432/db"
    assert url_credentials("not a url") == [] and url_credentials("sqlite:///x.db") == []


def test_libpq_forms_pass_through_as_written():
    for text in ("postgresql:///shop?host=/var/run/postgresql", "postgresql://h1,h2/db", "postgresql://u@[::1]/db",
                 "postgresql://?dbname=shop&host=h"):
        assert parse_database_url(text).conninfo == text


def test_sqlite_locations(tmp_path):
    absolute = str(tmp_path / "my file.db")
    for text in (f"sqlite:///{absolute}", f"sqlite:///{absolute.replace(' ', '%20')}", absolute):
        url = parse_database_url(text)
        assert (url.dialect, url.sqlite_path, url.redacted) == ("sqlite", absolute, f"sqlite:///{absolute}")
        assert url.sqlalchemy_url() == f"sqlite:///{absolute}"
    relative = parse_database_url("sqlite:///rel/x.sqlite")
    assert relative.sqlite_path == os.path.abspath("rel/x.sqlite")


def test_any_path_is_only_for_places_that_take_nothing_but_a_database(tmp_path):
    path = str(tmp_path / "budgets.ledger")
    with pytest.raises(JaneDoeInputError, match="unsupported database URL"):
        parse_database_url(path)  # a CLI source: a file without a database suffix may be a CSV
    assert parse_database_url(path, any_path=True).sqlite_path == path


@pytest.mark.parametrize(
    "text",
    ["", "   ", "sqlite://", "sqlite:///:memory:", "mysql://root:Hunter2@localhost/x", "postgresql://",
     "postgresql://u:Hunter2@h:notaport/db", "postgresql+psycopg2://u:Hunter2@h/db", "file.csv"],
)
def test_refusals_are_one_line_input_errors_without_the_password(text):
    with pytest.raises(JaneDoeInputError) as refused:
        parse_database_url(text, where="--to")
    assert refused.value.where == "--to" and "Hunter2" not in str(refused.value)


def test_check_directory(tmp_path):
    parse_database_url(str(tmp_path / "x.db")).check_directory(where="w")
    parse_database_url("postgresql://h/db").check_directory(where="w")  # nothing to check
    with pytest.raises(JaneDoeInputError, match="directory") as refused:
        parse_database_url(str(tmp_path / "missing" / "x.db")).check_directory(where="ledger")
    assert refused.value.where == "ledger"
