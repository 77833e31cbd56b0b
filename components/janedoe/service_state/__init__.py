"""janedoe service_state component."""

__all__: list[str] = []
