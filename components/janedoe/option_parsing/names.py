"""Lists of names (columns, tables) written as one option value: `a, b,c`."""


def comma_separated_names(text: str | None) -> list[str]:
    """The names in order, each stripped; empty items (`a,,b`, a trailing comma) and an absent value give none."""
    return [name.strip() for name in (text or "").split(",") if name.strip()]
