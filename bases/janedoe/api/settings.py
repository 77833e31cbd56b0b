"""What one API process is configured with; the CLI fills it from flags."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiSettings:
    state: str
    data_dir: str | None = None
    max_body_bytes: int = 64 * 1024 * 1024
    rate_per_second: float = 2000.0
    rate_burst: int = 4000
    request_timeout_seconds: float = 60.0
    key_cache_seconds: float = 5.0
