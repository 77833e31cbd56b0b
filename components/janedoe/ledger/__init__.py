"""janedoe ledger component."""

__all__: list[str] = []
