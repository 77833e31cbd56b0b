"""Personal spans in generated free text with known spans: recall per entity, the rest of the text kept."""

import faker
import pyarrow as pa
import pytest
from janedoe.detection import ENTITIES, redact_spans, span_shares

from .labelled_data import LOCALES, notes

_TITLES = {"Le", "De", "Du", "La", "Van", "Da", "Del", "Dos", "Herr", "Frau", "PhD"}


def _name_words(name: str) -> list[str]:
    """The words of a generated name that are the person's (not 'Dr.', 'MBA', 'van')."""
    return [w for w in name.split() if w[0].isupper() and "." not in w and not w.isupper() and w not in _TITLES]


def _recall(locale: str, entity: str, count: int = 300) -> float:
    data = [item for item in notes(locale, count) if entity in item[1]]
    redacted = redact_spans(pa.array([text for text, _, _ in data]), (entity,)).to_pylist()
    found = 0
    for (_, spans, _), out in zip(data, redacted, strict=True):
        span = spans[entity][0]
        found += not any(w in out for w in _name_words(span)) if entity == "name" else span not in out
    return found / len(data)


@pytest.mark.parametrize("locale", LOCALES)
def test_emails_ibans_and_cards_are_redacted_with_recall_of_at_least_95_percent(locale):
    for entity in ("email", "iban", "card"):
        assert _recall(locale, entity) >= 0.95, entity


@pytest.mark.parametrize("locale", LOCALES)
def test_phones_and_listed_names_are_redacted_too(locale):
    # names come from Faker's own lists, so this measures the mechanics, not coverage of real-world names
    assert _recall(locale, "phone") >= 0.95
    assert _recall(locale, "name") >= 0.95


@pytest.mark.parametrize("locale", LOCALES)
def test_the_rest_of_the_text_is_kept(locale):
    data = notes(locale, 300)
    redacted = redact_spans(pa.array([text for text, _, _ in data])).to_pylist()
    kept = [word in out for (_, _, plain), out in zip(data, redacted, strict=True) for word in plain]
    assert sum(kept) / len(kept) >= 0.99  # dates, order numbers, amounts and the template's words survive


def test_placeholders_are_configurable_and_nulls_stay_null():
    values = pa.array(["Mail ann.lee@example.org, IBAN DE89 3704 0044 0532 0130 00", None, ""])
    out = redact_spans(values, ("email", "iban"), {"email": "<e>", "iban": r"\1"}).to_pylist()
    assert out == [r"Mail <e>, IBAN \1", None, ""]  # a replacement is literal text, never a regex group


def test_redaction_does_not_depend_on_the_batch():
    texts = [text for text, _, _ in notes("de_DE", 200)]
    whole = redact_spans(pa.array(texts)).to_pylist()
    pieces = [v for i in range(0, 200, 7) for v in redact_spans(pa.array(texts[i:i + 7])).to_pylist()]
    assert pieces == whole


def test_lorem_text_is_mostly_left_alone():
    """Precision on text with no personal data: names that are also words ('White', 'Costa') are the errors."""
    fake = faker.Faker("en_US")
    fake.seed_instance(3)
    paragraphs = [fake.paragraph(nb_sentences=3) for _ in range(300)]
    out = redact_spans(pa.array(paragraphs), tuple(e for e in ENTITIES if e != "name")).to_pylist()
    assert out == paragraphs  # the patterns find nothing in plain prose
    touched = sum(a != b for a, b in zip(paragraphs, redact_spans(pa.array(paragraphs)).to_pylist(), strict=True))
    assert touched / len(paragraphs) <= 0.2


def test_span_shares_say_which_entities_a_column_holds():
    shares = span_shares(pa.array(["call Jason Glover on 865.636.8615", "nothing here", None, "ann@example.org"]))
    assert shares["phone"] == pytest.approx(1 / 3) and shares["email"] == pytest.approx(1 / 3)
    assert shares["name"] == pytest.approx(1 / 3) and shares["iban"] == 0
