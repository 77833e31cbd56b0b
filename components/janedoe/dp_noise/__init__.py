"""janedoe dp_noise component."""

__all__: list[str] = []
