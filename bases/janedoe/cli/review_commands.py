"""`janedoe review`: the output checkers' side of a review-mode release, over the API (role output_checker)."""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.api_client import DEFAULT_API_URL, ApiUrlOption, KeyFileOption, quoted
from janedoe.cli.rendering import stdout

review_app = typer.Typer(no_args_is_help=True,
                         help="Review checked outputs (output_checker role): list, show, approve, request changes.")
JobId = Annotated[str, typer.Argument(metavar="ID", help="The job's id.")]


def _client(api_url: str, key_file: Path | None):
    from janedoe.cli.api_client import ApiClient

    return ApiClient.from_options(api_url, key_file)


@review_app.command("list")
def list_queue(api_url: ApiUrlOption = DEFAULT_API_URL, key_file: KeyFileOption = None) -> None:
    """Jobs awaiting review, oldest first (not your own: authors never review their jobs)."""
    queue = _client(api_url, key_file).get_json("/v1/reviews")
    if not queue:
        stdout().print("nothing awaits review", markup=False)
    for job in queue:
        blocked = sum(1 for output in job.get("outputs") or [] if not output["passed"])
        mine = ", approved by you" if job.get("approved_by_you") else ""
        stdout().print(f"{job['job_id']}  by {job['author']}  dataset {job['dataset_id']}  "
                       f"{len(job.get('outputs') or [])} outputs ({blocked} blocked)  "
                       f"{job.get('approvals') or 0} approval(s){mine}", markup=False)


@review_app.command("show")
def show(
    job_id: JobId,
    download: Annotated[Path | None, typer.Option("--download", help="Save the checked files in this folder.")]
    = None,
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """Each checked output with its automatic findings; --download saves the checked files to read them."""
    from janedoe.cli.downloads import save_verified
    from janedoe.cli.job_commands import print_job

    client = _client(api_url, key_file)
    job = client.get_json(f"/v1/reviews/{quoted(job_id)}")
    print_job(job)
    if download is None:
        return
    for output in job.get("outputs") or []:
        if output.get("sha256") is None:
            continue  # no checked file (missing, or refused by the checks)
        data = client.get(f"/v1/reviews/{quoted(job_id)}/files/{quoted(output['path'], keep_slashes=True)}")
        stdout().print(f"  saved {save_verified(download, output['path'], data, output['sha256'])}", markup=False)


@review_app.command("approve")
def approve(job_id: JobId, api_url: ApiUrlOption = DEFAULT_API_URL, key_file: KeyFileOption = None) -> None:
    """Approve the job's passed outputs; the second checker's approval releases them."""
    job = _client(api_url, key_file).post_json(f"/v1/reviews/{quoted(job_id)}/approve")
    stdout().print(f"job {job['job_id']}: {job['state']} ({job.get('approvals') or 0} approval(s))", markup=False)


@review_app.command("request-changes")
def request_changes(
    job_id: JobId,
    reason: Annotated[str, typer.Option("--reason", help="What the author should change (never paste data).")],
    api_url: ApiUrlOption = DEFAULT_API_URL,
    key_file: KeyFileOption = None,
) -> None:
    """Send the job back to its author with a reason; nothing is released."""
    job = _client(api_url, key_file).post_json(f"/v1/reviews/{quoted(job_id)}/request-changes", {"reason": reason})
    stdout().print(f"job {job['job_id']}: {job['state']}", markup=False)
