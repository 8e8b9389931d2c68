/**
 * The dashboard's page (docs/dashboard.md), run by the browser: bundled with dagre into
 * `app.js` by `scripts/dashboard_assets.ts` and served by the daemon at `/ui/app.js`. It reads
 * the daemon's API, follows the event stream (`GET /events`, Server-Sent Events) and never
 * reloads: a run's jobs move from state to state as their events arrive.
 *
 * Everything the page shows from the daemon goes through `textContent`, never HTML.
 *
 * @module
 */
import { Graph, layout } from "@dagrejs/dagre";

// ---------------------------------------------------------------------------------------------
// Shapes of the API's answers (docs/daemon.md, docs/dashboard.md)

interface Service {
  key: string;
  name: string;
  actor: string;
  role: string;
  state: string;
  parent: string | null;
  producers: string[];
  consumers: string[];
  actions: Record<string, string>;
  errors: Record<string, string>;
}

interface ActionView {
  state: string;
  period: number;
  lastRun: string | null;
  lastJob?: { id: string; run: string; state: string; at: string | null; error?: string };
  paused?: string;
}

interface ServiceDetail {
  name: string;
  role: string;
  actor: string;
  state: string;
  data: Record<string, unknown>;
  actions: Record<string, ActionView>;
  producers: string[];
  consumers: string[];
}

interface RunEntry {
  id: string;
  state: string;
  scope: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  duration: number | null;
  jobs: number;
}

interface JobView {
  id: string;
  service: string;
  action: string;
  state: string;
  attempts: number;
  startedAt: string | null;
  endedAt: string | null;
  duration: number | null;
  error: { message: string; stack?: string } | null;
  log?: string[];
}

interface RunDetail extends Omit<RunEntry, "jobs"> {
  counts: Record<string, number>;
  jobs: JobView[];
}

interface RecurringEntry {
  service: string;
  action: string;
  period: number;
  state: string;
  lastRun: string | null;
  paused: string | null;
}

/** A fleet worker (`GET /ui/api/repos/{name}/workers`, as `ays workers --json`). */
interface WorkerEntry {
  name: string;
  host: string;
  labels: string[];
  concurrency: number;
  running: number;
  live: boolean;
  signed: boolean;
  startedAt: string;
  heartbeat: string;
}

interface GraphAnswer {
  total: number;
  truncated: boolean;
  limit: number;
  steps: number;
  nodes: {
    id: string;
    service: string;
    action: string;
    reason: string;
    step: number;
    state: string;
  }[];
  edges: { from: string; to: string }[];
}

/** An event of the stream (`{id, time, repo, type, ...}`). */
interface AysEvent {
  id: number | string;
  time: string;
  repo: string;
  type: string;
  runId?: string;
  jobId?: string;
  service?: string;
  action?: string;
  state?: string;
  attempt?: number;
  lines?: string[];
  error?: { message: string } | string;
  durationMs?: number;
  counts?: Record<string, number>;
  jobs?: unknown;
  worker?: string;
}

const EVENT_TYPES = [
  "run.started",
  "run.ended",
  "job.started",
  "job.log",
  "job.retry",
  "job.ended",
  "service.state",
  "recurring.ended",
  "worker.joined",
  "worker.left",
];

/** How often the Workers tab reads the fleet again while it shows (running jobs, heartbeats). */
const WORKERS_POLL_MS = 5000;

const PAGE = 50;

/** The lifecycle actions (docs/runs.md): scheduling one that is ok needs --force. */
const LIFECYCLE = ["init", "install", "start", "stop", "uninstall"];

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

