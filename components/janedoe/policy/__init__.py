"""janedoe policy component."""

__all__: list[str] = []
