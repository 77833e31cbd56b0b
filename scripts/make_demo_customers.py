"""Generate data/demo/customers.csv once: 2,000 fictitious customers with personal columns, from a seeded Faker.

Run: .venv/bin/python scripts/make_demo_customers.py  (the CSV is committed; re-running gives the same file for the
same Faker version).
"""

import csv
import random
from pathlib import Path

from faker import Faker

ROWS = 2000
OUTPUT = Path(__file__).resolve().parent.parent / "data" / "demo" / "customers.csv"
NOTES = [
    "Called about invoice; spoke with {name}, reachable at {phone}.",
    "Prefers email: {email}. Birthday on {birth}.",
    "Moved to {address}.",
    "Asked to update IBAN to {iban}.",
    "",
    "VIP customer since {year}.",
    "Complained about delivery to {city}; contact {email}.",
]


def main() -> None:
    fake = Faker("en_US")
    fake.seed_instance(20240601)
    rng = random.Random(20240601)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUTPUT, "w", newline="", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        writer.writerow(
            ["id", "name", "email", "phone", "ssn", "birth_date", "salary", "city", "notes", "iban", "ip_address"]
        )
        for customer_id in range(1, ROWS + 1):
            name = fake.name()
            email = f"{name.lower().replace(' ', '.')}@{fake.free_email_domain()}"
            phone = fake.phone_number()
            birth = fake.date_of_birth(minimum_age=18, maximum_age=90)
            city = fake.city()
            note = rng.choice(NOTES).format(
                name=name,
                phone=phone,
                email=email,
                birth=birth.isoformat(),
                address=fake.address().replace("\n", ", "),
                iban=fake.iban(),
                year=rng.randint(2005, 2024),
                city=city,
            )
            writer.writerow([
                customer_id, name, email, phone, fake.ssn(), birth.isoformat(), round(rng.lognormvariate(10.8, 0.5), 2),
                city, note, fake.iban(), fake.ipv4_public(),
            ])


if __name__ == "__main__":
    main()
