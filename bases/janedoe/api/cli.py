"""`janedoe-api serve ...`, `janedoe-api runner ...` and `janedoe-api keys create ...`."""

import argparse
import os
import sys

from janedoe.api.settings import LOG_FORMATS, LOG_LEVELS, ApiSettings, env_default
from janedoe.errors import JaneDoeInputError

DEFAULT_STATE = "sqlite:///janedoe.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="janedoe-api", description="The janedoe HTTP API.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run the API server",
        description="Every option can also come from an environment variable JANEDOE_API_<OPTION> (e.g. "
        "JANEDOE_API_STATE, JANEDOE_API_PORT); the state URL also from a file named by JANEDOE_API_STATE_FILE.",
    )
    serve.add_argument("--host", default=env_default("host", "127.0.0.1"), help="address to bind (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (8000)")
    serve.add_argument("--state", default=None,
                       help=f"sqlite:///FILE or postgresql://... (default {DEFAULT_STATE}; JANEDOE_API_STATE_FILE "
                       "reads it from a file)")
    serve.add_argument("--data-dir", default=None, help="where dataset files live (default: beside a SQLite state)")
    serve.add_argument("--workers", type=int, default=None, help="server processes sharing the state (1)")
    serve.add_argument("--max-body-mb", type=float, default=None, help="largest request body in MiB (64)")
    serve.add_argument("--rate", type=float, default=None, help="requests per second per API key, per process (2000)")
    serve.add_argument("--timeout", type=float, default=None, help="seconds before a synchronous call gives 504 (60)")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default=None,
                       help="warning (default); info logs one line per request")
    serve.add_argument("--log-format", choices=LOG_FORMATS, default=None,
                       help="text (default) or json: one JSON object per line, with a request id, never data values")

    runner = commands.add_parser(
        "runner", help="run queued analysis jobs in the sandbox",
        description="Loops: fail the jobs of dead runners, claim a queued job, run it in the sandbox. Start as many "
        "runners as you like on hosts that share the state and the data directory; Ctrl-C or SIGTERM cancels the "
        "running jobs (marked failed) and exits.",
    )
    runner.add_argument("--state", default=None,
                        help=f"the server's state (default JANEDOE_API_STATE, JANEDOE_API_STATE_FILE or "
                        f"{DEFAULT_STATE})")
    runner.add_argument("--data-dir", default=None,
                        help="the API servers' data directory (default JANEDOE_API_DATA_DIR, else beside a SQLite "
                        "state)")
    runner.add_argument("--max-jobs", type=int, default=1, help="jobs this process runs at once (1)")
    runner.add_argument("--once", action="store_true", help="claim and run at most one job per slot, then exit")
    runner.add_argument("--per-analyst", type=int, default=2,
                        help="running jobs per analyst across all runners (2): use the same value on every runner")
    runner.add_argument("--poll-seconds", type=float, default=2.0, help="wait between claims when idle (2)")
    runner.add_argument("--heartbeat-seconds", type=float, default=10.0,
                        help="how often a running job is marked alive (10); a job silent for 6x this (at least "
                        "120 s) is failed by the other runners")

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it (the only time it is shown)")
    create.add_argument("--state", default=DEFAULT_STATE, help=f"the server's state (default {DEFAULT_STATE})")
    create.add_argument("--role", required=True, help="the role the key acts as (a policy's roles: masking, access)")
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
        elif arguments.command == "runner":
            from janedoe.api.runner_process import run_runner

            environ = dict(os.environ)
            if arguments.state is None and "JANEDOE_API_STATE" not in environ \
                    and "JANEDOE_API_STATE_FILE" not in environ:
                arguments.state = DEFAULT_STATE
            settings = ApiSettings.from_environment(environ, state=arguments.state, data_dir=arguments.data_dir)
            run_runner(settings.state, data_dir=settings.data_dir, max_jobs=arguments.max_jobs,
                       once=arguments.once, per_analyst=arguments.per_analyst, poll_seconds=arguments.poll_seconds,
                       heartbeat_seconds=arguments.heartbeat_seconds)
        else:
            _create_key(arguments)
    except JaneDoeInputError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def _serve(arguments) -> None:
    import uvicorn

    environ = dict(os.environ)
    if arguments.state is None and "JANEDOE_API_STATE" not in environ and "JANEDOE_API_STATE_FILE" not in environ:
        arguments.state = DEFAULT_STATE
    rate = arguments.rate if arguments.rate is not None else _number_from_env(environ, "rate", float)
    max_body_mb = arguments.max_body_mb if arguments.max_body_mb is not None else _number_from_env(
        environ, "max_body_mb", float)
    settings = ApiSettings.from_environment(
        environ,
        state=arguments.state,
        data_dir=arguments.data_dir,
        max_body_bytes=int(max_body_mb * 1024 * 1024) if max_body_mb is not None else None,
        rate_per_second=rate,
        rate_burst=max(1, int(rate * 2)) if rate is not None else None,
        request_timeout_seconds=arguments.timeout if arguments.timeout is not None else _number_from_env(
            environ, "timeout", float),
        log_format=arguments.log_format,
        log_level=arguments.log_level,
    )
    port = arguments.port if arguments.port is not None else _number_from_env(environ, "port", int) or 8000
    workers = arguments.workers if arguments.workers is not None else _number_from_env(environ, "workers", int) or 1
    # Fail on a bad state before binding the port, with one line instead of a worker traceback.
    from janedoe.service_store import StateStore

    state = StateStore.open(settings.state, data_dir=settings.data_dir)
    state.close()
    if state.datasets.data_dir is None:
        raise JaneDoeInputError("a PostgreSQL state needs --data-dir (a directory every server process shares)",
                                where="--data-dir")
    worker_environment = settings.environment()
    if arguments.state is None and "JANEDOE_API_STATE" not in environ:
        del worker_environment["JANEDOE_API_STATE"]  # workers read the same file; the URL stays out of the environment
    os.environ.update(worker_environment)
    uvicorn.run(
        "janedoe.api.factory:app_from_environment",
        factory=True,
        host=arguments.host,
        port=port,
        workers=workers,
        loop="auto",  # uvloop when installed (uvicorn[standard]), else asyncio
        http="auto",  # httptools when installed, else h11
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=5,
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )


def _number_from_env(environ, name: str, kind):
    raw = environ.get("JANEDOE_API_" + name.upper())
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise JaneDoeInputError(f"is not a valid {kind.__name__}", where="JANEDOE_API_" + name.upper()) from None


def _create_key(arguments) -> None:
    from janedoe.service_store import StateStore

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
