"""The HTTP API attacked the way an attacker holding a valid key would, each attack asserted to gain nothing.

Masking oracle (reproduce a dataset's hashes and pseudonyms through /v1/mask), averaging repeated exports, crashing a
worker with one request, credentials in database URLs, raw upload copies left on disk, formulas in CSV downloads.
"""

import csv
import glob
import io
import os
import time
from fractions import Fraction

import httpx
import pyarrow.parquet as pq
import pytest
from customers_data import POLICY, customers, write_customers_csv
from janedoe.service_store import StateStore
from server_process import ServerProcess

RAW = customers(rows=250, seed=23)
TOOL_PATHS = ("/v1/mask", "/v1/kanon/check", "/v1/kanon/apply")


def _csv_bytes(rows: list[dict]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _register(client: httpx.Client, name: str, data: bytes, policy: str, filename: str) -> dict:
    response = client.post("/v1/datasets", files={"file": (filename, data), "policy": ("policy.yaml", policy.encode())},
                           data={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


# --- 1. The masking oracle -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def customers_dataset(api, tmp_path_factory):
    path = tmp_path_factory.mktemp("oracle") / "customers.csv"
    write_customers_csv(path, RAW)
    with api.client("admin") as admin:
        return _register(admin, "oracle-customers", path.read_bytes(), POLICY, "customers.csv")


def _attack_policy(secret_env: str | None) -> str:
    """The attacker's policy: the rules the analyst's view uses for id, name and email, keyed from `secret_env`."""
    head = f"secret_env: {secret_env}\n" if secret_env else ""
    return head + """\
version: 1
default: keep
tables:
  candidates:
    columns:
      id: {mask: hash}
      name: {mask: pseudonymize, kind: name}
      email: {mask: hash}
"""


@pytest.mark.parametrize(
    "secret_env",
    [None, "JANEDOE_SECRET", "JANEDOE_SECRET_FILE", "JANEDOE_API_STATE", "JANEDOE_CACHE_DIR", "PATH"],
)
def test_mask_cannot_reproduce_a_datasets_hashes_or_pseudonyms(api, customers_dataset, secret_env):
    """The attacker knows the exact original values (the best case for them) and asks /v1/mask to hash and
    pseudonymize them with the server's key (or any other server variable): not one masked value may match."""
    with api.client("analyst") as analyst:
        rows = analyst.get(f"/v1/datasets/{customers_dataset['dataset_id']}/rows", params={"limit": 1000})
    view = rows.json()["rows"]
    assert len(view) == len(RAW) and view[0]["id"] != RAW[0]["id"]  # the view is masked
    with api.client("intern-tools") as attacker:  # a role no dataset names, holding the tools permission
        response = attacker.post("/v1/mask", files={
            "file": ("candidates.csv", _csv_bytes(RAW)), "policy": ("p.yaml", _attack_policy(secret_env).encode()),
        })
    assert response.status_code == 200, response.text
    guessed = list(csv.DictReader(io.StringIO(response.text)))
    assert len(guessed) == len(RAW)
    for column in ("id", "email"):  # 256-bit HMACs: a match can only mean the same key
        assert {row[column] for row in guessed}.isdisjoint({row[column] for row in view}), column
    # Pseudonyms come from a pool of ~4,096 names, so a row can match by chance (expected 250/4096 ~ 0.06 rows, the
    # pools themselves differing by key); with the server's key all 250 matched. P(4 or more by chance) < 1e-5.
    same = sum(mine["name"] == theirs["name"] for mine, theirs in zip(guessed, view, strict=True))
    assert same <= 3


def test_a_registered_dataset_cannot_key_its_masking_with_another_server_variable(api):
    """Otherwise every reader of the dataset gets hashes keyed with, e.g., the serve settings (state DB password)."""
    for secret_env in ("JANEDOE_API_SETTINGS", "JANEDOE_OTHER", "DATABASE_PASSWORD"):
        with api.client("admin") as admin:
            response = admin.post("/v1/datasets", files={
                "file": ("customers.csv", _csv_bytes(RAW[:5])),
                "policy": ("p.yaml", f"secret_env: {secret_env}\n{POLICY}".encode()),
            })
        assert response.status_code == 400, (secret_env, response.text)
        assert "secret_env" in response.json()["message"]


def test_mask_with_the_callers_secret_is_repeatable_and_never_echoed(api):
    secret = "caller-secret-Q7vX2mLp9"
    policy = _attack_policy(None).encode()
    files = {"file": ("candidates.csv", _csv_bytes(RAW[:40])), "policy": ("p.yaml", policy)}
    with api.client("tools") as client:
        first, again, other_key, no_key, no_key_again = (
            client.post("/v1/mask", files=files, data=data)
            for data in ({"secret": secret}, {"secret": secret}, {"secret": secret + "x"}, {}, {})
        )
        short = client.post("/v1/mask", files={"file": ("candidates.csv", _csv_bytes(RAW[:4])),
                                               "policy": ("p.yaml", policy)}, data={"secret": "short-SECRET"})
    assert all(response.status_code == 200 for response in (first, again, other_key, no_key, no_key_again))
    assert first.text == again.text  # the caller's own key: the same masked values on every call
    assert first.text != other_key.text
    # Without a key, each request draws its own: two calls cannot even be linked to each other.
    ids = [{row["id"] for row in csv.DictReader(io.StringIO(response.text))} for response in (first, no_key,
                                                                                               no_key_again)]
    assert ids[0].isdisjoint(ids[1]) and ids[1].isdisjoint(ids[2])
    assert (short.status_code, short.json()["code"]) == (422, "invalid_request")
    with api.client("admin") as admin:
        audit = admin.get("/v1/admin/audit", params={"analyst": "tools-user", "limit": 50}).text
    for response in (first, again, short):
        assert secret not in response.text and "short-SECRET" not in response.text
        assert not any(secret in value for value in response.headers.values())
    assert secret not in audit and "short-SECRET" not in audit


@pytest.mark.parametrize("label", ["owner", "support", "analyst", "intern"])
def test_the_tools_need_the_tools_permission(api, label):
    """Keys are issued to read datasets as a role; the stateless tools are a separate grant (admin keys hold it)."""
    files = {"file": ("customers.csv", _csv_bytes(RAW[:20])), "policy": ("p.yaml", POLICY.encode())}
    with api.client(label) as client:
        for path in TOOL_PATHS:
            response = client.post(path, files=files, data={"qi": "city", "k": "2"})
            assert (response.status_code, response.json()["code"]) == (403, "forbidden"), (label, path)
        assert client.get("/v1/whoami").json()["tools"] is False
    for allowed in ("tools", "admin"):
        with api.client(allowed) as client:
            for path in TOOL_PATHS:
                response = client.post(path, files=files, data={"qi": "city", "k": "2"})
                assert response.status_code == 200, (allowed, path, response.text)
            assert client.get("/v1/whoami").json()["tools"] is True


def test_admins_grant_the_tools_permission(api):
    with api.client("admin") as admin:
        plain = admin.post("/v1/admin/keys", json={"role": "analyst", "name": "grace"}).json()
        granted = admin.post("/v1/admin/keys", json={"role": "analyst", "name": "heidi", "tools": True}).json()
        listed = {item["key_id"]: item["tools"] for item in admin.get("/v1/admin/keys").json()}
    assert (plain["tools"], granted["tools"]) == (False, True)
    assert (listed[plain["key_id"]], listed[granted["key_id"]]) == (False, True)
    files = {"file": ("adult.csv", b"sex,age\nF,30\nM,40\n")}
    with httpx.Client(base_url=api.url, timeout=60) as client:
        refused = client.post("/v1/kanon/check", files=files, data={"qi": "sex"},
                              headers={"X-API-Key": plain["key"]})
        allowed = client.post("/v1/kanon/check", files=files, data={"qi": "sex"},
                              headers={"X-API-Key": granted["key"]})
    assert (refused.status_code, allowed.status_code) == (403, 200)


# --- 2. Averaging repeated exports ---------------------------------------------------------------------------------

NOISE_POLICY = """\
version: 1
default: error
tables:
  salaries:
    columns:
      id: {mask: keep}
      salary: {mask: noise, ratio: 0.25}
roles:
  owner: {raw: true}
  analyst: {}
"""
SALARIES = [{"id": f"E{index:04d}", "salary": 30_000 + 137 * index} for index in range(200)]


@pytest.fixture(scope="module")
def salaries_dataset(api):
    with api.client("admin") as admin:
        return _register(admin, "salaries", _csv_bytes(SALARIES), NOISE_POLICY, "salaries.csv")


def _salaries(text: str) -> dict[str, Fraction]:
    return {row["id"]: Fraction(row["salary"]) for row in csv.DictReader(io.StringIO(text))}


def test_averaging_50_exports_gains_nothing_over_one(api, salaries_dataset):
    dataset_id = salaries_dataset["dataset_id"]
    with api.client("analyst") as client:
        exports = [client.get(f"/v1/datasets/{dataset_id}/export", params={"format": "csv"}) for _ in range(50)]
        rows = client.get(f"/v1/datasets/{dataset_id}/rows", params={"limit": 1000}).json()["rows"]
        parquet = client.get(f"/v1/datasets/{dataset_id}/export", params={"format": "parquet"})
    assert all(export.status_code == 200 for export in exports)
    single = _salaries(exports[0].text)
    original = {row["id"]: Fraction(row["salary"]) for row in SALARIES}
    assert sum(single[key] != original[key] for key in original) > 190  # the noise is there
    average = {key: sum(_salaries(export.text)[key] for export in exports) / len(exports) for key in original}
    assert average == single  # exactly: 50 exports tell nothing one does not
    assert pq.read_table(io.BytesIO(parquet.content)).to_pylist() == rows  # paged reads are the same draw


def test_another_server_process_exports_the_same_noise(api, salaries_dataset):
    """A restart or another worker used to draw again, so exports from several processes could be averaged too."""
    path = f"/v1/datasets/{salaries_dataset['dataset_id']}/export"
    other = ServerProcess(api.state_url, extra=["--max-body-mb", "2"]).start()
    try:
        with api.client("analyst") as here, httpx.Client(base_url=other.url, timeout=60,
                                                         headers={"X-API-Key": api.keys["analyst"]}) as there:
            assert here.get(path).text == there.get(path).text
    finally:
        other.stop()


# --- 3. Crashing a worker with one request -------------------------------------------------------------------------

NESTED_JSONL = ('{"a":' * 10_000 + "1" + "}" * 10_000 + "\n").encode()
WIDE_CSV = (",".join(f"c{index}" for index in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n").encode()
# "Billion laughs": 9 levels of 9 aliases, 9**9 = 387 million strings from a few hundred bytes.
ALIAS_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{level}: &{level} [{', '.join([f'*{below}'] * 9)}]\n" for below, level in zip("abcdefgh", "bcdefghi", strict=True)
) + "version: 1\ntables: {bomb: {columns: {x: *i}}}\n"
KEEP_POLICY = "version: 1\ndefault: keep\ntables:\n  {table}:\n    columns: {{}}\n"


@pytest.fixture(scope="module")
def crash_server(tmp_path_factory):
    """A server of its own: if an attack kills it, the other tests keep theirs."""
    directory = tmp_path_factory.mktemp("crash")
    state_url = f"sqlite:///{directory}/state.db"
    state = StateStore.open(state_url)
    admin, _ = state.keys.create(role="owner", name="root", admin=True)
    state.close()
    server = ServerProcess(state_url, extra=["--timeout", "20"]).start()
    yield server, admin
    server.stop()


def _upload_cases():
    for body, name, table, column in ((NESTED_JSONL, "nested.jsonl", "nested", "a"), (WIDE_CSV, "wide.csv", "wide",
                                                                                      "c0")):
        policy = KEEP_POLICY.format(table=table).encode()
        yield pytest.param("/v1/mask", {"file": (name, body), "policy": ("p.yaml", policy)}, {}, name,
                           id=f"mask-{table}")
        yield pytest.param("/v1/datasets", {"file": (name, body), "policy": ("p.yaml", policy)}, {}, name,
                           id=f"datasets-{table}")
        yield pytest.param("/v1/kanon/check", {"file": (name, body)}, {"qi": column}, name, id=f"kanon-check-{table}")
        yield pytest.param("/v1/kanon/apply", {"file": (name, body)}, {"qi": column, "k": "2"}, name,
                           id=f"kanon-apply-{table}")
    bomb = ALIAS_BOMB.encode()
    yield pytest.param("/v1/mask", {"file": ("bomb.csv", b"x\n1\n"), "policy": ("p.yaml", bomb)}, {}, "policy",
                       id="mask-alias-bomb")
    yield pytest.param("/v1/datasets", {"file": ("bomb.csv", b"x\n1\n"), "policy": ("p.yaml", bomb)}, {}, "policy",
                       id="datasets-alias-bomb")


@pytest.mark.parametrize("path,files,data,blamed", list(_upload_cases()))
def test_one_hostile_upload_is_a_4xx_and_the_worker_lives_on(crash_server, path, files, data, blamed):
    """Before: the nested body segfaulted the worker (or 504 while the work went on), the bomb grew it past 1.9 GB,
    the wide CSV cost 23 s of CPU."""
    server, admin = crash_server
    with httpx.Client(base_url=server.url, headers={"X-API-Key": admin}, timeout=120) as client:
        response = client.post(path, files=files, data=data)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
        assert set(response.json()) == {"code", "message"} and blamed in response.json()["message"]
        assert client.get("/v1/health").status_code == 200
    assert server.process.poll() is None


def test_an_alias_bomb_policy_for_a_sql_dataset_is_a_4xx(crash_server, tmp_path):
    server, admin = crash_server
    with httpx.Client(base_url=server.url, headers={"X-API-Key": admin}, timeout=120) as client:
        response = client.post("/v1/datasets/from-sql", json={
            "name": "bomb", "url": f"sqlite:///{tmp_path}/none.db", "table": "bomb", "policy": ALIAS_BOMB,
        })
        assert 400 <= response.status_code < 500 and "policy" in response.json()["message"], response.text[:300]
        assert client.get("/v1/health").status_code == 200
    assert server.process.poll() is None


# --- 4a. Credentials in a database URL -----------------------------------------------------------------------------

SSL_PASSWORD = "SslKeyPassphrase-7fQ2"
PASSWORD = "UrlPassword-9dK4"


def test_no_credential_in_a_sql_source_url_is_ever_shown_or_stored(api, postgres_url):
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, email TEXT, ssn TEXT, age INTEGER, "
                     "city TEXT)")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s, %s, %s)",
                               [tuple(row.values()) for row in RAW[:30]])
    # The test cluster trusts 127.0.0.1 and has no SSL: both credentials are accepted and unused.
    url = postgres_url.replace("postgres@", f"postgres:{PASSWORD}@", 1) + f"?sslpassword={SSL_PASSWORD}"
    base = url.split("@", 1)[0]
    failing = [
        ({"url": url, "table": "nope"}, 404),
        ({"url": base + f"@127.0.0.1:1/nowhere?sslpassword={SSL_PASSWORD}"}, 400),  # nothing listens on port 1
        ({"url": base + f"@127.0.0.1:notaport/db?sslpassword={SSL_PASSWORD}&token={SSL_PASSWORD}"}, 400),
        ({"url": f"mysql://root:{PASSWORD}@127.0.0.1/x?sslpassword={SSL_PASSWORD}"}, 400),
        ({"url": url.replace("sslpassword", "sslmode=disable&sslpassword"), "table": "customers",
          "policy": "secret_env: DATABASE_PASSWORD\n" + POLICY}, 400),
    ]
    texts = []
    with api.client("admin") as admin:
        created = admin.post("/v1/datasets/from-sql", json={
            "name": "customers-ssl", "url": url, "table": "customers", "policy": POLICY})
        assert created.status_code == 201, created.text
        dataset_id = created.json()["dataset_id"]
        assert created.json()["source"].startswith("postgresql://postgres:***@127.0.0.1:")
        assert "sslpassword=***" in created.json()["source"]
        for body, status in failing:
            response = admin.post("/v1/datasets/from-sql", json={
                "name": "bad", "table": "customers", "policy": POLICY, **body})
            assert response.status_code == status, (body, response.text)
            texts.append(response.text)
        texts += [created.text, admin.get(f"/v1/datasets/{dataset_id}").text, admin.get("/v1/datasets").text,
                  admin.get("/v1/admin/audit", params={"limit": 10_000}).text]
        assert admin.delete(f"/v1/datasets/{dataset_id}").status_code == 204  # other modules list every dataset
    for text in texts:
        assert SSL_PASSWORD not in text and PASSWORD not in text, text[:500]
    state_files = glob.glob(api.state_url.removeprefix("sqlite:///") + "*")
    for path in state_files:
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                stored = handle.read()
            assert SSL_PASSWORD.encode() not in stored and PASSWORD.encode() not in stored, path


# --- 4b. Raw copies of crashed uploads -----------------------------------------------------------------------------

def _make(path, content: bytes = b"id,ssn\n1,123-45-6789\n", *, age_seconds: float = 0) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(content)
    if age_seconds:
        when = time.time() - age_seconds
        os.utime(path, (when, when))
        os.utime(os.path.dirname(path), (when, when))


def test_start_up_removes_what_crashed_requests_left_and_nothing_live(tmp_path):
    import fcntl

    state_url = f"sqlite:///{tmp_path}/state.db"
    StateStore.open(state_url).close()
    data_dir = tmp_path / "state-data"
    day = 86_400
    _make(data_dir / ".upload-old1" / "upload.csv", age_seconds=day)  # an old crash, before upload dirs were locked
    _make(data_dir / ".upload-crashed" / ".lock", b"")  # a crash a moment ago: its lock is free
    _make(data_dir / ".upload-crashed" / "upload.csv")
    _make(data_dir / ".customers.parquet.abc123.tmp", age_seconds=day)
    _make(data_dir / "jobs" / ".job1.parquet.def456.tmp", age_seconds=day)
    # Kept: a live upload of another process (its lock held), a temp file being written, and real datasets.
    _make(data_dir / ".upload-live" / "upload.csv")
    live_lock = os.open(data_dir / ".upload-live" / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(live_lock, fcntl.LOCK_EX)
    _make(data_dir / ".other.parquet.xyz789.tmp")
    _make(data_dir / "0123456789abcdef.parquet", b"PAR1", age_seconds=day)
    server = ServerProcess(state_url).start()
    try:
        left = sorted(os.listdir(data_dir))
        jobs = os.listdir(data_dir / "jobs")
    finally:
        server.stop()
        os.close(live_lock)
    assert left == [".other.parquet.xyz789.tmp", ".upload-live", "0123456789abcdef.parquet", "jobs"]
    assert jobs == []


# --- 4c. Formulas in CSV downloads ---------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+33 1 23 45", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
            "plain", "a=b"]
FORMULA_POLICY = """\
version: 1
default: keep
tables:
  notes:
    columns: {}
roles:
  owner: {raw: true}
"""


def _notes_csv() -> bytes:
    rows = [{"note": note, "delta": -(index + 1), "ratio": -0.5 * index} for index, note in enumerate(FORMULAS)]
    return _csv_bytes(rows)


def _escaped(note: str) -> str:
    return "'" + note if note[0] in "=+-@\t\r" else note


def test_csv_downloads_escape_formulas_but_not_negative_numbers(api):
    with api.client("admin") as admin:
        dataset = _register(admin, "notes", _notes_csv(), FORMULA_POLICY, "notes.csv")
    path = f"/v1/datasets/{dataset['dataset_id']}/export"
    with api.client("owner") as client:
        escaped = list(csv.DictReader(io.StringIO(client.get(path).text, newline="")))
        raw = list(csv.DictReader(io.StringIO(client.get(path, params={"csv_formula_escape": "false"}).text,
                                              newline="")))
        parquet = pq.read_table(io.BytesIO(client.get(path, params={"format": "parquet"}).content)).to_pylist()
    assert [row["note"] for row in escaped] == [_escaped(note) for note in FORMULAS]
    assert [row["delta"] for row in escaped] == [str(-(index + 1)) for index in range(len(FORMULAS))]
    assert all(not row["ratio"].startswith("'") for row in escaped)
    assert [row["note"] for row in raw] == FORMULAS
    assert [row["note"] for row in parquet] == FORMULAS  # typed formats are left alone
    with api.client("tools") as client:
        files = {"file": ("notes.csv", _notes_csv()), "policy": ("p.yaml", FORMULA_POLICY.encode())}
        masked = client.post("/v1/mask", files=files)
        unescaped = client.post("/v1/mask", files=files, data={"csv_formula_escape": "false"})
        applied = client.post("/v1/kanon/apply", files={"file": files["file"]}, data={"qi": "delta", "k": "1"})
    masked_rows = list(csv.DictReader(io.StringIO(masked.text, newline="")))
    assert [row["note"] for row in masked_rows] == [_escaped(note) for note in FORMULAS]
    assert [row["delta"] for row in masked_rows] == [str(-(index + 1)) for index in range(len(FORMULAS))]
    assert [row["note"] for row in csv.DictReader(io.StringIO(unescaped.text, newline=""))] == FORMULAS
    assert applied.status_code == 200, applied.text
    assert sorted(row["note"] for row in csv.DictReader(io.StringIO(applied.text, newline=""))) == sorted(
        _escaped(note) for note in FORMULAS)


SYNTH_POLICY = """\
version: 1
default: error
tables:
  cells:
    dp: {epsilon: 3.0, delta: 1.0e-6}
    synthetic: {method: mst, epsilon: 1.0, delta: 1.0e-9}
    columns:
      kind: {mask: keep, categories: ['=1+1', '-2', 'plain']}
      flag: {mask: keep, categories: ['@x', 'ok']}
roles:
  analyst: {}
"""


def test_synthetic_csv_results_escape_formulas_too(api):
    rows = [{"kind": ["=1+1", "-2", "plain"][index % 3], "flag": ["@x", "ok"][index % 2]} for index in range(600)]
    with api.client("admin") as admin:
        dataset = _register(admin, "cells", _csv_bytes(rows), SYNTH_POLICY, "cells.csv")
    api.add_key("synth-formulas", role="analyst", name="formula-synthesist")
    with api.client("synth-formulas") as client:
        job = client.post("/v1/synth", json={"dataset_id": dataset["dataset_id"], "rows": 200, "seed": 3}).json()
        for _ in range(600):
            status = client.get(f"/v1/jobs/{job['job_id']}").json()["status"]
            if status in ("done", "failed"):
                break
            time.sleep(0.1)
        assert status == "done"
        result = f"/v1/jobs/{job['job_id']}/result"
        escaped = list(csv.DictReader(io.StringIO(client.get(result).text, newline="")))
        raw = list(csv.DictReader(io.StringIO(client.get(result, params={"csv_formula_escape": "false"}).text,
                                              newline="")))
    assert {row["kind"] for row in raw} <= {"=1+1", "-2", "plain"} and {row["flag"] for row in raw} <= {"@x", "ok"}
    assert [row["kind"] for row in escaped] == [_escaped(row["kind"]) for row in raw]
    assert [row["flag"] for row in escaped] == [_escaped(row["flag"]) for row in raw]
    assert any(row["kind"].startswith("'") for row in escaped)


def test_a_policy_with_control_characters_is_a_400_on_every_route(api):
    """Found by the OpenAPI fuzzer: PyYAML's reader refuses them before parsing, outside the YAML error handling."""
    policy = "version: 1\x1b\ntables: {}\x0c\n"
    with api.client("admin") as admin:
        responses = [
            admin.post("/v1/mask", files={"file": ("t.csv", b"x\n1\n"), "policy": ("p.yaml", policy.encode())}),
            admin.post("/v1/datasets", files={"file": ("t.csv", b"x\n1\n"), "policy": ("p.yaml", policy.encode())}),
            admin.post("/v1/datasets/from-sql", json={"name": "t", "url": "sqlite:///t.db", "table": "t",
                                                     "policy": policy}),
        ]
    for response in responses:
        assert (response.status_code, response.json()["code"]) == (400, "bad_input"), response.text
        assert "policy" in response.json()["message"]
