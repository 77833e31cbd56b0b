"""Headers in eight languages meet their dictionary entries after normalisation; check digits reject near-misses."""

import faker
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from janedoe.detection import (
    bsn_valid,
    codice_fiscale_valid,
    dni_valid,
    iban_valid,
    luhn_valid,
    match_header,
    nif_pt_valid,
    nir_valid,
    normalize_header,
    us_ssn_valid,
)

from .labelled_data import PERSONAL_HEADERS, PLAIN_HEADERS


@pytest.mark.parametrize(("header", "normalised"), [
    ("Geburts-Datum", "geburts datum"), ("dateOfBirth", "date of birth"), ("Prénom", "prenom"),
    ("STRAßE", "strasse"), ("E_Mail__Adresse", "e mail adresse"), ("ＰＬＺ", "plz"),
    ("メールアドレス", "メールアドレス"),
])
def test_headers_are_normalised_for_case_accents_and_separators(header, normalised):
    assert normalize_header(header) == normalised


@pytest.mark.parametrize("locale", sorted(PERSONAL_HEADERS))
def test_every_personal_header_of_each_language_is_matched_to_its_kind(locale):
    for kind, header in PERSONAL_HEADERS[locale].items():
        match = match_header(header)
        assert match is not None and match.kind == kind, (header, match)


@pytest.mark.parametrize("header", [*PLAIN_HEADERS.values(), "hostname", "Firmenname", "report", "sort_order",
                                    "hotel", "Artikelnummer", "商品名", "created_at"])
def test_plain_headers_match_nothing(header):
    assert match_header(header) is None


@pytest.mark.parametrize(("header", "kind", "term"), [
    ("KundenVorname", "first_name", "vorname"), ("Rechnungsadresse", "address", "rechnungsadresse"),
    ("kunden_email", "email", "email"), ("Tel_Privat", "phone", "tel"), ("customerDateOfBirth", "birth_date",
                                                                          "date of birth"),
])
def test_compound_and_qualified_headers_name_their_dictionary_entry(header, kind, term):
    match = match_header(header)
    assert (match.kind, match.term) == (kind, term)


def _compact(values: list[str]) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_upper(pa.array(values)), r"[\s\-.]", "")


@pytest.mark.parametrize(("locale", "provider", "check"), [
    ("en_US", "credit_card_number", luhn_valid), ("de_DE", "iban", iban_valid), ("nl_NL", "iban", iban_valid),
    ("fr_FR", "ssn", nir_valid), ("es_ES", "nif", dni_valid), ("es_ES", "nie", dni_valid),
    ("it_IT", "ssn", codice_fiscale_valid), ("nl_NL", "ssn", bsn_valid),
])
def test_generated_identifiers_pass_and_one_changed_digit_fails(locale, provider, check):
    fake = faker.Faker(locale)
    fake.seed_instance(11)
    values = [getattr(fake, provider)() for _ in range(200)]
    assert check(_compact(values)).all()
    # a near-miss: the last digit (or the IBAN's second check digit) changed by one
    def changed(value: str) -> str:
        position = 3 if check is iban_valid else max(i for i, c in enumerate(value) if c.isdigit())
        return value[:position] + str((int(value[position]) + 1) % 10) + value[position + 1:]

    near = [changed(v.replace(" ", "")) for v in values]
    # every one of these checks sees any single changed digit
    assert not check(_compact(near)).any()


def test_near_misses_named_in_the_brief_are_rejected():
    assert luhn_valid(pa.array(["4539578763621486", "4539578763621487"])).tolist() == [True, False]
    assert iban_valid(pa.array(["DE89370400440532013000", "DE88370400440532013000"])).tolist() == [True, False]
    assert us_ssn_valid(pa.array(["233-49-9927", "987-65-4321", "000-12-3456", "123-45-0000"])).tolist() == [
        True, False, False, False]
    assert nif_pt_valid(pa.array(["123456789", "123456780"])).tolist() == [True, False]


def test_nulls_and_garbage_are_not_identifiers():
    values = pa.array([None, "", "hello", "١٢٣٤٥٦٧٨٩٠١٢٣"], pa.string())
    for check in (luhn_valid, iban_valid, nir_valid, dni_valid, codice_fiscale_valid, bsn_valid, us_ssn_valid):
        assert not check(values).any()
