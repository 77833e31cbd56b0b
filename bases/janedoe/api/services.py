"""What the routes share inside one process: the state store, the key cache, the rate limiter, the settings."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from janedoe.analysis_jobs import AnalysisJobs, ReleaseReviews
from janedoe.api.auth import KeyCache
from janedoe.api.limits import RateLimiter
from janedoe.api.settings import ApiSettings
from janedoe.dataset_masking import MaskedViews
from janedoe.dataset_privacy import DatasetPrivacy, SyntheticJobs
from janedoe.errors import JaneDoeInputError
from janedoe.ledger import Ledger
from janedoe.service_store import StateStore, remove_leftovers


@dataclass
class Services:
    settings: ApiSettings
    state: StateStore
    key_cache: KeyCache
    rate_limiter: RateLimiter
    views: MaskedViews
    privacy: DatasetPrivacy
    synthetic_jobs: SyntheticJobs
    analysis_jobs: AnalysisJobs
    reviews: ReleaseReviews

    @classmethod
    def start(cls, settings: ApiSettings) -> "Services":
        state = StateStore.open(settings.state, data_dir=settings.data_dir)
        state.jobs.fail_orphans()
        if state.datasets.data_dir is not None:
            remove_leftovers(state.datasets.data_dir)  # raw upload copies and temp files of crashed processes
        views = MaskedViews()
        privacy = DatasetPrivacy(Ledger.open(state.ledger_url), views)
        analysis_jobs = AnalysisJobs.from_state(state)
        return cls(
            settings=settings,
            state=state,
            key_cache=KeyCache(settings.key_cache_seconds),
            rate_limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
            views=views,
            privacy=privacy,
            synthetic_jobs=SyntheticJobs(state, privacy),
            analysis_jobs=analysis_jobs,
            reviews=ReleaseReviews(analysis_jobs),
        )

    def stage_one_dir(self, dataset_id: str) -> Path:
        """Where a dataset's stage-1 package lives: the same folder the job runner publishes to and reads from."""
        if self.state.datasets.data_dir is None:
            raise JaneDoeInputError("this server has no data directory for stage-1 packages", where="--data-dir")
        return Path(self.state.datasets.data_dir) / "stage-one" / dataset_id

    def close(self) -> None:
        self.synthetic_jobs.shutdown()
        self.privacy.ledger.close()
        self.state.close()


async def services(request: Request) -> Services:
    # async: a plain def dependency would cost every request a hop through the thread pool.
    return request.app.state.services


Svc = Annotated[Services, Depends(services)]

