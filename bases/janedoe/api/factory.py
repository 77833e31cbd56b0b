"""Builds the app inside each uvicorn worker process from the settings the `serve` command put in the environment."""

import json
import os

from fastapi import FastAPI
from janedoe.api.app import create_app
from janedoe.api.settings import ApiSettings


def app_from_environment() -> FastAPI:
    return create_app(ApiSettings(**json.loads(os.environ["JANEDOE_API_SETTINGS"])))
