"""Two-stage analysis jobs (ManaTEE's flow): a job folder's manifest, the queue, the sandboxed runner and reviews.

Stage 1: an analyst runs a job folder locally on a dataset's stage-1 package (DP synthetic data) with `run_local`.
Stage 2: the service stores the submitted folder read-only (content-addressed), queues it, and a runner claims it and
runs it in the sandbox: in dp mode on the stage-1 data with DP queries answered on the real data (released at once),
in review mode on the real data with the declared outputs checked automatically, then released after two output
checkers (never the author) approve. Every step goes to the service state's audit log, never a data value.
"""

from janedoe.analysis_jobs.job_folder import (
    MAX_FOLDER_BYTES,
    MAX_FOLDER_DIRS,
    MAX_FOLDER_FILES,
    folder_sha256,
    store_job_folder,
)
from janedoe.analysis_jobs.job_views import is_overseer, job_view
from janedoe.analysis_jobs.manifest import (
    MANIFEST_NAME,
    MODES,
    OUTPUT_KINDS,
    JobManifest,
    load_manifest,
    parse_manifest,
)
from janedoe.analysis_jobs.queue import (
    AWAITING_REVIEW,
    CHANGES_REQUESTED,
    FAILED,
    FINAL_STATES,
    JOB_STATES,
    LIMIT_EXCEEDED,
    QUEUED,
    RELEASED,
    RUNNING,
    AnalysisJob,
    AnalysisJobs,
    JobOutput,
)
from janedoe.analysis_jobs.reviews import (
    APPROVALS_NEEDED,
    OUTPUT_CHECKER,
    JobStateError,
    ReleaseReviews,
    ReviewNotAllowedError,
    TamperedOutputError,
    can_read_logs,
    can_read_released,
    can_read_status,
    can_review,
)
from janedoe.analysis_jobs.runner import DP_ANSWERS, JobRunner, job_environment, package_mounts, run_job, run_local
from janedoe.analysis_jobs.starter import init_job_folder

__all__ = [
    "load_manifest",
    "parse_manifest",
    "JobManifest",
    "MANIFEST_NAME",
    "MODES",
    "OUTPUT_KINDS",
    "init_job_folder",
    "store_job_folder",
    "folder_sha256",
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "MAX_FOLDER_DIRS",
    "AnalysisJobs",
    "AnalysisJob",
    "JobOutput",
    "QUEUED",
    "RUNNING",
    "FAILED",
    "LIMIT_EXCEEDED",
    "AWAITING_REVIEW",
    "CHANGES_REQUESTED",
    "RELEASED",
    "JOB_STATES",
    "FINAL_STATES",
    "ReleaseReviews",
    "OUTPUT_CHECKER",
    "APPROVALS_NEEDED",
    "ReviewNotAllowedError",
    "JobStateError",
    "TamperedOutputError",
    "can_review",
    "can_read_logs",
    "can_read_status",
    "can_read_released",
    "job_view",
    "is_overseer",
    "JobRunner",
    "run_job",
    "run_local",
    "job_environment",
    "package_mounts",
    "DP_ANSWERS",
]
