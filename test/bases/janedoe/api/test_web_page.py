"""The web page (/ui) end to end: a real server on 127.0.0.1 and Debian's chromium driven by Playwright.

An analyst sees datasets, the budget gauge, the stage-1 download and their jobs in every state; two output checkers
approve one release and send another back; the analyst then sees the released figure inline. Jobs are put in their
states through janedoe.analysis_jobs directly (no sandbox run needed); everything the page shows comes over HTTP.
"""

import hashlib
import io
import os
import re
import shutil
import struct
import zipfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from janedoe.analysis_jobs import AWAITING_REVIEW, FAILED, LIMIT_EXCEEDED, MANIFEST_NAME, AnalysisJobs, JobOutput
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.service_store import StateStore
from playwright.sync_api import expect, sync_playwright
from server_process import ServerProcess

from .conftest import Api

WEB_DIR = Path(__file__).resolve().parents[4] / "bases" / "janedoe" / "api" / "web"
CHROMIUM = shutil.which("chromium")
RUNNER = "web-page-test-runner"
# Each would run script if the page ever parsed a server value as HTML.
XSS = "<img src=x onerror=document.title='pwned'>"
XSS_OUTPUT = f"{XSS}.md"
POLICY = """\
version: 1
default: error
tables:
  visits:
    dp: {epsilon: 1.0}
    synthetic: {method: mst, epsilon: 0.5, delta: 1.0e-9}
    columns:
      region: {mask: keep, categories: [north, south, east, west]}
      age: {mask: "null", bounds: [18, 90], bins: 8}
roles:
  owner: {raw: true}
  analyst: {review_jobs: true}
"""
OUTPUTS = ("outputs:\n  - {path: plot.png, kind: figure}\n  - {path: chart.svg, kind: figure}\n"
           "  - {path: counts.csv, kind: table}\n  - {path: \"" + XSS_OUTPUT + "\", kind: text}\n")
PLAIN_OUTPUTS = "outputs:\n  - {path: result.csv, kind: table}\n"
COUNTS_CSV = f'region,n\nnorth,15\n"{XSS}",20\n"a ""quoted"", cell",25\n'.encode()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#36c"/></svg>'
MARKDOWN = f"# Notes\n<script>document.title='pwned'</script>\n{XSS}\n".encode()


