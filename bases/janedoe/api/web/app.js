// The janedoe web page: an analyst's view and an output checker's view over the HTTP API.
// Rules this file keeps: the API key lives in sessionStorage only and leaves only as an Authorization header (never
// in a URL); every value from the server reaches the page through textContent or a blob: URL, never parsed as HTML
// (the page's Trusted Types policy makes any HTML sink throw anyway); the page only hides what a role cannot do, the
// server refuses it regardless.
"use strict";

(() => {
  const KEY_ITEM = "janedoe.apiKey";
  const MAX_TABLE_ROWS = 500;
  const FIGURE_TYPES = { png: "image/png", svg: "image/svg+xml" };
  const TABLE_SUFFIXES = ["csv", "json", "jsonl"];
  const TEXT_SUFFIXES = ["txt", "md"];
  let blobUrls = [];
  let me = null;
  const datasetNames = new Map();  // dataset_id -> name, for the job tables

  const $ = (id) => document.getElementById(id);

  // -- DOM helpers: text only ------------------------------------------------------------------------------------
  function el(tag, options = {}, ...children) {
    const node = document.createElement(tag);
    if (options.className) node.className = options.className;
    if (options.title) node.title = String(options.title);
    if (options.type) node.type = options.type;
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    node.replaceChildren();
  }

  function button(label, onClick, className) {
    const node = el("button", { type: "button", className }, label);
    node.addEventListener("click", onClick);
    return node;
  }

  function status(message, isError = false) {
    const node = $("status");
    node.textContent = message || "";
    node.className = isError ? "error" : "";
  }

  function stateBadge(state) {
    const safe = /^[a-z_]+$/.test(state) ? state : "unknown";
    return el("span", { className: `state state-${safe}` }, String(state).replace(/_/g, " "));
  }

  function when(text) {
    if (!text) return "";
    const date = new Date(text);
    return Number.isNaN(date.getTime()) ? String(text) : date.toLocaleString();
  }

  function suffix(name) {
    const base = String(name).split("/").pop();
    const dot = base.lastIndexOf(".");
    return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
  }

  function segment(value) {
    return encodeURIComponent(String(value));
  }

  function outputPath(name) {
    return String(name).split("/").map(segment).join("/");
  }

  function keepBlobUrl(blob) {
    const url = URL.createObjectURL(blob);
    blobUrls.push(url);
    return url;
  }

  function dropBlobUrls() {
    for (const url of blobUrls) URL.revokeObjectURL(url);
    blobUrls = [];
  }

  // -- the API ---------------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function call(path, { method = "GET", json, form, as = "json" } = {}) {
    const key = sessionStorage.getItem(KEY_ITEM);
    if (!key) throw new ApiError(401, "unauthenticated", "paste your API key first");
    const headers = { Authorization: `Bearer ${key}` };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form;  // multipart: the browser sets the Content-Type with its boundary
    }
    const response = await fetch(path, {
      method, headers, body, cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer", redirect: "error",
    });
    if (!response.ok) {
      let code = "http_error";
      let message = `${response.status} ${response.statusText}`;
      try {
        const problem = await response.json();
        code = String(problem.code || code);
        message = String(problem.message || message);
      } catch (_ignored) { /* not JSON: keep the status line */ }
      if (response.status === 401) forgetKey(message);
      throw new ApiError(response.status, code, message);
    }
    if (as === "json") return response.json();
    if (as === "text") return response.text();
    return response.blob();
  }

  // -- the key ---------------------------------------------------------------------------------------------------
  function forgetKey(message) {
    sessionStorage.removeItem(KEY_ITEM);
    me = null;
    dropBlobUrls();
    $("who").hidden = true;
    $("analyst-view").hidden = true;
    $("reviewer-view").hidden = true;
    for (const table of ["datasets", "jobs", "queue"]) clear($(table).tBodies[0]);  // nothing left in a shared tab
    for (const id of ["released-outputs", "review-outputs", "review-log-text", "submit-message", "review-message"]) {
      clear($(id));
    }
    $("released").hidden = true;
    $("review").hidden = true;
    $("key-panel").hidden = false;
    $("key-error").textContent = message || "";
  }

  async function useKey(event) {
    event.preventDefault();
    const input = $("api-key");
    const key = input.value.trim();
    input.value = "";
    if (!key) return;
    sessionStorage.setItem(KEY_ITEM, key);
    await start();
  }

  async function start() {
    if (!sessionStorage.getItem(KEY_ITEM)) {
      forgetKey("");
      return;
    }
    try {
      me = await call("/v1/whoami");
    } catch (error) {
      forgetKey(error.message);
      return;
    }
    $("key-panel").hidden = true;
    $("key-error").textContent = "";
    $("who").hidden = false;
    $("who-name").textContent = me.name;
    $("who-role").textContent = me.admin ? `${me.role}, admin` : me.role;
    const reviewer = me.role === "output_checker";
    $("reviewer-view").hidden = !reviewer;
    $("analyst-view").hidden = reviewer;
    status("");
    if (reviewer) {
      await loadDatasetNames();
      await loadQueue();
    } else {
      await loadDatasets();
      await loadJobs();
    }
  }

  // -- analyst: datasets, budgets, stage-1 packages ----------------------------------------------------------------
  async function loadDatasets() {
    const body = $("datasets").tBodies[0];
    clear(body);
    let datasets;
    try {
      datasets = await call("/v1/datasets");
    } catch (error) {
      status(`Datasets: ${error.message}`, true);
      return;
    }
    rememberNames(datasets);
    if (!datasets.length) body.append(el("tr", {}, el("td", {}, "No datasets yet.")));
    const choice = $("submit-dataset");
    clear(choice);
    for (const dataset of datasets) {
      const option = el("option", {}, dataset.name);
      option.value = dataset.dataset_id;
      choice.append(option);
      const gauge = el("td", { className: "budget" }, "…");
      const download = el("td");
      body.append(el("tr", {},
        el("td", { className: "name", title: dataset.dataset_id }, dataset.name),
        el("td", { className: "number" }, Number(dataset.row_count).toLocaleString()),
        gauge, download));
      loadBudget(dataset, gauge, download);
    }
  }

  async function loadDatasetNames() {
    try {
      rememberNames(await call("/v1/datasets"));
    } catch (_ignored) { /* the tables then show dataset ids */ }
  }

  function rememberNames(datasets) {
    datasetNames.clear();
    for (const dataset of datasets) datasetNames.set(dataset.dataset_id, dataset.name);
  }

  function datasetCell(datasetId) {
    return el("td", { title: datasetId }, datasetNames.get(datasetId) ?? datasetId);
  }

  async function loadBudget(dataset, cell, downloadCell) {
    try {
      const [budget] = await call(`/v1/dp/budget?dataset_id=${segment(dataset.dataset_id)}`);
      cell.replaceChildren(budgetGauge(budget));
    } catch (error) {
      cell.replaceChildren(el("span", { className: "muted" },
        error.status === 403 ? "your role has no access" : error.message));
      if (error.status === 403) return;  // no stage-1 data either for a role the policy does not name
    }
    try {
      await call(`/v1/datasets/${segment(dataset.dataset_id)}/stage-one/files`);
      downloadCell.replaceChildren(button("Download stage-1 package", () => downloadStageOne(dataset), "download"));
    } catch (error) {
      downloadCell.replaceChildren(el("span", { className: "muted" },
        error.status === 404 ? "not published yet" : error.message));
    }
  }

  function budgetGauge(budget) {
    const total = Number(budget.total);
    const remaining = Math.max(0, Number(budget.remaining));
    const meter = el("meter");
    meter.min = 0;
    meter.max = total > 0 ? total : 1;
    meter.value = Math.min(remaining, meter.max);
    meter.low = meter.max * 0.25;
    meter.high = meter.max * 0.75;
    meter.optimum = meter.max;
    const unit = budget.unit === "epsilon" ? "ε" : String(budget.unit || "");
    const label = `${formatNumber(remaining)} of ${formatNumber(total)} ${unit} left`;
    meter.title = label;
    meter.setAttribute("aria-label", label);
    return el("span", { className: "gauge" }, meter, " ", el("span", { className: "gauge-text" }, label));
  }

  function formatNumber(value) {
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 4 });
  }

  async function downloadStageOne(dataset) {
    status(`Preparing the stage-1 package of ${dataset.name}…`);
    try {
      const blob = await call(`/v1/datasets/${segment(dataset.dataset_id)}/stage-one`, { as: "blob" });
      saveBlob(blob, `${safeFileName(dataset.name)}-stage-one.zip`);
      status(`Downloaded the stage-1 package of ${dataset.name} (DP synthetic data: explore freely).`);
    } catch (error) {
      status(`Stage-1 package: ${error.message}`, true);
    }
  }

  function safeFileName(name) {
    return String(name).replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 100) || "download";
  }

  function saveBlob(blob, fileName) {
    const link = el("a");
    link.href = keepBlobUrl(blob);
    link.download = fileName;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
  }

  // -- analyst: jobs and released outputs -------------------------------------------------------------------------
  async function loadJobs() {
    const body = $("jobs").tBodies[0];
    clear(body);
    let jobs;
    try {
      jobs = await call("/v1/analysis-jobs?mine=true");
    } catch (error) {
      status(`Jobs: ${error.message}`, true);
      return;
    }
    if (!jobs.length) body.append(el("tr", {}, el("td", {}, "No jobs yet: submit one with `janedoe job submit`.")));
    for (const job of jobs) {
      const action = el("td");
      if (job.state === "released") {
        action.append(button("Show outputs", () => showReleased(job), "show-outputs"));
      }
      const row = el("tr", {},
        el("td", { className: "mono" }, job.job_id),
        datasetCell(job.dataset_id),
        el("td", {}, job.mode),
        el("td", {}, stateBadge(job.state), job.limit ? el("span", { className: "muted" }, ` (${job.limit})`) : null),
        el("td", {}, when(job.created_at)),
        el("td", { className: "note" }, job.reason || ""),
        action);
      row.dataset.jobId = job.job_id;
      body.append(row);
    }
  }

  async function submitJob(event) {
    event.preventDefault();
    const file = $("submit-folder").files[0];
    const message = $("submit-message");
    if (!file) return;
    const form = new FormData();
    form.append("dataset_id", $("submit-dataset").value);
    form.append("folder", file, file.name);
    message.textContent = "Submitting…";
    message.className = "";
    try {
      const job = await call("/v1/analysis-jobs", { method: "POST", form });
      message.textContent = `Job ${job.job_id} is ${String(job.state).replace(/_/g, " ")}.`;
      $("submit-form").reset();
      await loadJobs();
    } catch (error) {
      message.textContent = error.message;
      message.className = "error";
    }
  }

  async function showReleased(job) {
    dropBlobUrls();
    const holder = $("released-outputs");
    clear(holder);
    $("released").hidden = false;
    $("released-job").textContent = job.job_id;
    let outputs;
    try {
      outputs = await call(`/v1/analysis-jobs/${segment(job.job_id)}/outputs`);
    } catch (error) {
      holder.append(el("p", { className: "error" }, error.message));
      return;
    }
    if (!outputs.length) holder.append(el("p", {}, "Nothing was released."));
    for (const output of outputs) {
      const name = output.name ?? output.path;
      const url = `/v1/analysis-jobs/${segment(job.job_id)}/outputs/${outputPath(name)}`;
      const card = el("article", { className: "output" },
        el("h3", {}, name),
        el("p", { className: "muted mono", title: output.sha256 },
          `${output.kind} · sha256 ${String(output.sha256 || "").slice(0, 16)}…`));
      holder.append(card);
      card.append(await renderOutput(url, name, output.kind));
    }
  }

  // -- showing one output: figures inline, tables as tables, the rest as text ------------------------------------
  async function renderOutput(url, name, kind) {
    const ext = suffix(name);
    const box = el("div", { className: "output-body" });
    try {
      if (kind === "figure" && FIGURE_TYPES[ext]) {
        const blob = await call(url, { as: "blob" });
        const image = el("img");
        image.alt = name;
        image.src = keepBlobUrl(new Blob([blob], { type: FIGURE_TYPES[ext] }));
        box.append(image);
      } else if ((kind === "table" && TABLE_SUFFIXES.includes(ext)) || kind === "dp_answers") {
        const text = await call(url, { as: "text" });
        box.append(kind === "dp_answers" ? el("pre", {}, prettyJson(text)) : tableFrom(parseTable(text, ext)));
      } else if (kind === "text" || TEXT_SUFFIXES.includes(ext)) {
        box.append(el("pre", {}, await call(url, { as: "text" })));  // .md too: shown as text, never rendered
      } else {
        box.append(button(`Download ${name}`, async () => {
          try {
            saveBlob(await call(url, { as: "blob" }), safeFileName(name.split("/").pop()));
          } catch (error) {
            status(error.message, true);
          }
        }, "download"));
      }
    } catch (error) {
      box.append(el("p", { className: "error" }, error.message));
    }
    return box;
  }

  function prettyJson(text) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (_ignored) {
      return text;
    }
  }

  function parseTable(text, ext) {
    if (ext === "csv") return parseCsv(text);
    const records = ext === "jsonl"
      ? text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line))
      : [].concat(JSON.parse(text));
    const header = [];
    for (const record of records) {
      for (const column of Object.keys(record ?? {})) if (!header.includes(column)) header.push(column);
    }
    return [header, ...records.map((record) => header.map((column) => cellText(record?.[column])))];
  }

  function cellText(value) {
    if (value === null || value === undefined) return "";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // RFC 4180: quoted fields may hold commas, doubled quotes and line breaks.
  function parseCsv(text) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i += 1) {
      const char = text[i];
      if (quoted) {
        if (char === '"' && text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else if (char === '"') {
          quoted = false;
        } else {
          field += char;
        }
      } else if (char === '"' && field === "") {
        quoted = true;
      } else if (char === ",") {
        row.push(field);
        field = "";
      } else if (char === "\n" || char === "\r") {
        if (char === "\r" && text[i + 1] === "\n") i += 1;
        row.push(field);
        rows.push(row);
        row = [];
        field = "";
      } else {
        field += char;
      }
    }
    if (field !== "" || row.length) {
      row.push(field);
      rows.push(row);
    }
    return rows;
  }

  function tableFrom(rows) {
    const [header = [], ...body] = rows;
    const table = el("table", { className: "data" });
    table.append(el("thead", {}, el("tr", {}, ...header.map((name) => el("th", {}, name)))));
    const tbody = el("tbody");
    for (const cells of body.slice(0, MAX_TABLE_ROWS)) tbody.append(el("tr", {}, ...cells.map((c) => el("td", {}, c))));
    table.append(tbody);
    if (body.length <= MAX_TABLE_ROWS) return table;
    return el("div", {}, table, el("p", { className: "muted" }, `First ${MAX_TABLE_ROWS} of ${body.length} rows.`));
  }

  // -- reviewer: the queue, one job's checked outputs beside their findings, approve / request changes ------------
  async function loadQueue() {
    const body = $("queue").tBodies[0];
    clear(body);
    let queue;
    try {
      queue = await call("/v1/reviews");
    } catch (error) {
      status(`Review queue: ${error.message}`, true);
      return;
    }
    if (!queue.length) body.append(el("tr", {}, el("td", {}, "Nothing awaits review.")));
    for (const job of queue) {
      const row = el("tr", {},
        el("td", { className: "mono" }, job.job_id),
        el("td", {}, job.author),
        datasetCell(job.dataset_id),
        el("td", {}, when(job.finished_at || job.updated_at)),
        el("td", {}, button("Review", () => showReview(job.job_id), "review")));
      row.dataset.jobId = job.job_id;
      body.append(row);
    }
  }

  async function showReview(jobId) {
    dropBlobUrls();
    const section = $("review");
    const holder = $("review-outputs");
    clear(holder);
    $("review-message").textContent = "";
    $("review-log-text").textContent = "";
    $("review-log").open = false;
    $("review-actions").hidden = true;
    section.hidden = false;
    section.dataset.jobId = jobId;
    let job;
    try {
      job = await call(`/v1/reviews/${segment(jobId)}`);
    } catch (error) {
      $("review-message").textContent = error.message;
      return;
    }
    $("review-job").textContent = job.job_id;
    $("review-author").textContent = job.author;
    const approvers = job.approved_by ?? [];
    $("review-approvals").textContent = `State: ${String(job.state).replace(/_/g, " ")}. Approvals so far: `
      + `${Number(job.approvals ?? approvers.length)}${approvers.length ? ` (${approvers.join(", ")})` : ""}.`;
    for (const output of job.outputs ?? []) {
      const name = output.name ?? output.path;
      const view = el("div", { className: "checked-file" });
      const card = el("article", { className: `output side-by-side ${output.passed ? "passed" : "blocked"}` },
        el("h3", {}, name, " ", el("span", { className: output.passed ? "verdict ok" : "verdict bad" },
          output.passed ? "passed" : "blocked")),
        view, findingsList(output.findings ?? []));
      holder.append(card);
      if (output.sha256) {  // a checked file exists (blocked files without one are never shown)
        view.append(await renderOutput(`/v1/reviews/${segment(jobId)}/files/${outputPath(name)}`, name, output.kind));
      } else {
        view.append(el("p", { className: "muted" }, "No checked file: nothing of it can be released."));
      }
    }
    const canAct = me && me.role === "output_checker" && me.name !== job.author && job.state === "awaiting_review"
      && !job.approved_by_you && !approvers.includes(me.name);
    $("review-actions").hidden = !canAct;
    if (me && me.name === job.author) $("review-message").textContent = "You wrote this job: you cannot review it.";
    loadLog(jobId);
  }

  function findingsList(findings) {
    const list = el("ul", { className: "findings" });
    if (!findings.length) list.append(el("li", { className: "finding ok" }, "All automatic checks passed."));
    for (const finding of findings) {
      list.append(el("li", { className: finding.blocking ? "finding blocking" : "finding note" },
        el("strong", {}, finding.check), `: ${finding.message}`, finding.blocking ? " (blocks release)" : ""));
    }
    return list;
  }

  async function loadLog(jobId) {
    try {
      $("review-log-text").textContent = await call(`/v1/analysis-jobs/${segment(jobId)}/logs`, { as: "text" });
    } catch (error) {
      $("review-log-text").textContent = `(no log: ${error.message})`;
    }
  }

  async function decide(action) {
    const jobId = $("review").dataset.jobId;
    const reason = $("change-reason").value.trim();
    if (action === "request-changes" && !reason) {
      $("review-message").textContent = "Say what the author should change.";
      return;
    }
    try {
      const job = await call(`/v1/reviews/${segment(jobId)}/${action}`, {
        method: "POST", json: action === "request-changes" ? { reason } : {},
      });
      $("change-reason").value = "";
      await showReview(jobId).catch(() => {});
      $("review-message").textContent = action === "approve"
        ? `Approved. The job is now ${String(job.state ?? "").replace(/_/g, " ")}.`
        : "Changes requested; the author sees your reason.";
      await loadQueue();
    } catch (error) {
      $("review-message").textContent = error.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("key-form").addEventListener("submit", useKey);
    $("submit-form").addEventListener("submit", submitJob);
    $("forget-key").addEventListener("click", () => forgetKey("Key forgotten."));
    $("refresh-jobs").addEventListener("click", loadJobs);
    $("refresh-queue").addEventListener("click", loadQueue);
    $("approve").addEventListener("click", () => decide("approve"));
    $("request-changes").addEventListener("click", () => decide("request-changes"));
    start();
  });
})();
