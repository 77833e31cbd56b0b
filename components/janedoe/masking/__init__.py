"""janedoe masking component."""

__all__: list[str] = []