type Child = Node | string | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((event: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** A table's header row: one `th` per name. */
function tableHead(...names: string[]): HTMLTableSectionElement {
  return h("thead", {}, h("tr", {}, ...names.map((name) => h("th", {}, name))));
}

function svg(tag: string, attrs: Record<string, string | number> = {}): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

function badge(state: string): HTMLElement {
  return h("span", { class: `state state-${state}`, "data-state": state }, state);
}

function firstLine(text: string): string {
  const i = text.indexOf("\n");
  return i < 0 ? text : text.slice(0, i);
}

function when(iso: string | null): string {
  return iso === null ? "—" : new Date(iso).toLocaleString();
}

function seconds(value: number | null): string {
  return value === null ? "—" : `${value.toFixed(value < 10 ? 2 : 1)} s`;
}

function toast(message: string): void {
  const el = byId("toast");
  el.textContent = message;
  el.classList.add("show");
  setTimeout(() => el.classList.remove("show"), 4000);
}

// ---------------------------------------------------------------------------------------------
// The API

class AuthNeeded extends Error {}

async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { "x-ays-request": "dashboard" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: "same-origin",
  });
  if (res.status === 401) {
    askToken();
    throw new AuthNeeded("the daemon needs its token");
  }
  const text = await res.text();
  const body = text === "" ? null : JSON.parse(text);
  if (!res.ok) throw new Error(body?.error?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const enc = encodeURIComponent;

function splitName(name: string): [string, string] {
  const bang = name.indexOf("!");
  return [name.slice(0, bang), name.slice(bang + 1)];
}

// ---------------------------------------------------------------------------------------------
// State: what the page knows; views render from it and events update it.

interface State {
  repos: string[];
  repo: string | null;
  tab: string;
  services: Service[];
  serviceFilter: string;
  serviceState: string;
  servicePage: number;
  runs: RunEntry[];
  runPage: number;
  run: RunDetail | null;
  /** Job ids whose state came from an event newer than the fetched run. */
  jobEvents: Map<string, Partial<JobView>>;
  followRuns: boolean;
  /** A run queued from this page: opened when it starts. */
  awaitedRun: string | null;
  recurring: RecurringEntry[];
  recurringPage: number;
  /** The fleet's workers, or null before they are read. */
  workers: WorkerEntry[] | null;
  /** Why the repository has no fleet (its store is not Redis), or a failure to read it. */
  workersNote: { text: string; error: boolean } | null;
  openLog: { runId: string; jobId: string; lines: string[] } | null;
  graph: { action: string; role: string; instance: string; limit: string };
  queue: { action: string; role: string; instance: string; parallel: string };
  events: EventSource | null;
  seen: Set<string>;
}

const state: State = {
  repos: [],
  repo: null,
  tab: "services",
  services: [],
  serviceFilter: "",
  serviceState: "",
  servicePage: 0,
  runs: [],
  runPage: 0,
  run: null,
  jobEvents: new Map(),
  followRuns: true,
  awaitedRun: null,
  recurring: [],
  recurringPage: 0,
  workers: null,
  workersNote: null,
  openLog: null,
  graph: { action: "install", role: "", instance: "", limit: "300" },
  queue: { action: "", role: "", instance: "", parallel: "" },
  events: null,
  seen: new Set(),
};

let renderQueued = false;

/** Renders on the next frame: a burst of events costs one render. */
function render(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderNow();
  });
}

function renderNow(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("#tabs button")) {
    button.classList.toggle("active", button.dataset.tab === state.tab);
  }
  const main = byId("main");
  const view = state.repo === null
    ? h("p", { class: "muted" }, "this daemon serves no repository")
    : state.tab === "services"
    ? servicesView()
    : state.tab === "graph"
    ? graphView()
    : state.tab === "runs"
    ? runsView()
    : state.tab === "workers"
    ? workersView()
    : recurringView();
  // The graph keeps its drawing across renders: it is drawn only when asked.
  if (state.tab === "graph" && main.dataset.view === "graph") return;
  main.dataset.view = state.tab;
  // A re-render must not take the cursor out of the field the user types in.
  const focused = document.activeElement instanceof HTMLInputElement &&
      main.contains(document.activeElement)
    ? document.activeElement
    : null;
  main.replaceChildren(view);
  if (focused?.id) {
    const again = document.getElementById(focused.id) as HTMLInputElement | null;
    again?.focus();
    if (again && again.type !== "checkbox") {
      again.setSelectionRange(again.value.length, again.value.length);
    }
  }
}

function pager(page: number, total: number, go: (page: number) => void): HTMLElement {
  const last = Math.max(0, Math.ceil(total / PAGE) - 1);
  const from = total === 0 ? 0 : page * PAGE + 1;
  const to = Math.min(total, (page + 1) * PAGE);
  return h(
    "div",
    { class: "pager" },
    h(
      "button",
      { type: "button", class: "act", disabled: page <= 0, onclick: () => go(page - 1) },
      "‹",
    ),
    h("span", { class: "count" }, `${from}–${to} of ${total}`),
    h("button", {
      type: "button",
      class: "act",
      disabled: page >= last,
      onclick: () => go(page + 1),
    }, "›"),
  );
}

// ---------------------------------------------------------------------------------------------
// Services

function matchesFilter(service: Service, filter: string, wanted: string): boolean {
  if (wanted !== "" && service.state !== wanted) return false;
  if (filter === "") return true;
  const text = `${service.role}!${service.name} ${service.actor} ${service.state} ${
    Object.values(service.errors).join(" ")
  }`.toLowerCase();
  return filter.toLowerCase().split(/\s+/).every((word) => text.includes(word));
}

