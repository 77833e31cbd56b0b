"""janedoe sqldb component."""

__all__: list[str] = []
