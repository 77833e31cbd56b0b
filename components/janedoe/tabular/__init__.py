"""janedoe tabular component."""

__all__: list[str] = []
