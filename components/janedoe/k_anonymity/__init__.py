"""janedoe k_anonymity component."""

__all__: list[str] = []