function servicesView(): HTMLElement {
  const shown = state.services.filter((s) =>
    matchesFilter(s, state.serviceFilter, state.serviceState)
  );
  const page = Math.min(state.servicePage, Math.max(0, Math.ceil(shown.length / PAGE) - 1));
  const rows = shown.slice(page * PAGE, (page + 1) * PAGE).map((service) => {
    const name = `${service.role}!${service.name}`;
    const errors = Object.entries(service.errors);
    return h(
      "tr",
      { class: "clickable", "data-service": name, onclick: () => void openService(name) },
      h("td", {}, name),
      h("td", {}, service.actor),
      h("td", {}, badge(service.state)),
      h(
        "td",
        { class: "actions" },
        ...Object.entries(service.actions).map(([action, actionState]) =>
          h("span", { class: `chip state-${actionState}`, title: actionState }, action)
        ),
      ),
      h(
        "td",
        { class: "error" },
        ...errors.map(([action, message]) => h("div", {}, `${action}: ${firstLine(message)}`)),
      ),
    );
  });
  const filter = h("input", {
    id: "service-filter",
    type: "search",
    placeholder: "filter: name, actor, state, error",
    value: state.serviceFilter,
    oninput: (event: Event) => {
      state.serviceFilter = (event.target as HTMLInputElement).value;
      state.servicePage = 0;
      renderNow();
    },
  });
  const states = ["", "ok", "error", "new", "changed"];
  const select = h(
    "select",
    {
      id: "service-state",
      onchange: (event: Event) => {
        state.serviceState = (event.target as HTMLSelectElement).value;
        state.servicePage = 0;
        render();
      },
    },
    ...states.map((s) =>
      h("option", { value: s, selected: s === state.serviceState }, s || "any state")
    ),
  );
  return h(
    "section",
    { id: "services" },
    h(
      "div",
      { class: "toolbar" },
      filter,
      select,
      h("span", { class: "muted" }, `${state.services.length} services`),
    ),
    h(
      "table",
      {},
      tableHead("service", "actor", "state", "actions", "last error"),
      h("tbody", {}, ...rows),
    ),
    pager(page, shown.length, (p) => {
      state.servicePage = p;
      render();
    }),
  );
}

async function openService(name: string): Promise<void> {
  const [role, instance] = splitName(name);
  const detail = await api<ServiceDetail>(
    `/repos/${enc(state.repo!)}/services/${enc(role)}/${enc(instance)}`,
  );
  const rows = Object.entries(detail.actions).map(([action, view]) =>
    h(
      "tr",
      { "data-action": action },
      h("td", {}, action),
      h("td", {}, badge(view.paused ? "paused" : view.state)),
      h("td", {}, view.period > 0 ? `every ${view.period} s` : ""),
      h("td", {}, view.lastJob ? `${view.lastJob.state} ${when(view.lastJob.at)}` : "—"),
      h("td", { class: "error" }, view.lastJob?.error ?? view.paused ?? ""),
      h(
        "td",
        {},
        h("button", {
          type: "button",
          class: "act do",
          "data-do": action,
          // Queued runs take no --force: an ok lifecycle action would do nothing (the API says so).
          disabled: view.state === "ok" && LIFECYCLE.includes(action),
          title: view.state === "ok" && LIFECYCLE.includes(action)
            ? `${action} is ok: ays do ${action} --force runs it again`
            : `queue ays do ${action} for ${name}`,
          onclick: () => void doAction(name, action),
        }, `do ${action}`),
      ),
    )
  );
  showPanel(
    h("h2", {}, name),
    h("p", {}, `${detail.actor} · `, badge(detail.state)),
    detail.producers.length > 0 ? h("p", {}, `producers: ${detail.producers.join(", ")}`) : null,
    detail.consumers.length > 0 ? h("p", {}, `consumers: ${detail.consumers.join(", ")}`) : null,
    h(
      "table",
      {},
      tableHead("action", "state", "period", "last job", "error", ""),
      h("tbody", {}, ...rows),
    ),
    h("h3", {}, "data"),
    h("pre", {}, JSON.stringify(detail.data, null, 2)),
  );
}

