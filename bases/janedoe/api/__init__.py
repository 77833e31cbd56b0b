"""The janedoe HTTP API base (FastAPI): parse requests, call components, render responses."""


def main() -> None:
    raise SystemExit("janedoe-api: not built yet")


__all__ = ["main"]
