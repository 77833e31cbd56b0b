"""The one verdict per column: generated customer tables in eight languages, headers and values, and the reasons."""

import datetime as dt
import random

import faker
import pyarrow as pa
import pytest
from janedoe.detection import detect_column, detect_value_kind

from .labelled_data import LOCALES, customer_table

# what values alone can show (addresses, postal codes, cities and salaries need their header)
_VALUE_KINDS = {"first_name", "last_name", "email", "phone", "birth_date", "iban", "national_id", "free_text"}


def _verdicts(table: pa.Table, headers: bool = True) -> dict[str, str | None]:
    return {
        name: detect_column(name if headers else f"c{i}", table.column(name).combine_chunks(),
                            table.schema.field(name).type).kind
        for i, name in enumerate(table.column_names)
    }


@pytest.mark.parametrize("locale", LOCALES)
def test_headers_and_values_find_every_personal_column_and_no_plain_one(locale):
    table, truth = customer_table(locale, rows=150)
    found = _verdicts(table)
    assert {n: found[n] for n in table.column_names} == {n: (None if k == "plain" else k) for n, k in truth.items()}


@pytest.mark.parametrize("locale", LOCALES)
def test_values_alone_find_their_kinds_whatever_the_header(locale):
    table, truth = customer_table(locale, rows=150, seed=3)
    found = _verdicts(table, headers=False)
    for name, kind in truth.items():
        if kind in _VALUE_KINDS:
            assert found[name] == kind, (name, found[name])
        elif kind == "plain":
            assert found[name] is None, (name, found[name])


def test_a_german_customer_table_finds_at_least_nine_of_its_ten_personal_columns():
    fake = faker.Faker("de_DE")
    fake.seed_instance(5)
    rows = 120
    table = pa.table({
        "KundenVorname": [fake.first_name() for _ in range(rows)],
        "Familienname": [fake.last_name() for _ in range(rows)],
        "E_Mail_Adresse": [fake.email() for _ in range(rows)],
        "Tel_Privat": [fake.phone_number() for _ in range(rows)],
        "Geb.-Datum": [fake.date_of_birth(minimum_age=18).strftime("%d.%m.%Y") for _ in range(rows)],
        "Strasse_Hausnr": [fake.street_address() for _ in range(rows)],
        "PLZ": [fake.postcode() for _ in range(rows)],
        "Ort": [fake.city() for _ in range(rows)],
        "Bankverbindung": [fake.iban() for _ in range(rows)],
        "Bemerkung": [f"Rückruf bei {fake.name()} unter {fake.phone_number()}" for _ in range(rows)],
        "Bestellstatus": [random.Random(i).choice(["offen", "bezahlt"]) for i in range(rows)],
        "Menge": list(range(rows)),
    })
    found = _verdicts(table)
    personal = [n for n in table.column_names[:10] if found[n] is not None]
    assert len(personal) >= 9, found
    assert found["Bestellstatus"] is None and found["Menge"] is None
    # a text birth date in day.month.year keeps only its year
    assert detect_column("Geb.-Datum", table.column("Geb.-Datum").combine_chunks()).rule["mask"] == "regex_replace"


def test_the_reason_names_the_dictionary_entry_and_the_share_of_sampled_values():
    fake = faker.Faker("de_DE")
    fake.seed_instance(1)
    ibans = [fake.iban() for _ in range(9)] + ["DE00123456789012345678"]  # one with a wrong check
    verdict = detect_column("Kontonummer", pa.array(ibans))
    assert verdict.rule == {"mask": "pseudonymize", "kind": "iban"}
    assert "90% of 10 sampled values pass the IBAN mod-97 check" in verdict.reason
    assert "'kontonummer' (de iban)" in verdict.reason


def test_check_digits_decide_whether_numbers_are_cards():
    rng = random.Random(4)
    random_numbers = pa.array(["".join(rng.choice("0123456789") for _ in range(16)) for _ in range(200)])
    assert detect_value_kind(random_numbers) is None  # about one in ten passes Luhn by chance: not a card column
    fake = faker.Faker()
    fake.seed_instance(4)
    assert detect_value_kind(pa.array([fake.credit_card_number() for _ in range(200)])).kind == "card"


def test_recent_dates_are_not_birth_dates_and_old_ones_are():
    today = dt.date.today()
    recent = pa.array([today - dt.timedelta(days=d) for d in range(0, 700, 7)])
    births = pa.array([dt.date(1940 + i % 60, 1 + i % 12, 1 + i % 28) for i in range(100)])
    assert detect_value_kind(recent) is None
    assert detect_value_kind(births).kind == "birth_date"


def test_nulls_empty_samples_and_all_null_columns_are_handled():
    assert detect_column("email", None).rule == {"mask": "pseudonymize", "kind": "email"}  # the header alone
    assert detect_column("email", pa.nulls(5, pa.string())).kind == "email"
    assert detect_column("colour", pa.nulls(5, pa.string())).kind is None
    assert detect_column("c", pa.array([None, "a@b.io", None, "c@d.org", "e@f.net"])).kind == "email"
    assert detect_column("c", pa.array([], pa.string())).kind is None


def test_a_rule_that_does_not_suit_the_type_is_not_suggested():
    verdict = detect_column("phone", pa.array([1, 2, 3]))  # an integer column named phone
    assert verdict.rule == {"mask": "keep"} and "review by hand" in verdict.reason
