"""Builds the app inside each uvicorn worker process from the settings the `serve` command put in the environment."""

import importlib.util
import json
import os
import sys

from fastapi import FastAPI
from janedoe.api.app import create_app
from janedoe.api.settings import ApiSettings


def app_from_environment() -> FastAPI:
    _remember_missing_dateutil()
    return create_app(ApiSettings(**json.loads(os.environ["JANEDOE_API_SETTINGS"])))


def _remember_missing_dateutil() -> None:
    """pyarrow tries `import dateutil.relativedelta` on every Python-object conversion; a failed import is not cached,
    so without dateutil each masked batch paid about ten filesystem searches. Recording the absence once stops that."""
    if importlib.util.find_spec("dateutil") is None:
        sys.modules.setdefault("dateutil", None)
        sys.modules.setdefault("dateutil.relativedelta", None)