async function doAction(service: string, action: string): Promise<void> {
  try {
    const { id } = await api<{ id: string }>(`/ui/api/repos/${enc(state.repo!)}/do`, {
      method: "POST",
      body: { service, action },
    });
    toast(`queued ${action} on ${service}: run ${id}`);
    state.awaitedRun = id;
  } catch (error) {
    if (!(error instanceof AuthNeeded)) toast((error as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Graph

function graphView(): HTMLElement {
  const field = (name: keyof State["graph"], placeholder: string) =>
    h("input", {
      id: `graph-${name}`,
      placeholder,
      value: state.graph[name],
      oninput: (event: Event) => (state.graph[name] = (event.target as HTMLInputElement).value),
    });
  return h(
    "section",
    { id: "graph" },
    h(
      "div",
      { class: "toolbar" },
      field("action", "action (empty: what ays run would do)"),
      field("role", "role"),
      field("instance", "instance regex"),
      field("limit", "at most N jobs"),
      h("button", {
        type: "button",
        class: "act",
        id: "graph-draw",
        onclick: () => void drawGraph(),
      }, "Draw"),
      h("span", { class: "muted", id: "graph-info" }, "the planner's graph, drawn on demand"),
    ),
    h("div", { id: "graph-canvas" }),
  );
}

async function drawGraph(): Promise<void> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state.graph)) {
    if (value !== "") params.set(name, value);
  }
  const info = byId("graph-info");
  info.textContent = "planning…";
  let answer: GraphAnswer;
  try {
    answer = await api<GraphAnswer>(`/ui/api/repos/${enc(state.repo!)}/graph?${params}`);
  } catch (error) {
    info.textContent = (error as Error).message;
    return;
  }
  const g = new Graph();
  g.setGraph({ rankdir: "LR", nodesep: 12, ranksep: 40, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of answer.nodes) {
    const label = `${node.service} ${node.action}`;
    g.setNode(node.id, { label, width: Math.max(80, label.length * 6.6 + 16), height: 24 });
  }
  // The planner's edge "a waits for b" is drawn b → a: the order jobs run in.
  for (const edge of answer.edges) g.setEdge(edge.to, edge.from);
  layout(g);
  const size = g.graph() as { width?: number; height?: number };
  const root = svg("svg", { width: size.width ?? 100, height: size.height ?? 100 });
  const defs = svg("defs");
  const marker = svg("marker", {
    id: "arrow",
    viewBox: "0 0 10 10",
    refX: 10,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: "auto",
  });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#9a9a94" }));
  defs.append(marker);
  root.append(defs);
  for (const e of g.edges()) {
    const points = (g.edge(e) as { points: { x: number; y: number }[] }).points;
    const d = points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
      .join(" ");
    root.append(svg("path", { class: "edge", d, "marker-end": "url(#arrow)" }));
  }
  const colors: Record<string, string> = {
    ok: "#2e7d32",
    error: "#c62828",
    running: "#1565c0",
    scheduled: "#8d6e00",
    changed: "#8d6e00",
    new: "#757575",
  };
  for (const node of answer.nodes) {
    const box = g.node(node.id) as {
      x: number;
      y: number;
      width: number;
      height: number;
      label: string;
    };
    const group = svg("g", {
      class: "node",
      "data-node": node.id,
      transform: `translate(${box.x - box.width / 2},${box.y - box.height / 2})`,
    });
    const title = svg("title");
    title.textContent = `${node.id} (${node.state}, step ${node.step + 1}, ${node.reason})`;
    group.append(title);
    group.append(
      svg("rect", {
        width: box.width,
        height: box.height,
        rx: 4,
        fill: colors[node.state] ?? "#757575",
      }),
    );
    const text = svg("text", { x: 8, y: 16 });
    text.textContent = box.label;
    group.append(text);
    root.append(group);
  }
  byId("graph-canvas").replaceChildren(root);
  info.textContent = answer.truncated
    ? `showing the first ${answer.nodes.length} of ${answer.total} jobs (${answer.steps} steps): narrow with role or instance`
    : `${answer.total} jobs in ${answer.steps} steps`;
}

// ---------------------------------------------------------------------------------------------
// Runs

function runsView(): HTMLElement {
  const input = (name: keyof State["queue"], placeholder: string) =>
    h("input", {
      id: `queue-${name}`,
      placeholder,
      value: state.queue[name],
      oninput: (event: Event) => (state.queue[name] = (event.target as HTMLInputElement).value),
    });
  const queue = h(
    "form",
    {
      class: "toolbar",
      id: "queue-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void queueRun();
      },
    },
    input("action", "action"),
    input("role", "role"),
    input("instance", "instance regex"),
    input("parallel", "parallel"),
    h("button", { type: "submit", class: "act", id: "queue-run" }, "Queue a run"),
    h(
      "label",
      {},
      h("input", {
        type: "checkbox",
        id: "follow",
        checked: state.followRuns,
        onchange: (event: Event) => (state.followRuns = (event.target as HTMLInputElement).checked),
      }),
      " open new runs",
    ),
  );
  const page = state.runPage;
  const list = h(
    "table",
    { id: "run-list" },
    tableHead("run", "state", "jobs", "created"),
    h(
      "tbody",
      {},
      ...state.runs.slice(page * PAGE, (page + 1) * PAGE).map((run) =>
        h(
          "tr",
          {
            class: `clickable${state.run?.id === run.id ? " selected" : ""}`,
            "data-run": run.id,
            onclick: () => void openRun(run.id),
          },
          h("td", {}, run.id.slice(0, 12)),
          h("td", {}, badge(run.state)),
          h("td", {}, String(run.jobs)),
          h("td", {}, when(run.createdAt)),
        )
      ),
    ),
  );
  return h(
    "section",
    { id: "runs" },
    queue,
    h(
      "div",
      { class: "split" },
      h(
        "div",
        {},
        list,
        pager(page, state.runs.length, (p) => {
          state.runPage = p;
          render();
        }),
      ),
      h(
        "div",
        { id: "run-detail" },
        state.run ? runDetailView(state.run) : h("p", { class: "muted" }, "pick a run"),
      ),
    ),
  );
}

function runDetailView(run: RunDetail): HTMLElement {
  const counts = Object.entries(run.counts).map(([s, n]) => `${n} ${s}`).join(", ");
  return h(
    "div",
    { "data-run": run.id, "data-state": run.state },
    h("h2", {}, "run ", h("code", {}, run.id), " ", badge(run.state)),
    h(
      "p",
      { class: "muted" },
      `${counts || "no jobs"} · started ${when(run.startedAt)} · ${seconds(run.duration)}`,
    ),
    h(
      "table",
      { id: "jobs" },
      tableHead("service", "action", "state", "attempts", "duration", "error"),
      h(
        "tbody",
        {},
        ...run.jobs.map((job) =>
          h(
            "tr",
            {
              class: "clickable",
              "data-job": job.id,
              "data-job-name": `${job.service} ${job.action}`,
              "data-state": job.state,
              onclick: () => void openLog(run.id, job.id),
            },
            h("td", {}, job.service),
            h("td", {}, job.action),
            h("td", {}, badge(job.state)),
            h("td", {}, String(job.attempts)),
            h("td", {}, seconds(job.duration)),
            h("td", { class: "error job-error" }, job.error ? firstLine(job.error.message) : ""),
          )
        ),
      ),
    ),
  );
}

async function queueRun(): Promise<void> {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(state.queue)) {
    if (value.trim() === "") continue;
    body[name] = name === "parallel" ? Number(value) : value.trim();
  }
  try {
    const { id } = await api<{ id: string }>(`/repos/${enc(state.repo!)}/runs`, {
      method: "POST",
      body,
    });
    state.awaitedRun = id;
    toast(`queued run ${id}`);
  } catch (error) {
    if (!(error instanceof AuthNeeded)) toast((error as Error).message);
  }
}