def _png(width: int = 6, height: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xd0\x30\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


PNG = _png()


class Site:
    """The server, its keys, and the ids of the dataset and of the jobs put in each state."""

    def __init__(self, api: Api) -> None:
        self.api, self.url = api, api.url
        self.dataset_id = self.xss_dataset_id = ""
        self.jobs: dict[str, str] = {}


def _job_folder(root: Path, label: str, dataset_id: str, outputs: str = PLAIN_OUTPUTS) -> Path:
    folder = root / label
    folder.mkdir(parents=True)
    (folder / MANIFEST_NAME).write_text(f"dataset: {dataset_id}\nentry: analysis.py\nmode: review\n{outputs}")
    (folder / "analysis.py").write_text(f"# {label}\n")
    return folder


def _checked(jobs: AnalysisJobs, job_id: str, path: str, kind: str, data: bytes | None, findings=()) -> JobOutput:
    """A checked output as the runner stores it (data None: blocked, no checked file)."""
    stored = None
    if data is not None:
        checked_dir = jobs.run_dir(job_id) / "checked"
        checked_dir.mkdir(parents=True, exist_ok=True)
        stored = checked_dir / hashlib.sha256(path.encode()).hexdigest()
        stored.write_bytes(data)
    blocking = any(finding["blocking"] for finding in findings)
    return JobOutput(job_id, path, kind, not blocking, list(findings),
                     hashlib.sha256(data).hexdigest() if data is not None else None,
                     str(stored) if stored else None, False)


def _put_jobs_in_every_state(site: Site, state: StateStore, root: Path) -> None:
    jobs = AnalysisJobs.from_state(state)

    def ran(label: str, outputs: str = PLAIN_OUTPUTS) -> str:
        job = jobs.submit("alice", site.dataset_id, _job_folder(root, label, site.dataset_id, outputs))
        claimed = jobs.claim(RUNNER)
        assert claimed is not None and claimed.job_id == job.job_id
        site.jobs[label] = job.job_id
        return job.job_id

    job_id = ran("release", OUTPUTS)
    assert jobs.finish(job_id, RUNNER, AWAITING_REVIEW, exit_code=0, seconds=1.5, outputs=[
        _checked(jobs, job_id, "plot.png", "figure", PNG),
        _checked(jobs, job_id, "chart.svg", "figure", SVG),
        _checked(jobs, job_id, "counts.csv", "table", COUNTS_CSV,
                 [{"check": "rounded", "message": "3 count cells rounded to base 5", "blocking": False}]),
        _checked(jobs, job_id, XSS_OUTPUT, "text", MARKDOWN),
    ])
    job_id = ran("blocked", "outputs:\n  - {path: rows.txt, kind: text}\n  - {path: summary.txt, kind: text}\n")
    assert jobs.finish(job_id, RUNNER, AWAITING_REVIEW, exit_code=0, outputs=[
        _checked(jobs, job_id, "rows.txt", "text", None,
                 [{"check": "identifier_values", "message": "12 values are real identifiers", "blocking": True}]),
        _checked(jobs, job_id, "summary.txt", "text", b"mean age about 50\n"),
    ])
    assert jobs.finish(ran("failed"), RUNNER, FAILED, exit_code=1, reason="the job ended with exit code 1 (failed)")
    assert jobs.finish(ran("limit"), RUNNER, LIMIT_EXCEEDED, exit_code=None, limit="wall_limit",
                       reason="the job hit its wall limit")
    ran("running")  # claimed and never finished: a runner is on it
    job = jobs.submit("alice", site.dataset_id, _job_folder(root, "queued", site.dataset_id))
    site.jobs["queued"] = job.job_id


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A server of its own (its queue and datasets stay out of the other modules' way), with jobs in every state."""
    directory = tmp_path_factory.mktemp("web")
    state_url = f"sqlite:///{directory}/state.db"
    StateStore.open(state_url).close()
    server = ServerProcess(state_url, extra=["--rate", "500"]).start()
    try:
        api = Api(server, state_url)
        api.add_key("admin", role="owner", name="root", admin=True)
        api.add_key("alice", role="analyst", name="alice")
        api.add_key("carol", role="output_checker", name="carol")
        api.add_key("dave", role="output_checker", name="dave")
        site = Site(api)
        csv_path = directory / "visits.csv"
        regions = ("north", "south", "east", "west")
        csv_path.write_text("region,age\n" + "".join(f"{regions[i % 4]},{18 + i % 70}\n" for i in range(200)))
        with api.client("admin") as admin:
            created = admin.post("/v1/datasets", data={"name": "visits"},
                                 files={"file": ("visits.csv", csv_path.read_bytes()),
                                        "policy": ("policy.yaml", POLICY.encode())})
            assert created.status_code == 201, created.text
            site.dataset_id = created.json()["dataset_id"]
            published = admin.post(f"/v1/datasets/{site.dataset_id}/stage-one")
            assert published.status_code == 201, published.text
        with api.client("alice") as alice:  # a quarter of the budget spent: the gauge must show 0.75 of 1
            spent = alice.post("/v1/dp/query", json={"dataset_id": site.dataset_id, "query": "count",
                                                     "epsilon": 0.25})
            assert spent.status_code == 200, spent.text
        state = StateStore.open(state_url)
        try:  # the API refuses such a name; a dataset registered another way must still show as text
            site.xss_dataset_id = ingest_dataset(
                state, upload_path=str(csv_path), shown_name="visits.csv", name=XSS, table_name=None,
                policy_text=POLICY, created_by="root").dataset_id
            _put_jobs_in_every_state(site, state, directory / "jobs")
        finally:
            state.close()
        yield site
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        message = "chromium is not installed (apt-get install chromium; `make test` installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


class Tab:
    """One browser context (its own sessionStorage) signed in with one key; records script errors and refusals."""

    def __init__(self, browser, site: Site, label: str) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.requests: list = []
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", lambda message: self.problems.append(message.text)
                     if "Refused" in message.text or "TrustedHTML" in message.text else None)
        self.page.on("request", lambda request: self.requests.append(request))
        self.response = self.page.goto(f"{site.url}/ui")
        self.page.fill("#api-key", site.api.keys[label])
        self.page.click("#key-form button[type=submit]")
        self.page.wait_for_selector("#who:not([hidden])")

    def row(self, table: str, job_id: str):
        return self.page.locator(f"#{table} tbody tr[data-job-id='{job_id}']")

    def close(self) -> None:
        assert self.problems == []
        assert self.page.title() == "janedoe: two-stage analysis"
        assert self.page.locator("img[src='x']").count() == 0
        self.context.close()


def test_an_analyst_and_two_reviewers_walk_one_release(site, browser):
    analyst = Tab(browser, site, "alice")
    page = analyst.page
    assert page.locator("#who-name").text_content() == "alice"
    assert page.locator("#reviewer-view").is_hidden() and page.locator("#approve").is_hidden()
    # Datasets, the budget as a gauge, the stage-1 download; a hostile dataset name is text.
    dataset_row = page.locator("#datasets tbody tr", has_text="visits").first
    meter = dataset_row.locator("meter")
    meter.wait_for()
    assert float(meter.get_attribute("value")) == pytest.approx(0.75)
    assert float(meter.get_attribute("max")) == pytest.approx(1.0)
    assert "0.75 of 1 ε left" in dataset_row.text_content()
    assert page.locator("#datasets tbody td.name", has_text=XSS).text_content() == XSS
    with page.expect_download() as download_info:
        dataset_row.get_by_role("button", name="Download stage-1 package").click()
    with zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes())) as package:
        assert {"visits.parquet", "schema.json", "package.json"} <= set(package.namelist())
    # The jobs in every state; nothing released yet.
    expected = {"release": "awaiting review", "blocked": "awaiting review", "failed": "failed",
                "limit": "limit exceeded", "running": "running", "queued": "queued"}
    for label, shown in expected.items():
        assert analyst.row("jobs", site.jobs[label]).locator(".state").text_content() == shown, label
    assert "wall_limit" in analyst.row("jobs", site.jobs["limit"]).text_content()
    assert analyst.row("jobs", site.jobs["failed"]).locator("td").nth(1).text_content() == "visits"
    assert page.locator("#jobs .show-outputs").count() == 0

    # First reviewer: the queue, the outputs beside their check results, approve.
    carol = Tab(browser, site, "carol")
    assert carol.page.locator("#analyst-view").is_hidden()
    carol.row("queue", site.jobs["release"]).get_by_role("button", name="Review").click()
    counts_card = carol.page.locator("#review-outputs article", has_text="counts.csv")
    assert "rounded: 3 count cells rounded to base 5" in counts_card.locator(".findings").text_content()
    expect(counts_card.locator("table.data td", has_text=XSS)).to_have_count(1)
    _assert_inline_figure(carol.page.locator("#review-outputs article", has_text="plot.png").locator("img"))
    carol.page.get_by_role("button", name="Approve").click()
    carol.page.wait_for_selector("#review-message:has-text('Approved')")
    assert "awaiting review" in carol.page.locator("#review-message").text_content()
    assert carol.page.locator("#review-actions").is_hidden()  # carol's approval counts once: nothing more to do

    # Second reviewer: the blocked output's finding beside it; approve one job, send the other back.
    dave = Tab(browser, site, "dave")
    dave.row("queue", site.jobs["blocked"]).get_by_role("button", name="Review").click()
    blocked = dave.page.locator("#review-outputs article", has_text="rows.txt")
    assert "identifier_values: 12 values are real identifiers (blocks release)" in blocked.text_content()
    dave.page.fill("#change-reason", "drop rows.txt: it lists people")
    dave.page.get_by_role("button", name="Request changes").click()
    dave.page.wait_for_selector("#review-message:has-text('Changes requested')")
    dave.row("queue", site.jobs["release"]).get_by_role("button", name="Review").click()
    dave.page.wait_for_selector("#review-outputs article:has-text('plot.png')")
    dave.page.get_by_role("button", name="Approve").click()
    dave.page.wait_for_selector("#review-message:has-text('released')")
    expect(dave.row("queue", site.jobs["release"])).to_have_count(0)

    # The analyst again: released, the figures inline, the table as text, the reviewer's reason.
    page.reload()
    page.wait_for_selector("#who:not([hidden])")
    assert analyst.row("jobs", site.jobs["release"]).locator(".state").text_content() == "released"
    assert "drop rows.txt: it lists people" in analyst.row("jobs", site.jobs["blocked"]).text_content()
    analyst.row("jobs", site.jobs["release"]).get_by_role("button", name="Show outputs").click()
    outputs = page.locator("#released-outputs")
    _assert_inline_figure(outputs.locator("article", has_text="plot.png").locator("img"))
    _assert_inline_figure(outputs.locator("article", has_text="chart.svg").locator("img"))
    table = outputs.locator("article", has_text="counts.csv").locator("table.data")
    expect(table.locator("td")).to_have_count(6)
    assert [cell.text_content() for cell in table.locator("th").all()] == ["region", "n"]
    assert [cell.text_content() for cell in table.locator("td").all()] == [
        "north", "15", XSS, "20", 'a "quoted", cell', "25"]
    hostile = outputs.locator("article", has_text="# Notes")
    assert hostile.locator("h3").text_content() == XSS_OUTPUT
    assert hostile.locator("pre").text_content() == MARKDOWN.decode()
    assert outputs.locator("script").count() == 0
    for tab in (analyst, carol, dave):
        tab.close()


