"""Builds the app inside each uvicorn worker process from the `JANEDOE_API_*` variables the `serve` command set."""

import importlib.util
import os
import sys

from fastapi import FastAPI
from janedoe.api.app import create_app
from janedoe.api.request_log import configure_logging
from janedoe.api.settings import ApiSettings


def app_from_environment() -> FastAPI:
    _remember_missing_dateutil()
    settings = ApiSettings.from_environment(os.environ)
    configure_logging(settings.log_format, settings.log_level)
    return create_app(settings)


def _remember_missing_dateutil() -> None:
    """pyarrow tries `import dateutil.relativedelta` on every Python-object conversion; a failed import is not cached,
    so without dateutil each masked batch paid about ten filesystem searches. Recording the absence once stops that."""
    if importlib.util.find_spec("dateutil") is None:
        sys.modules.setdefault("dateutil", None)
        sys.modules.setdefault("dateutil.relativedelta", None)
