"""A small customers table with personal columns and its policy with roles, for the API tests.

Raw values follow patterns no masking rule can produce (names like `Zed12 Quuxley`), so "no original value of a
masked column reaches a masked role" can be checked by plain set intersection.
"""

import csv

import numpy as np

POLICY = """\
version: 1
default: error
tables:
  customers:
    dp: {epsilon: 1.0}
    columns:
      id:    {mask: hash}
      name:  {mask: pseudonymize, kind: name}
      email: {mask: partial_email}
      ssn:   {mask: partial, prefix: 0, padding: "***-**-", suffix: 4}
      age:   {mask: generalize, step: 10, bounds: [0, 120]}
      city:  {mask: keep}
roles:
  owner: {raw: true}
  support:
    tables:
      customers:
        name: {mask: keep}
  analyst:
    tables:
      customers:
        email: {mask: hash}
        ssn: {mask: "null"}
"""

COLUMNS = ["id", "name", "email", "ssn", "age", "city"]
# What each role must never see raw, derived from POLICY by hand (not from the code under test).
MASKED_FOR_ROLE = {
    "owner": set(),
    "support": {"id", "email", "ssn", "age"},
    "analyst": {"id", "name", "email", "ssn", "age"},
}
ROLES_NOT_IN_POLICY = ["intern"]


def customers(rows: int = 250, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    cities = ["Lyon", "Porto", "Graz", "Turku", "Cork"]
    return [
        {
            "id": f"C{index:06d}",
            "name": f"Zed{index} Quuxley",
            "email": f"user{index}@example{index % 7}.org",
            "ssn": f"{rng.integers(100, 999)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}",
            "age": int(rng.integers(18, 90)),
            "city": cities[index % len(cities)],
        }
        for index in range(rows)
    ]


def write_customers_csv(path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
