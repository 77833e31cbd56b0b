"""The janedoe HTTP API base (FastAPI): parse requests, call components, render responses."""

from janedoe.api.cli import main
from janedoe.api.settings import ApiSettings


def create_app(settings: ApiSettings):
    """The FastAPI app for these settings (imported on demand, so `janedoe-api keys ...` starts fast)."""
    from janedoe.api.app import create_app as build_app

    return build_app(settings)


__all__ = ["main", "create_app", "ApiSettings"]
