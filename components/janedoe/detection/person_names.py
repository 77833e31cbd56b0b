"""Person names by a name list: the first and last names of Faker's person providers for the languages the header
dictionaries cover, read from the installed Faker (no download) once per process.

A list finds the common names of these languages, not every name: rare and foreign names pass unseen, and names that
are also words ('Rose', 'Grant') are found where they are words. Tokens must start with a capital letter.
"""

import importlib
from functools import lru_cache

import pyarrow as pa

LOCALES = ("en_US", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_PT", "nl_NL", "ja_JP")
_LATIN_MIN = 2  # 'Wu', 'Sá'; the particles below are words more often than names
_PARTICLES = {"Le", "La", "De", "Du", "Da", "Do", "Di", "Del", "Della", "Van", "Von", "Der", "Den", "Ten", "Ter", "Zu",
              "Dos", "Das", "Des", "Mc", "Mac", "St", "El", "Al"}


@lru_cache(maxsize=1)
def name_lists() -> tuple[pa.Array, pa.Array]:
    """(first names, last names) as Arrow string arrays, each name once."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        first.update(_names(provider, ("first_names", "first_names_female", "first_names_male",
                                        "first_romanized_names")))
        last.update(_names(provider, ("last_names", "last_romanized_names")))
    return pa.array(sorted(first), pa.string()), pa.array(sorted(last), pa.string())


@lru_cache(maxsize=1)
def all_names() -> pa.Array:
    first, last = name_lists()
    return pa.array(sorted(set(first.to_pylist()) | set(last.to_pylist())), pa.string())


def _names(provider, attributes: tuple[str, ...]) -> set[str]:
    found = set()
    for attribute in attributes:
        for name in getattr(provider, attribute, ()):  # tuples, or dicts of name -> frequency
            name = str(name).strip()
            if _plausible(name):
                found.add(name)
            # 'van der Leek' is written that way, but read word by word: its capitalised words are names too
            found.update(word for word in name.split() if len(word) > 2 and _plausible(word) and word[0].isupper())
    return found


def _plausible(name: str) -> bool:
    if not name or name in _PARTICLES:
        return False
    if name.isascii() or name[0].isalpha() and name[0].isupper():
        return len(name) >= _LATIN_MIN and name[0].isupper()
    return len(name) >= 1  # kanji and kana names: short by nature
