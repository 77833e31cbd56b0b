"""Generated data with known answers, per Faker locale: a customer table whose personal columns are known, and free
text whose personal spans are known."""

import random

import faker
import pyarrow as pa

LOCALES = ("en_US", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_PT", "nl_NL", "ja_JP")

# Headers as a user of each language writes them; every one names a personal column.
PERSONAL_HEADERS = {
    "en_US": {"first_name": "FirstName", "last_name": "last_name", "email": "Email Address", "phone": "mobile",
              "birth_date": "date_of_birth", "address": "street", "postal_code": "zip", "city": "City",
              "iban": "IBAN", "national_id": "SSN", "salary": "Salary", "free_text": "notes"},
    "fr_FR": {"first_name": "Prénom", "last_name": "Nom", "email": "Courriel", "phone": "Téléphone",
              "birth_date": "Date_de_naissance", "address": "Adresse", "postal_code": "Code postal", "city": "Ville",
              "iban": "IBAN", "national_id": "Numéro de sécurité sociale", "salary": "Salaire",
              "free_text": "Commentaires"},
    "de_DE": {"first_name": "Vorname", "last_name": "Nachname", "email": "E-Mail", "phone": "Telefonnummer",
              "birth_date": "Geburts-Datum", "address": "Straße", "postal_code": "PLZ", "city": "Wohnort",
              "iban": "IBAN", "national_id": "Sozialversicherungsnummer", "salary": "Gehalt",
              "free_text": "Bemerkungen"},
    "es_ES": {"first_name": "primer_nombre", "last_name": "Apellidos", "email": "correo_electronico",
              "phone": "Teléfono", "birth_date": "fechaDeNacimiento", "address": "Dirección",
              "postal_code": "Código Postal", "city": "Ciudad", "iban": "cuenta_bancaria", "national_id": "DNI",
              "salary": "Sueldo", "free_text": "Observaciones"},
    "it_IT": {"first_name": "nome_di_battesimo", "last_name": "Cognome", "email": "indirizzo_email",
              "phone": "Cellulare", "birth_date": "data_di_nascita", "address": "Indirizzo",
              "postal_code": "codice_postale", "city": "Città", "iban": "IBAN", "national_id": "Codice Fiscale",
              "salary": "Stipendio", "free_text": "Note"},
    "pt_PT": {"first_name": "primeiro_nome", "last_name": "Apelido", "email": "email", "phone": "Telemóvel",
              "birth_date": "Data de Nascimento", "address": "Morada", "postal_code": "Código Postal",
              "city": "Localidade", "iban": "NIB", "national_id": "Cartão de Cidadão", "salary": "Salário",
              "free_text": "Observações"},
    "nl_NL": {"first_name": "Voornaam", "last_name": "Achternaam", "email": "E-mailadres",
              "phone": "Telefoonnummer", "birth_date": "Geboortedatum", "address": "Straat", "postal_code": "Postcode",
              "city": "Woonplaats", "iban": "Rekeningnummer", "national_id": "BSN", "salary": "Salaris",
              "free_text": "Opmerkingen"},
    "ja_JP": {"first_name": "名", "last_name": "姓", "email": "メールアドレス", "phone": "電話番号",
              "birth_date": "生年月日", "address": "住所", "postal_code": "郵便番号", "city": "市区町村",
              "iban": "口座番号", "national_id": "マイナンバー", "salary": "給与", "free_text": "備考"},
}
PLAIN_HEADERS = {"status": "status", "quantity": "quantity", "created": "created_at", "product": "product_name",
                 "total": "order_total", "sku": "sku"}


def customer_table(locale: str, rows: int = 200, seed: int = 1) -> tuple[pa.Table, dict[str, str]]:
    """(table, header -> true kind or 'plain') for one locale."""
    fake = faker.Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    h = PERSONAL_HEADERS[locale]
    national = fake.nif if locale == "es_ES" else fake.ssn
    columns = {
        h["first_name"]: [fake.first_name() for _ in range(rows)],
        h["last_name"]: [fake.last_name() for _ in range(rows)],
        h["email"]: [fake.email() for _ in range(rows)],
        h["phone"]: [fake.phone_number() for _ in range(rows)],
        h["birth_date"]: pa.array([fake.date_of_birth(minimum_age=18, maximum_age=90) for _ in range(rows)]),
        h["address"]: [fake.street_address() for _ in range(rows)],
        h["postal_code"]: [fake.postcode() for _ in range(rows)],
        h["city"]: [fake.city() for _ in range(rows)],
        h["iban"]: [fake.iban() for _ in range(rows)],
        h["national_id"]: [national() for _ in range(rows)],
        h["salary"]: [round(rng.uniform(20_000, 120_000), 2) for _ in range(rows)],
        h["free_text"]: [note(fake, rng)[0] if rng.random() < 0.7 else None for _ in range(rows)],
        "status": [rng.choice(["new", "paid", "shipped"]) for _ in range(rows)],
        "quantity": [rng.randint(1, 9) for _ in range(rows)],
        "created_at": pa.array([fake.date_between("-2y") for _ in range(rows)]),
        "product_name": [fake.word().title() for _ in range(rows)],
        "order_total": [round(rng.uniform(5, 500), 2) for _ in range(rows)],
        "sku": [f"SKU-{rng.randint(10000, 99999)}" for _ in range(rows)],
    }
    truth = {header: kind for kind, header in h.items()} | {name: "plain" for name in PLAIN_HEADERS.values()}
    return pa.table(columns), truth


_TEMPLATES = (
    "{name} called on {date} about order {order}: reach at {email} or {phone}.",
    "Refund of {amount} EUR to {iban} requested by {name}, ticket {order}.",
    "Card {card} declined twice; {name} will call back on {phone}.",
    "Asked to update the e-mail to {email} (order {order}, {date}).",
    "Delivery moved to {date}; no other change, ticket {order}.",
)


def note(fake: faker.Faker, rng: random.Random) -> tuple[str, dict[str, list[str]], list[str]]:
    """(text, entity -> spans in it, the words that are not personal and must survive redaction)."""
    template = rng.choice(_TEMPLATES)
    spans = {"name": [fake.name()], "email": [fake.email()], "phone": [fake.phone_number()],
             "iban": [fake.iban()], "card": [fake.credit_card_number()]}
    plain = {"date": fake.date_between("-1y").isoformat(), "order": str(rng.randint(10_000, 99_999)),
             "amount": f"{rng.uniform(5, 500):.2f}"}
    text = template.format(**{k: v[0] for k, v in spans.items()}, **plain)
    present = {k: v for k, v in spans.items() if "{" + k + "}" in template}
    kept = [plain[k] for k in plain if "{" + k + "}" in template]
    kept += [w for w in template.split() if "{" not in w]
    return text, present, kept


def notes(locale: str, count: int, seed: int = 2) -> list[tuple[str, dict[str, list[str]], list[str]]]:
    fake = faker.Faker(locale)
    fake.seed_instance(seed)
    rng = random.Random(seed)
    return [note(fake, rng) for _ in range(count)]
