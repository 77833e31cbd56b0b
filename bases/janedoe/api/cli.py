"""`janedoe-api serve ...` and `janedoe-api keys create ...`."""

import argparse
import os
import sys

from janedoe.api.settings import ApiSettings
from janedoe.errors import JaneDoeInputError

DEFAULT_STATE = "sqlite:///janedoe.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="janedoe-api", description="The janedoe HTTP API.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--state", default=DEFAULT_STATE, help="sqlite:///FILE (default) or postgresql://...")
    serve.add_argument("--data-dir", default=None, help="where dataset files live (default: beside a SQLite state)")
    serve.add_argument("--workers", type=int, default=1, help="server processes sharing the state")
    serve.add_argument("--max-body-mb", type=float, default=64.0)
    serve.add_argument("--rate", type=float, default=2000.0, help="requests per second per API key (per process)")
    serve.add_argument("--timeout", type=float, default=60.0, help="seconds before a synchronous call gives 504")
    serve.add_argument("--log-level", default="warning")

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it (the only time it is shown)")
    create.add_argument("--state", default=DEFAULT_STATE)
    create.add_argument("--role", required=True)
    create.add_argument("--name", required=True, help="the analyst name: budgets and the audit log use it")
    create.add_argument("--admin", action="store_true", help="may manage datasets and keys")
    create.add_argument("--tools", action="store_true", help="may use /v1/mask and /v1/kanon/* on its own uploads")
    return parser


def main() -> None:
    from janedoe.tabular import keep_pandas_out

    keep_pandas_out()  # start as from the project's own wheel, where pandas is not installed
    arguments = _parser().parse_args()
    try:
        if arguments.command == "serve":
            _serve(arguments)
        else:
            _create_key(arguments)
    except JaneDoeInputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _serve(arguments) -> None:
    import uvicorn

    settings = ApiSettings(
        state=arguments.state,
        data_dir=arguments.data_dir,
        max_body_bytes=int(arguments.max_body_mb * 1024 * 1024),
        rate_per_second=arguments.rate,
        rate_burst=max(1, int(arguments.rate * 2)),
        request_timeout_seconds=arguments.timeout,
    )
    # Fail on a bad state before binding the port, with one line instead of a worker traceback.
    from janedoe.service_state import StateStore

    state = StateStore.open(settings.state, data_dir=settings.data_dir)
    state.close()
    if state.datasets.data_dir is None:
        raise JaneDoeInputError("a PostgreSQL state needs --data-dir (a directory every server process shares)",
                                where="--data-dir")
    os.environ["JANEDOE_API_SETTINGS"] = _encode(settings)
    uvicorn.run(
        "janedoe.api.factory:app_from_environment",
        factory=True,
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        loop="auto",  # uvloop when installed (uvicorn[standard]), else asyncio
        http="auto",  # httptools when installed, else h11
        log_level=arguments.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


def _encode(settings: ApiSettings) -> str:
    import json

    return json.dumps(settings.__dict__)


def _create_key(arguments) -> None:
    from janedoe.service_state import StateStore

    state = StateStore.open(arguments.state)
    try:
        key, info = state.keys.create(
            role=arguments.role, name=arguments.name, admin=arguments.admin, tools=arguments.tools
        )
    finally:
        state.close()
    print(key)
    grants = (", admin" if info.admin else "") + (", tools" if info.tools and not info.admin else "")
    print(f"key id {info.key_id}: role {info.role}, analyst {info.name}{grants}; "
          "store it now, it is not shown again", file=sys.stderr)
