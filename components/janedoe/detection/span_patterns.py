"""Personal spans inside free text, as RE2 patterns (pyarrow's regex engine: no look-around, so boundaries are `\\b`).

Order matters when spans are replaced one entity after another: e-mail addresses go before names (a name inside an
address is part of the address), IBANs and cards before phones (their digit runs would look like phone numbers).
Patterns lean towards finding: a card-shaped number with a wrong Luhn digit is still redacted, as a near-miss is more
likely a typo than a non-personal number.
"""

EMAIL = r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)*\.\p{L}{2,}"
IBAN = r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"
CARD = r"\b(?:\d{4}[ \-]?){2}\d{4}(?:[ \-]?\d{1,7})?\b|\b\d{4}[ \-]?\d{6}[ \-]?\d{5}\b"
NATIONAL_ID = "|".join((
    r"\b\d{3}-\d{2}-\d{4}\b",  # US SSN
    r"\b[12] ?\d{2} ?\d{2} ?(?:\d{2}|2A|2B) ?\d{3} ?\d{3} ?\d{2}\b",  # French NIR
    r"\b[XYZ]?\d{7,8}-?[A-Z]\b",  # Spanish DNI / NIE
    r"\b[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]\b",  # Italian codice fiscale
))
IP_ADDRESS = r"\b(?:\d{1,3}\.){3}\d{1,3}\b"
PHONE = "(?:" + "|".join((
    r"\+\d{1,3}[ .\-]?(?:\(0?\d{0,4}\)[ .\-]?)?\d{1,5}(?:[ .\-]?\d{2,5}){1,5}",  # international: +33 3 66 74 06 81
    r"\(\d{2,5}\)[ .\-]?\d{3,9}(?:[ .\-]\d{2,5}){0,2}",  # (0783)-533740, (351) 229 972 200
    r"\b(?:001[ .\-]?|1[ .\-])?\d{3}[ .\-]\d{3}[ .\-]\d{4}",  # 865.636.8615, 001-515-800-0806
    r"\b0\d(?: \d{2}){4}|\b0\d(?:\.\d{2}){4}|\b0\d(?:-\d{2}){4}",  # 01 23 45 67 89
    r"\b0\d{1,4}[ \-/]\d{3,4}[ \-]\d{3,4}",  # 06 1234 5678, 070-5000-8063
    r"\b\d{2,4}-\d{3,4}-\d{4}",  # 22-0033-2245
    r"\b0\d{2,5}[ /\-]\d{3,8}",  # 03533 74068, 020-1234567
    r"\b\d{3} \d{3} \d{3}",  # 912 345 678
    r"\b\d{9,12}",  # 3274251083, 045374068
)) + r")(?: ?(?:x|ext\.?) ?\d{1,6}\b|\b)"  # an extension, or the number ends there

# entity -> pattern, in the order they are replaced; `name` is found by the name list, not by a pattern.
SPAN_PATTERNS: dict[str, str] = {
    "email": EMAIL,
    "iban": IBAN,
    "card": CARD,
    "national_id": NATIONAL_ID,
    "ip": IP_ADDRESS,
    "phone": PHONE,
}
ENTITIES = (*SPAN_PATTERNS, "name")