def _assert_inline_figure(image) -> None:
    image.wait_for()
    assert image.get_attribute("src").startswith("blob:")
    image.page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())


def test_the_key_stays_in_the_tab_and_the_server_refuses_what_the_page_hides(site, browser):
    analyst = Tab(browser, site, "alice")
    page = analyst.page
    page.locator("#jobs tbody tr").first.wait_for()
    key = site.api.keys["alice"]
    assert page.evaluate("sessionStorage.getItem('janedoe.apiKey')") == key
    assert page.evaluate("localStorage.length") == 0 and "cookie" not in page.evaluate("document.cookie || 'none'")
    api_calls = [request for request in analyst.requests if "/v1/" in request.url]
    assert api_calls and all(request.headers.get("authorization") == f"Bearer {key}" for request in api_calls)
    assert all(key not in request.url for request in analyst.requests)
    # The browser enforces the page's Trusted Types policy: no string can be parsed as HTML, even by mistake.
    assert page.evaluate("""() => {
        try { document.body.innerHTML = "<b>x</b>"; return "parsed"; } catch (error) { return error.name; }
    }""") == "TypeError"
    assert len(analyst.problems) == 1 and "TrustedHTML" in analyst.problems.pop()  # and Tab notices such refusals
    # The page shows no reviewer action to an analyst; the server refuses the approval anyway.
    refused = page.evaluate("""async (jobId) => {
        const response = await fetch(`/v1/reviews/${jobId}/approve`, {method: "POST",
            headers: {Authorization: `Bearer ${sessionStorage.getItem("janedoe.apiKey")}`}});
        return response.status;
    }""", site.jobs["blocked"])
    assert refused == 403
    page.get_by_role("button", name="Forget key").click()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.locator("#key-panel").is_visible() and page.locator("#analyst-view").is_hidden()
    assert page.locator("#jobs tbody tr").count() == 0  # nothing of the last user's is left in the tab
    page.fill("#api-key", "jd_0000000000000000_" + "a" * 43)
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#key-error:has-text('unknown or revoked')")
    assert page.locator("#analyst-view").is_hidden() and page.evaluate("sessionStorage.length") == 0
    analyst.close()