async function loadRuns(): Promise<void> {
  state.runs = await api<RunEntry[]>(`/repos/${enc(state.repo!)}/runs`);
  render();
}

/**
 * Shows a run: at once as `skeleton` (built from its `run.started` event) when given, then as
 * fetched, with what events said since laid over the fetched records (they are newer). A run
 * the daemon cannot give (yet) stays as its events draw it.
 */
async function openRun(id: string, skeleton?: RunDetail): Promise<void> {
  if (state.run?.id !== id) state.jobEvents = new Map();
  if (skeleton) {
    state.run = skeleton;
    state.tab = "runs";
    render();
  }
  let detail: RunDetail;
  try {
    detail = await api<RunDetail>(`/runs/${enc(id)}`);
  } catch (error) {
    if (skeleton) return;
    throw error;
  }
  const shown = state.run?.id === id ? state.run : null;
  for (const job of detail.jobs) Object.assign(job, state.jobEvents.get(job.id) ?? {});
  for (const job of shown?.jobs ?? []) {
    if (!detail.jobs.some((j) => j.id === job.id)) detail.jobs.push(job);
  }
  if (shown && shown.endedAt !== null && detail.endedAt === null) {
    detail.state = shown.state;
    detail.endedAt = shown.endedAt;
    detail.counts = shown.counts;
  }
  if (!skeleton || state.run?.id === id) state.run = detail;
  state.tab = "runs";
  render();
}

async function openLog(runId: string, jobId: string): Promise<void> {
  const answer = await api<{ lines: string[]; truncated: boolean }>(
    `/ui/api/repos/${enc(state.repo!)}/runs/${enc(runId)}/jobs/${enc(jobId)}/log`,
  );
  state.openLog = { runId, jobId, lines: answer.lines };
  const job = state.run?.jobs.find((j) => j.id === jobId);
  showPanel(
    h("h2", {}, job ? `${job.service} ${job.action}` : jobId),
    job
      ? h("p", {}, badge(job.state), ` attempts ${job.attempts} · ${seconds(job.duration)}`)
      : null,
    job?.error
      ? h("pre", { class: "error", id: "job-error" }, job.error.stack ?? job.error.message)
      : null,
    h("h3", {}, "log"),
    h("pre", { class: "log", id: "job-log" }, answer.lines.join("\n") || "(empty)"),
  );
}

// ---------------------------------------------------------------------------------------------
// Recurring

