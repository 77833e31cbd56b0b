"""What one API process is configured with: flags first, then `JANEDOE_API_*` environment variables, then defaults.

Under a process manager the whole configuration can come from the environment; the state URL (which may hold a
database password) can come from a file (`JANEDOE_API_STATE_FILE`) so that it is in no command line and no unit file.
Worker processes read the same variables, so no settings blob carrying the URL is passed around.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from janedoe.errors import JaneDoeInputError

ENV_PREFIX = "JANEDOE_API_"
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


@dataclass(frozen=True)
class ApiSettings:
    state: str
    data_dir: str | None = None
    max_body_bytes: int = 64 * 1024 * 1024
    rate_per_second: float = 2000.0
    rate_burst: int = 4000
    request_timeout_seconds: float = 60.0
    key_cache_seconds: float = 5.0
    log_format: str = "text"
    log_level: str = "warning"

    def __post_init__(self) -> None:
        if self.log_format not in LOG_FORMATS:
            raise JaneDoeInputError(f"must be one of {', '.join(LOG_FORMATS)}", where="JANEDOE_API_LOG_FORMAT")
        if self.log_level not in LOG_LEVELS:
            raise JaneDoeInputError(f"must be one of {', '.join(LOG_LEVELS)}", where="JANEDOE_API_LOG_LEVEL")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], **given) -> "ApiSettings":
        """Settings from `given` (flags; None means not given), else JANEDOE_API_<FIELD>, else the default."""
        values = {}
        for field in fields(cls):
            if given.get(field.name) is not None:
                values[field.name] = given[field.name]
                continue
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if field.name == "state" and raw is None:
                raw = _state_from_file(environ)
            if raw is not None:
                values[field.name] = _parse(field.name, raw, _FIELD_TYPES.get(field.name, str))
        if "state" not in values:
            raise JaneDoeInputError("no state given: --state, JANEDOE_API_STATE or JANEDOE_API_STATE_FILE",
                                    where="JANEDOE_API_STATE")
        return cls(**values)

    def environment(self) -> dict[str, str]:
        """The variables that give a worker process these settings."""
        return {ENV_PREFIX + field.name.upper(): str(getattr(self, field.name))
                for field in fields(self) if getattr(self, field.name) is not None}


_FIELD_TYPES: dict[str, Callable[[str], object]] = {
    "max_body_bytes": int, "rate_per_second": float, "rate_burst": int, "request_timeout_seconds": float,
    "key_cache_seconds": float,
}


def _parse(name: str, raw: str, kind: Callable[[str], object]):
    try:
        return kind(raw)
    except ValueError:
        raise JaneDoeInputError(f"is not a valid {kind.__name__}", where=ENV_PREFIX + name.upper()) from None


def _state_from_file(environ: Mapping[str, str]) -> str | None:
    path = environ.get(ENV_PREFIX + "STATE_FILE")
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as error:
        raise JaneDoeInputError(f"cannot read the state file ({error.strerror})", where=f"{path}") from None
    if not value:
        raise JaneDoeInputError("the state file is empty", where=path)
    return value


def env_default(name: str, default=None):
    """A flag's default from JANEDOE_API_<NAME> (for the flags that are not settings fields: host, port, ...)."""
    return os.environ.get(ENV_PREFIX + name.upper(), default)