def test_an_analyst_submits_a_job_folder_from_the_page(site, browser):
    analyst = Tab(browser, site, "alice")
    page = analyst.page
    folder = io.BytesIO()
    with zipfile.ZipFile(folder, "w") as archive:
        archive.writestr(MANIFEST_NAME, f"dataset: {site.dataset_id}\nentry: analysis.py\nmode: dp\n")
        archive.writestr("analysis.py", "from janedoe.job_client import query\nprint(query('count', epsilon=0.1))\n")
    page.locator("#submit-dataset option", has_text="visits").first.wait_for(state="attached")
    page.select_option("#submit-dataset", site.dataset_id)
    page.set_input_files("#submit-folder", {"name": "job.zip", "mimeType": "application/zip",
                                            "buffer": folder.getvalue()})
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("#submit-message:has-text('is queued')")
    job_id = re.search(r"Job ([0-9a-f]+) is queued", page.locator("#submit-message").text_content()).group(1)
    assert analyst.row("jobs", job_id).locator(".state").text_content() == "queued"
    page.set_input_files("#submit-folder", {"name": "job.zip", "mimeType": "application/zip", "buffer": b"PK junk"})
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("#submit-message.error")
    assert "zip" in page.locator("#submit-message").text_content()
    analyst.close()


def test_the_page_is_a_static_shell_with_a_strict_policy(site):
    for path, media in (("/ui", "text/html"), ("/ui/app.js", "text/javascript"), ("/ui/app.css", "text/css")):
        response = httpx.get(site.url + path)  # no key: the shell holds no data
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self';" in policy and "unsafe" not in policy
        assert "require-trusted-types-for 'script'" in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(site.url + "/ui/../v1/whoami").status_code == 401
    assert httpx.get(site.url + "/ui/index.html").status_code == 404  # only the three named files
    assert not any(path.startswith("/ui") for path in httpx.get(site.url + "/openapi.json").json()["paths"])


def test_the_page_has_no_inline_code_and_never_parses_html():
    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[str, dict]] = []
            self.inline_script = False

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

        def handle_data(self, data):
            if self.found and self.found[-1][0] in ("script", "style") and data.strip():
                self.inline_script = True

    tags = Tags()
    tags.feed((WEB_DIR / "index.html").read_text())
    assert not tags.inline_script
    assert all(attrs.get("src", "").startswith("/ui/") for tag, attrs in tags.found if tag == "script")
    assert not [name for _tag, attrs in tags.found for name in attrs if name.startswith("on") or name == "style"]
    assert all(attrs["href"].startswith("/ui/") for tag, attrs in tags.found if tag == "link")
    script = (WEB_DIR / "app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                 "localStorage", "setAttribute(\"style", "http://", "https://"):
        assert sink not in script, sink
    assert not re.search(r"[?&](key|api_key|token)=", script)