function recurringView(): HTMLElement {
  const page = state.recurringPage;
  return h(
    "section",
    { id: "recurring" },
    h(
      "table",
      {},
      tableHead("service", "action", "period", "state", "last run", "paused"),
      h(
        "tbody",
        {},
        ...state.recurring.slice(page * PAGE, (page + 1) * PAGE).map((entry) =>
          h(
            "tr",
            {
              class: "clickable",
              "data-recurring": `${entry.service} ${entry.action}`,
              onclick: () => void openHistory(entry),
            },
            h("td", {}, entry.service),
            h("td", {}, entry.action),
            h("td", {}, `${entry.period} s`),
            h("td", {}, badge(entry.state)),
            h("td", {}, when(entry.lastRun)),
            h("td", { class: "muted" }, entry.paused ?? ""),
          )
        ),
      ),
    ),
    pager(page, state.recurring.length, (p) => {
      state.recurringPage = p;
      render();
    }),
  );
}

async function openHistory(entry: RecurringEntry): Promise<void> {
  const [role, instance] = splitName(entry.service);
  const jobs = await api<JobView[]>(
    `/ui/api/repos/${enc(state.repo!)}/recurring/${enc(role)}/${enc(instance)}/${
      enc(entry.action)
    }`,
  );
  showPanel(
    h("h2", {}, `${entry.service} ${entry.action}`),
    h("p", { class: "muted" }, `every ${entry.period} s · the newest ${jobs.length} jobs`),
    ...jobs.map((job) =>
      h(
        "div",
        { class: "history", "data-job": job.id },
        h("h3", {}, badge(job.state), ` ${when(job.startedAt)} · ${seconds(job.duration)}`),
        job.error ? h("p", { class: "error" }, job.error.message) : null,
        job.log && job.log.length > 0 ? h("pre", { class: "log" }, job.log.join("\n")) : null,
      )
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// The side panel

// ---------------------------------------------------------------------------------------------
// Workers

function workersView(): HTMLElement {
  const note = state.workersNote;
  if (note) {
    return h(
      "section",
      { id: "workers" },
      h("p", { class: note.error ? "error" : "muted" }, note.text),
    );
  }
  if (state.workers === null) {
    return h("section", { id: "workers" }, h("p", { class: "muted" }, "loading…"));
  }
  if (state.workers.length === 0) {
    return h(
      "section",
      { id: "workers" },
      h("p", { class: "muted" }, "no workers in the fleet (start one with ays worker)"),
    );
  }
  return h(
    "section",
    { id: "workers" },
    h(
      "table",
      {},
      tableHead("name", "host", "labels", "concurrency", "running", "heartbeat", "state"),
      h(
        "tbody",
        {},
        ...state.workers.map((w) =>
          h(
            "tr",
            { "data-worker": w.name },
            h("td", {}, w.name),
            h("td", {}, w.host),
            h("td", {}, w.labels.join(", ")),
            h("td", {}, String(w.concurrency)),
            h("td", {}, String(w.running)),
            h("td", {}, when(w.heartbeat)),
            h("td", {}, badge(w.live ? "live" : "gone")),
          )
        ),
      ),
    ),
  );
}

let workersLoad: { repo: string; done: Promise<void> } | null = null;

/**
 * Reads the fleet's workers (one request at a time per repository); a repository without a
 * fleet says why.
 */
function loadWorkers(): Promise<void> {
  const repo = state.repo;
  if (repo === null) return Promise.resolve();
  if (workersLoad?.repo === repo) return workersLoad.done;
  const entry = { repo, done: Promise.resolve() };
  entry.done = (async () => {
    try {
      const res = await fetch(`/ui/api/repos/${enc(repo)}/workers`, {
        headers: { "x-ays-request": "dashboard" },
        credentials: "same-origin",
      });
      if (res.status === 401) return askToken();
      const body = await res.json().catch(() => null);
      if (repo !== state.repo) return;
      if (res.ok) {
        state.workers = body as WorkerEntry[];
        state.workersNote = null;
      } else {
        // 409: the repository has no fleet — a fact to show, not a failure.
        state.workers = null;
        state.workersNote = {
          text: body?.error?.message ?? `${res.status} ${res.statusText}`,
          error: res.status !== 409,
        };
      }
      render();
    } finally {
      if (workersLoad === entry) workersLoad = null;
    }
  })();
  workersLoad = entry;
  return entry.done;
}

function showPanel(...children: Child[]): void {
  byId("panel-body").replaceChildren(...children.filter((c): c is Node | string => Boolean(c)));
  byId("panel").hidden = false;
}

function closePanel(): void {
  byId("panel").hidden = true;
  state.openLog = null;
}

// ---------------------------------------------------------------------------------------------
// Events: the stream updates the state; nothing is polled.

function errorText(error: AysEvent["error"]): string | null {
  if (error === undefined || error === null) return null;
  return typeof error === "string" ? error : error.message;
}

function updateJob(event: AysEvent, patch: Partial<JobView>): void {
  if (!event.jobId) return;
  const pending = state.jobEvents.get(event.jobId) ?? {};
  state.jobEvents.set(event.jobId, { ...pending, ...patch });
  const run = state.run !== null && state.run.id === event.runId ? state.run : null;
  const job = run?.jobs.find((j) => j.id === event.jobId);
  if (job) Object.assign(job, patch);
  if (run && job === undefined && event.service && event.action) {
    // A job the fetched run did not list yet (retries, or the run was fetched early).
    run.jobs.push({
      id: event.jobId,
      service: event.service,
      action: event.action,
      state: "new",
      attempts: 0,
      startedAt: null,
      endedAt: null,
      duration: null,
      error: null,
      ...patch,
    });
  }
}

function onEvent(event: AysEvent): void {
  const key = String(event.id);
  if (state.seen.has(key)) return;
  state.seen.add(key);
  if (state.seen.size > 5000) state.seen = new Set([...state.seen].slice(-2500));
  if (event.repo !== undefined && event.repo !== state.repo) return;
  switch (event.type) {
    case "run.started": {
      const entry: RunEntry = {
        id: event.runId!,
        state: "running",
        scope: {},
        createdAt: event.time,
        startedAt: event.time,
        endedAt: null,
        duration: null,
        jobs: Array.isArray(event.jobs) ? event.jobs.length : Number(event.jobs ?? 0),
      };
      if (!state.runs.some((run) => run.id === entry.id)) state.runs.unshift(entry);
      if (state.followRuns || state.awaitedRun === event.runId) {
        state.awaitedRun = null;
        const skeleton: RunDetail = {
          id: entry.id,
          state: "running",
          scope: {},
          createdAt: event.time,
          startedAt: event.time,
          endedAt: null,
          duration: null,
          counts: {},
          jobs: [],
        };
        void openRun(entry.id, skeleton).catch(() => {});
      }
      break;
    }
    case "run.ended": {
      void refreshServices();
      const run = state.runs.find((r) => r.id === event.runId);
      if (run) {
        run.state = event.state ?? run.state;
        run.endedAt = event.time;
      }
      const open = state.run;
      if (open !== null && open.id === event.runId) {
        open.state = event.state ?? open.state;
        open.endedAt = event.time;
        if (open.startedAt !== null) {
          open.duration = (Date.parse(event.time) - Date.parse(open.startedAt)) / 1000;
        }
        if (event.counts) open.counts = event.counts;
      }
      break;
    }
    case "job.started":
      updateJob(event, { state: "running", attempts: event.attempt ?? 1, startedAt: event.time });
      break;
    case "job.retry":
      updateJob(event, {
        state: "running",
        error: event.error ? { message: errorText(event.error)! } : null,
      });
      break;
    case "job.ended": {
      const message = errorText(event.error);
      updateJob(event, {
        state: event.state ?? "ok",
        endedAt: event.time,
        duration: event.durationMs === undefined ? null : event.durationMs / 1000,
        error: message === null ? null : { message },
      });
      const open = state.run;
      if (open !== null && open.id === event.runId) {
        const counts: Record<string, number> = {};
        for (const job of open.jobs) counts[job.state] = (counts[job.state] ?? 0) + 1;
        open.counts = counts;
      }
      break;
    }
    case "job.log": {
      const log = state.openLog;
      if (log && log.jobId === event.jobId && event.lines) {
        log.lines.push(...event.lines);
        const pre = document.getElementById("job-log");
        if (pre) pre.textContent = log.lines.join("\n");
      }
      return;
    }
    case "service.state": {
      const service = state.services.find((s) => `${s.role}!${s.name}` === event.service);
      if (service && event.action && event.state) {
        service.actions[event.action] = event.state;
        if (event.state !== "error") delete service.errors[event.action];
      }
      // A failure's message and the derived service states come with the list: fetched once
      // per burst of failures, and once at each run's end, not per event.
      if (event.state === "error") void refreshServices();
      break;
    }
    case "worker.joined":
    case "worker.left":
      void loadWorkers();
      return;
    case "recurring.ended": {
      const entry = state.recurring.find((r) =>
        r.service === event.service && r.action === event.action
      );
      if (entry) {
        entry.state = event.state ?? entry.state;
        entry.lastRun = event.time;
      }
      break;
    }
    default:
      return;
  }
  render();
}

let servicesRefresh: Promise<void> | null = null;

/** Reloads the service list once for a burst of state changes (their states and errors). */
function refreshServices(): Promise<void> {
  servicesRefresh ??= new Promise<void>((resolve) => setTimeout(resolve, 300)).then(async () => {
    servicesRefresh = null;
    state.services = await api<Service[]>(`/ui/api/repos/${enc(state.repo!)}/services`);
    render();
  }).catch(() => {
    servicesRefresh = null;
  });
  return servicesRefresh;
}

/** How long the page waits for its event stream before it reads the repository anyway. */
const STREAM_OPEN_WAIT_MS = 3000;

/**
 * Follows the repository's events. The promise settles once the stream is open (or failed, or
 * after STREAM_OPEN_WAIT_MS): the stream starts with new events, so what the page reads after
 * that misses nothing in between — a run queued right after the page loaded still opens.
 */
function follow(repo: string): Promise<void> {
  state.events?.close();
  const source = new EventSource(`/events?repo=${enc(repo)}`);
  state.events = source;
  const live = byId("live");
  let opened: () => void = () => {};
  const open = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, STREAM_OPEN_WAIT_MS);
    opened = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  source.onopen = () => {
    live.textContent = "live";
    live.className = "live on";
    opened();
  };
  source.onerror = () => {
    live.textContent = source.readyState === EventSource.CLOSED ? "offline" : "reconnecting";
    live.className = "live off";
    opened();
  };
  const handle = (message: MessageEvent) => {
    try {
      onEvent(JSON.parse(message.data) as AysEvent);
    } catch {
      // Not an event of ours (a comment or keep-alive): nothing to show.
    }
  };
  // Named events (`event: job.ended`) and unnamed ones (`data:` only) both arrive.
  source.onmessage = handle;
  for (const type of EVENT_TYPES) source.addEventListener(type, handle as EventListener);
  return open;
}

// ---------------------------------------------------------------------------------------------
// Start, the token, and navigation

function askToken(): void {
  const dialog = byId<HTMLDialogElement>("login");
  if (!dialog.open) dialog.showModal();
  byId<HTMLInputElement>("token").focus();
}

async function signIn(event: Event): Promise<void> {
  event.preventDefault();
  const token = byId<HTMLInputElement>("token").value;
  const res = await fetch("/ui/session", {
    method: "POST",
    headers: { "content-type": "application/json", "x-ays-request": "dashboard" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    byId("login-error").textContent = body?.error?.message ?? `${res.status} ${res.statusText}`;
    return;
  }
  byId<HTMLInputElement>("token").value = "";
  byId("login-error").textContent = "";
  byId<HTMLDialogElement>("login").close();
  await start();
}

async function selectRepo(repo: string): Promise<void> {
  state.repo = repo;
  state.run = null;
  state.seen = new Set();
  writeHash();
  await follow(repo);
  const [services, runs, recurring] = await Promise.all([
    api<Service[]>(`/ui/api/repos/${enc(repo)}/services`),
    api<RunEntry[]>(`/repos/${enc(repo)}/runs`),
    api<RecurringEntry[]>(`/ui/api/repos/${enc(repo)}/recurring`),
  ]);
  state.services = services;
  state.runs = runs;
  state.recurring = recurring;
  state.workers = null;
  state.workersNote = null;
  render();
  void loadWorkers();
}

function writeHash(): void {
  const params = new URLSearchParams();
  if (state.repo) params.set("repo", state.repo);
  params.set("tab", state.tab);
  history.replaceState(null, "", `#${params}`);
}

async function start(): Promise<void> {
  const repos = await api<{ name: string }[]>("/repos");
  state.repos = repos.map((r) => r.name);
  const hash = new URLSearchParams(location.hash.slice(1));
  const wanted = hash.get("repo");
  state.tab = hash.get("tab") ?? state.tab;
  const select = byId<HTMLSelectElement>("repo");
  select.replaceChildren(...state.repos.map((name) => h("option", { value: name }, name)));
  const repo = wanted !== null && state.repos.includes(wanted) ? wanted : state.repos[0] ?? null;
  if (repo === null) {
    render();
    return;
  }
  select.value = repo;
  await selectRepo(repo);
}

function main(): void {
  byId("login-form").addEventListener("submit", (event) => void signIn(event));
  byId("panel-close").addEventListener("click", closePanel);
  byId<HTMLSelectElement>("repo").addEventListener("change", (event) => {
    void selectRepo((event.target as HTMLSelectElement).value);
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>("#tabs button")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab ?? "services";
      writeHash();
      if (state.tab === "runs" && state.repo) void loadRuns();
      if (state.tab === "workers" && state.repo) void loadWorkers();
      render();
    });
  }
  // Running jobs and heartbeats change without events: read them again while the tab shows.
  setInterval(() => {
    if (state.tab === "workers" && !document.hidden && state.workersNote?.error !== false) {
      void loadWorkers().catch(() => {});
    }
  }, WORKERS_POLL_MS);
  start().catch((error) => {
    if (!(error instanceof AuthNeeded)) {
      byId("main").replaceChildren(h("p", { class: "error" }, (error as Error).message));
    }
  });
}

main();
