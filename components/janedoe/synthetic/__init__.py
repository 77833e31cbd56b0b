"""janedoe synthetic component."""

__all__: list[str] = []
