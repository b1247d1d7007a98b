// A dashboard (docs/dashboard.md, "Dashboards"): panels on a 12-column grid, drawn from
// the member APIs (time series, latest, alerts, geo, images) or, on a share page, from
// /api/v1/shared-boards/<token>/; kept current by /ws/live/ and the auto-refresh.
// Owners edit in place: add, configure, move and resize panels (buttons, or drag a
// panel's title), then save the layout (PATCH /api/v1/boards/<id>/).
import uPlot from "../dashboard/vendor/uPlot.esm.js";
import * as L from "../dashboard/vendor/leaflet-src.esm.js";
import { addBasemap } from "../dashboard/basemap.js";
import { formatInstant, timeAxis, timeScale, zoned } from "../dashboard/chart-options.js";
import { Live, readJson } from "../dashboard/live.js";
import { formatValue } from "../dashboard/tiles.js";

const config = readJson("board-config");
const mapConfig = readJson("map-config");
const zone = document.querySelector("[data-page-time-zone]")?.textContent || "UTC";
const COLUMNS = 12;
const RANGE_SECONDS = { "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800, "30d": 2592000 };
const COLORS = ["#0b5cad", "#b42318", "#1a7f37", "#8250df", "#bf4b00", "#0a7d8c", "#7d4e00", "#57606a"];
const DEFAULTS = {
  timeseries: { w: 6, h: 4, series: [], bucket: "1h", agg: "avg" },
  stat: { w: 3, h: 2, node: null, quantity: "co2", gauge: false, min: null, max: null, thresholds: [] },
  table: { w: 6, h: 3, nodes: [], quantities: [] },
  map: { w: 6, h: 4, nodes: [] },
  alerts: { w: 6, h: 3, state: "open", limit: 10 },
  image: { w: 3, h: 3, node: null, name: "camera" },
};
const TYPE_NAMES = { timeseries: "Chart", stat: "Value", table: "Table", map: "Map", alerts: "Alerts", image: "Picture" };

const grid = document.getElementById("board-grid");
const editable = config.editable === true;
const board = { layout: structuredClone(config.layout), views: new Map() };
board.layout.panels = board.layout.panels || [];
const nodeLabels = new Map((config.nodes || []).map((n) => [n.id, n.label]));
const quantityInfo = new Map((config.quantities || []).map((q) => [q.key, q]));

// -- where the data comes from ----------------------------------------------------------

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || JSON.stringify(body).slice(0, 200));
  return body;
}

function fromSeconds() {
  return Math.floor(Date.now() / 1000 - RANGE_SECONDS[board.layout.range || "24h"]);
}

// Panels naming the same device share one read of its latest values per (re)load.
const latestReads = new Map();
function latestOf(node) {
  const read = latestReads.get(node);
  if (read && Date.now() - read.at < 2000) return read.answer;
  const answer = getJson(`/api/v1/nodes/${node}/latest/`);
  latestReads.set(node, { at: Date.now(), answer });
  answer.catch(() => latestReads.delete(node));
  return answer;
}

const memberSource = {
  async series(panel) {
    const byNode = new Map();
    for (const s of panel.series || []) {
      if (!byNode.has(s.node)) byNode.set(s.node, []);
      byNode.get(s.node).push(s.quantity);
    }
    const answers = await Promise.all(
      [...byNode].map(([node, quantities]) => {
        const params = new URLSearchParams({ quantity: quantities.join(","), bucket: panel.bucket, agg: panel.agg, from: String(fromSeconds()) });
        return getJson(`/api/v1/nodes/${node}/timeseries/?${params}`).then((body) => body.series.map((s) => ({ ...s, node })));
      }),
    );
    const found = new Map(answers.flat().map((s) => [`${s.node}/${s.quantity}`, s]));
    return { series: (panel.series || []).map((s) => found.get(`${s.node}/${s.quantity}`)).filter(Boolean) };
  },
  async latest(panel) {
    const nodes = panel.node ? [panel.node] : panel.nodes || [];
    const keys = panel.quantity ? [panel.quantity] : panel.quantities || [];
    const answers = await Promise.all(nodes.map(latestOf));
    const values = answers.flatMap((body) => body.values.map((v) => ({ ...v, node: body.node })));
    return { values: values.filter((v) => !keys.length || keys.includes(v.quantity)) };
  },
  async places(panel) {
    const wanted = new Set(panel.nodes && panel.nodes.length ? panel.nodes : [...nodeLabels.keys()]);
    const body = await getJson("/api/geo/nodes/?limit=1000");
    const features = body.features
      .filter((f) => wanted.has(f.properties.node))
      .map((f) => ({ node: f.properties.node, room: f.properties.room, site: f.properties.site, lat: f.geometry.coordinates[1], lon: f.geometry.coordinates[0] }));
    return { features };
  },
  async alerts(panel) {
    const params = new URLSearchParams({ organization: String(config.organization), page_size: String(panel.limit || 10) });
    if (panel.state !== "all") params.set("open", "true");
    const body = await getJson(`/api/v1/alerts/?${params}`);
    return { alerts: body.results };
  },
  async image(panel) {
    if (!panel.node) return { image: null };
    const body = await getJson(`/api/v1/nodes/${panel.node}/images/?${new URLSearchParams({ name: panel.name, page_size: "1" })}`);
    return { image: body.results[0] || null };
  },
};

const sharedSource = {
  async panelData(panel) {
    return getJson(`${config.shared}panels/${encodeURIComponent(panel.id)}/?from=${fromSeconds()}`);
  },
};

async function dataOf(panel) {
  if (config.shared) return sharedSource.panelData(panel);
  if (panel.type === "timeseries") return memberSource.series(panel);
  if (panel.type === "stat" || panel.type === "table") return memberSource.latest(panel);
  if (panel.type === "map") return memberSource.places(panel);
  if (panel.type === "alerts") return memberSource.alerts(panel);
  return memberSource.image(panel);
}

// -- drawing -----------------------------------------------------------------------------

function labelOf(node, fallback = "") {
  return fallback || nodeLabels.get(node) || `Device ${node}`;
}

function element(tag, attributes = {}, text = "") {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text) el.textContent = text;
  return el;
}

function levelOf(panel, value) {
  let level = "ok";
  for (const t of [...(panel.thresholds || [])].sort((a, b) => a.value - b.value)) if (value >= t.value) level = t.color;
  return (panel.thresholds || []).length ? level : "";
}

function place(view) {
  const { x, y, w, h } = view.panel;
  view.el.style.gridColumn = `${x + 1} / span ${w}`;
  view.el.style.gridRow = `${y + 1} / span ${h}`;
  view.el.dataset.x = x;
  view.el.dataset.y = y;
  view.el.dataset.w = w;
  view.el.dataset.h = h;
}

function drawSeries(view, data) {
  const { body, panel } = view;
  const series = data.series || [];
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => Date.parse(p.ts) / 1000)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const ys = new Array(xs.length).fill(null);
    for (const p of s.points) ys[index.get(Date.parse(p.ts) / 1000)] = p.value;
    return ys;
  });
  view.seriesData = { series, xs, columns };
  body.replaceChildren();
  const plotBox = element("div", { class: "plot", "aria-hidden": "true" });
  const points = series.reduce((n, s) => n + s.points.length, 0);
  const summary = element("p", { class: "muted summary" }, `${series.length} series, ${points} points (${panel.bucket} ${panel.agg}), last ${board.layout.range}${data.detail ? `: ${data.detail}` : ""}.`);
  body.append(plotBox, summary);
  view.el.dataset.points = String(points);
  const width = Math.max(body.clientWidth - 8, 200);
  const height = Math.max(view.el.clientHeight - 110, 80);
  const options = {
    width,
    height,
    tzDate: zoned(zone),
    legend: { show: true },
    scales: { x: timeScale(() => RANGE_SECONDS[board.layout.range || "24h"], () => (xs.length ? xs[xs.length - 1] : null)) },
    series: [
      { value: (u, v) => (v == null ? "–" : formatInstant(v, zone)) },
      ...series.map((s, i) => ({
        label: `${labelOf(s.node, s.label)} ${quantityInfo.get(s.quantity)?.name || s.quantity}${s.unit ? ` (${s.unit})` : ""}`,
        stroke: COLORS[i % COLORS.length],
        width: 2,
        spanGaps: true,
        value: (u, v) => (v == null ? "–" : `${formatValue(v)} ${s.unit}`),
      })),
    ],
    axes: [timeAxis(zone, view.el), { size: 50 }],
  };
  if (view.plot) view.plot.destroy();
  view.plot = new uPlot(options, [xs, ...columns], plotBox);
}

function drawLatest(view, data) {
  const { body, panel } = view;
  view.values = new Map((data.values || []).map((v) => [`${v.node}/${v.quantity}`, v]));
  body.replaceChildren();
  if (panel.type === "stat") {
    const v = view.values.get(`${panel.node}/${panel.quantity}`);
    const q = quantityInfo.get(panel.quantity) || { name: panel.quantity, unit: "" };
    const value = element("p", { class: "stat-value", "data-stat": "" }, v ? `${formatValue(v.value)} ${v.unit || q.unit}` : "–");
    if (v) {
      value.dataset.value = String(v.value);
      const level = levelOf(panel, v.value);
      if (level) value.dataset.level = level;
    }
    body.append(element("p", { class: "muted" }, `${labelOf(panel.node, v?.label)}: ${q.name}${v ? ` at ${formatInstant(Date.parse(v.ts) / 1000, zone)}` : ""}`), value);
    if (panel.gauge && v) {
      const meter = element("meter", { class: "gauge", min: String(panel.min ?? 0), max: String(panel.max ?? 100), value: String(v.value), "aria-label": `${q.name} gauge` });
      body.append(meter);
    }
    return;
  }
  const keys = panel.quantities && panel.quantities.length ? panel.quantities : [...new Set([...view.values.values()].map((v) => v.quantity))].sort();
  const table = element("table");
  const head = element("tr");
  head.append(element("th", { scope: "col" }, "Device"), ...keys.map((k) => element("th", { scope: "col" }, `${quantityInfo.get(k)?.name || k}`)));
  table.append(element("caption", { class: "visually-hidden" }, panel.title || "Latest values"), element("thead"), element("tbody"));
  table.tHead.append(head);
  const nodes = [...new Set([...(panel.nodes || []), ...[...view.values.values()].map((v) => v.node)])];
  for (const node of nodes) {
    const row = element("tr");
    const first = [...view.values.values()].find((v) => v.node === node);
    row.append(element("th", { scope: "row" }, labelOf(node, first?.label)));
    for (const k of keys) {
      const v = view.values.get(`${node}/${k}`);
      row.append(element("td", { "data-cell": `${node}/${k}` }, v ? `${formatValue(v.value)} ${v.unit}` : "–"));
    }
    table.tBodies[0].append(row);
  }
  body.append(table);
}

function drawMap(view, data) {
  const { body } = view;
  if (!view.map) {
    body.replaceChildren();
    const box = element("div", { class: "panel-map", role: "region", "aria-label": `Map: ${view.panel.title || "devices"}` });
    body.append(box);
    view.map = L.map(box, { zoomControl: true, attributionControl: true }).setView([48.137, 11.575], 12);
    addBasemap(view.map, mapConfig);
    view.markers = L.layerGroup().addTo(view.map);
  }
  view.markers.clearLayers();
  const features = data.features || [];
  view.el.dataset.markers = String(features.length);
  for (const f of features) {
    // Leaflet parses a string tooltip as HTML: names and aliases go in as a text node.
    L.circleMarker([f.lat, f.lon], { radius: 7, color: "#0b5cad", fillOpacity: 0.8 })
      .bindTooltip(element("span", {}, `${labelOf(f.node, f.label)} · ${f.room}, ${f.site}`))
      .addTo(view.markers);
  }
  if (features.length) view.map.fitBounds(features.map((f) => [f.lat, f.lon]), { maxZoom: 16, padding: [20, 20] });
  view.map.invalidateSize();
}

function drawAlerts(view, data) {
  const alerts = data.alerts || [];
  const list = element("ul", { class: "panel-alerts" });
  for (const a of alerts) {
    list.append(element("li", { "data-alert": String(a.id) }, `${a.resolved_at ? "Resolved" : "Open"} · ${a.severity} · ${labelOf(a.node, a.device_id)}: ${a.message}`));
  }
  view.body.replaceChildren(alerts.length ? list : element("p", { class: "muted" }, "No alerts."));
}

function drawImage(view, data) {
  const image = data.image;
  if (!image) {
    view.body.replaceChildren(element("p", { class: "muted" }, data.detail || "No picture yet."));
    return;
  }
  const img = element("img", { src: image.thumbnail_url, alt: `${view.panel.name} of ${labelOf(view.panel.node)} at ${image.ts}` });
  const box = element("div", { class: "panel-image" });
  box.append(img);
  view.body.replaceChildren(box, element("p", { class: "muted" }, formatInstant(Date.parse(image.ts) / 1000, zone)));
}

const DRAW = { timeseries: drawSeries, stat: drawLatest, table: drawLatest, map: drawMap, alerts: drawAlerts, image: drawImage };

async function load(view) {
  const request = (view.request = (view.request || 0) + 1);
  try {
    const data = await dataOf(view.panel);
    if (request !== view.request) return;
    DRAW[view.panel.type](view, data);
    view.el.dataset.loaded = "true";
  } catch (error) {
    if (request !== view.request) return;
    view.body.replaceChildren(element("p", { class: "errorlist" }, `Could not load: ${error.message}`));
    view.el.dataset.loaded = "error";
  }
}

// -- panels on the grid -------------------------------------------------------------------

function panelTitle(panel) {
  return panel.title || `${TYPE_NAMES[panel.type]} ${panel.id}`;
}

function mount(panel) {
  const el = element("section", { class: "board-panel", "data-panel": panel.id, "data-type": panel.type, "aria-label": panelTitle(panel) });
  const heading = element("h2", {}, panelTitle(panel));
  const body = element("div", { class: "panel-body" });
  el.append(heading, body);
  const view = { panel, el, body, heading };
  if (editable) {
    el.append(tools(view));
    dragToMove(view);
  }
  board.views.set(panel.id, view);
  place(view);
  grid.append(el);
  load(view);
  return view;
}

function nextRow() {
  return board.layout.panels.reduce((y, p) => Math.max(y, p.y + p.h), 0);
}

function newId() {
  let n = board.layout.panels.length + 1;
  while (board.views.has(`p${n}`)) n += 1;
  return `p${n}`;
}

function changed() {
  const state = document.getElementById("save-state");
  if (state) state.textContent = "Unsaved changes";
  subscribeAll();
}

// [accessible name, what the button shows, the change]
const MOVES = [
  ["Move left", "←", (p) => (p.x = Math.max(0, p.x - 1))],
  ["Move right", "→", (p) => (p.x = Math.min(COLUMNS - p.w, p.x + 1))],
  ["Move up", "↑", (p) => (p.y = Math.max(0, p.y - 1))],
  ["Move down", "↓", (p) => (p.y = Math.min(500, p.y + 1))],
  ["Narrower", "−w", (p) => (p.w = Math.max(1, p.w - 1))],
  ["Wider", "+w", (p) => (p.w = Math.min(COLUMNS - p.x, p.w + 1))],
  ["Shorter", "−h", (p) => (p.h = Math.max(1, p.h - 1))],
  ["Taller", "+h", (p) => (p.h = Math.min(12, p.h + 1))],
];

// A button showing a symbol, named in words for assistive technology (the symbol is
// hidden from it, so the name is the words alone) and in a tooltip.
function shortButton(symbol, name, tip) {
  const button = element("button", { type: "button", title: tip });
  button.append(element("span", { "aria-hidden": "true" }, symbol), element("span", { class: "visually-hidden" }, name));
  return button;
}

function tools(view) {
  const box = element("div", { class: "panel-tools", role: "group", "aria-label": `Edit ${panelTitle(view.panel)}` });
  const configure = element("button", { type: "button", "aria-label": `Configure ${panelTitle(view.panel)}` }, "Configure");
  configure.addEventListener("click", () => openDialog(view));
  box.append(configure);
  for (const [label, symbol, move] of MOVES) {
    const button = shortButton(symbol, `${label}: ${panelTitle(view.panel)}`, label);
    button.dataset.move = label;
    button.addEventListener("click", () => {
      move(view.panel);
      place(view);
      if (["Narrower", "Wider", "Shorter", "Taller"].includes(label)) resized(view);
      changed();
    });
    box.append(button);
  }
  const remove = shortButton("✕", `Remove ${panelTitle(view.panel)}`, "Remove");
  remove.addEventListener("click", () => {
    board.layout.panels = board.layout.panels.filter((p) => p !== view.panel);
    view.el.remove();
    if (view.plot) view.plot.destroy();
    board.views.delete(view.panel.id);
    changed();
  });
  box.append(remove);
  return box;
}

// Drag a panel by its title to another cell of the grid.
function dragToMove(view) {
  view.heading.classList.add("drag-handle");
  view.heading.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    view.el.classList.add("dragging");
    const rect = grid.getBoundingClientRect();
    const column = rect.width / COLUMNS;
    // a row is at least 5rem high (boards.css), plus the gap
    const row = 5 * parseFloat(getComputedStyle(document.documentElement).fontSize) + (parseFloat(getComputedStyle(grid).rowGap) || 0);
    const startX = event.clientX;
    const startY = event.clientY;
    const { x, y } = view.panel;
    function up(end) {
      document.removeEventListener("pointerup", up);
      view.el.classList.remove("dragging");
      const dx = Math.round((end.clientX - startX) / column);
      const dy = Math.round((end.clientY - startY) / row);
      if (!dx && !dy) return;
      view.panel.x = Math.min(Math.max(0, x + dx), COLUMNS - view.panel.w);
      view.panel.y = Math.max(0, y + dy);
      place(view);
      changed();
    }
    document.addEventListener("pointerup", up);
  });
}

function resized(view) {
  if (view.plot) load(view);
  if (view.map) view.map.invalidateSize();
}

// -- the panel editor (owners) ----------------------------------------------------------

const dialog = document.getElementById("panel-dialog");
let editing = null;

function selected(select) {
  return [...select.selectedOptions].map((o) => o.value);
}

function setSelected(select, values) {
  const wanted = new Set(values.map(String));
  for (const option of select.options) option.selected = wanted.has(option.value);
}

function openDialog(view) {
  editing = view;
  const p = view.panel;
  const form = document.getElementById("panel-form");
  for (const row of form.querySelectorAll("[data-for]")) row.hidden = !row.dataset.for.split(" ").includes(p.type);
  form.title.value = p.title || "";
  const nodes = p.series ? p.series.map((s) => s.node) : p.nodes || (p.node ? [p.node] : []);
  const quantities = p.series ? p.series.map((s) => s.quantity) : p.quantities || (p.quantity ? [p.quantity] : []);
  setSelected(form.nodes, nodes);
  setSelected(form.quantities, quantities);
  form.bucket.value = p.bucket || "1h";
  form.agg.value = p.agg || "avg";
  form.thresholds.value = (p.thresholds || []).map((t) => `${t.value} ${t.color}`).join(", ");
  form.gauge.checked = Boolean(p.gauge);
  form.min.value = p.min ?? "";
  form.max.value = p.max ?? "";
  form.state.value = p.state || "open";
  form.image.value = p.name || "camera";
  document.getElementById("pf-problem").textContent = "";
  dialog.showModal();
}

function applyDialog() {
  const form = document.getElementById("panel-form");
  const p = editing.panel;
  const nodes = selected(form.nodes).map(Number);
  const quantities = selected(form.quantities);
  const problem = document.getElementById("pf-problem");
  p.title = form.title.value.trim();
  if (p.type === "timeseries") {
    const series = nodes.flatMap((node) => quantities.map((quantity) => ({ node, quantity })));
    if (!series.length || series.length > 8) {
      problem.textContent = "Choose devices and quantities: 1 to 8 series (devices × quantities).";
      return false;
    }
    Object.assign(p, { series, bucket: form.bucket.value, agg: form.agg.value });
  } else if (p.type === "stat") {
    if (nodes.length !== 1 || quantities.length !== 1) {
      problem.textContent = "Choose one device and one quantity.";
      return false;
    }
    const thresholds = form.thresholds.value.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
      const [value, color] = s.split(/\s+/);
      return { value: Number(value), color: color || "warning" };
    });
    if (thresholds.some((t) => !Number.isFinite(t.value) || !["ok", "warning", "critical"].includes(t.color))) {
      problem.textContent = "Thresholds: a number and ok, warning or critical, e.g. 1000 warning, 1400 critical.";
      return false;
    }
    const number = (v) => (v === "" ? null : Number(v));
    Object.assign(p, { node: nodes[0], quantity: quantities[0], thresholds, gauge: form.gauge.checked, min: number(form.min.value), max: number(form.max.value) });
  } else if (p.type === "table") {
    if (!nodes.length) {
      problem.textContent = "Choose at least one device.";
      return false;
    }
    Object.assign(p, { nodes, quantities });
  } else if (p.type === "map") {
    p.nodes = nodes;
  } else if (p.type === "alerts") {
    p.state = form.state.value;
  } else if (p.type === "image") {
    if (nodes.length !== 1 || !form.image.value.trim()) {
      problem.textContent = "Choose one device and the picture's name.";
      return false;
    }
    Object.assign(p, { node: nodes[0], name: form.image.value.trim() });
  }
  editing.heading.textContent = panelTitle(p);
  editing.el.setAttribute("aria-label", panelTitle(p));
  editing.el.querySelector(".panel-tools").replaceWith(tools(editing)); // buttons named after the title
  load(editing);
  changed();
  return true;
}

if (dialog) {
  document.getElementById("panel-form").addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "apply" && !applyDialog()) event.preventDefault();
  });
}

function addPanel(type) {
  const panel = { id: newId(), type, title: "", x: 0, y: nextRow(), ...structuredClone(DEFAULTS[type]) };
  board.layout.panels.push(panel);
  const view = mount(panel);
  changed();
  openDialog(view);
}

async function send(url, method, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": config.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = response.status === 204 ? {} : await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body: answer };
}

async function save() {
  const state = document.getElementById("save-state");
  state.textContent = "Saving…";
  const answer = await send(config.api, "PATCH", { layout: board.layout });
  state.textContent = answer.ok ? "Saved" : `Not saved: ${JSON.stringify(answer.body).slice(0, 300)}`;
  state.dataset.saved = String(answer.ok);
}

if (editable) {
  document.getElementById("add-panel").addEventListener("click", () => addPanel(document.getElementById("new-panel-type").value));
  document.getElementById("save-board").addEventListener("click", save);
  document.getElementById("share-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await send(config.shares, "POST", { board: config.board, mode: document.getElementById("share-mode").value });
    const out = document.getElementById("share-new");
    out.replaceChildren();
    if (!answer.ok) {
      out.textContent = `Not shared: ${JSON.stringify(answer.body).slice(0, 200)}`;
      return;
    }
    const link = element("a", { href: answer.body.url, "data-share-link": "" }, new URL(answer.body.url, location.href).href);
    out.append("Share link (shown once, copy it now): ", link);
  });
  for (const button of document.querySelectorAll("[data-revoke]")) {
    button.addEventListener("click", async () => {
      const answer = await send(`${config.shares}${button.dataset.revoke}/`, "DELETE");
      if (answer.ok) location.reload();
    });
  }
}

// -- time range, refresh and live --------------------------------------------------------

function reloadAll() {
  for (const view of board.views.values()) load(view);
}

let timer = null;
function schedule() {
  clearInterval(timer);
  const seconds = Number(board.layout.refresh || 0);
  if (seconds) timer = setInterval(reloadAll, seconds * 1000);
}

document.getElementById("board-range").addEventListener("change", (event) => {
  board.layout.range = event.target.value;
  reloadAll();
  if (editable) changed();
});
document.getElementById("board-refresh").addEventListener("change", (event) => {
  board.layout.refresh = Number(event.target.value);
  schedule();
  if (editable) changed();
});
document.getElementById("board-reload").addEventListener("click", reloadAll);

const live = new Live();
const followed = new Set();

function nodesOf(panel) {
  if (panel.series) return panel.series.map((s) => s.node);
  if (panel.nodes && panel.nodes.length) return panel.nodes;
  return panel.node ? [panel.node] : [];
}

function subscribeAll() {
  if (config.shared && !config.public) return; // the link's holder may not follow private nodes: refresh only
  for (const view of board.views.values()) {
    for (const node of nodesOf(view.panel)) {
      if (!followed.has(node)) {
        followed.add(node);
        live.subscribe({ node });
      }
    }
  }
}

const pending = new Map();
function later(view) {
  clearTimeout(pending.get(view));
  pending.set(view, setTimeout(() => load(view), 1500));
}

// A delta moves stat and table values at once, and adds a point to a raw chart; a chart
// of buckets or a map is read again shortly after (the server's aggregate stays exact).
live.on("delta", (frame) => {
  for (const view of board.views.values()) {
    const p = view.panel;
    if (!nodesOf(p).includes(frame.node)) continue;
    if ((p.type === "stat" || p.type === "table") && view.values) {
      for (const [quantity, value] of Object.entries(frame.values || {})) {
        const key = `${frame.node}/${quantity}`;
        const old = view.values.get(key);
        if (old || (p.type === "stat" && quantity === p.quantity) || (p.type === "table" && (!p.quantities.length || p.quantities.includes(quantity)))) {
          view.values.set(key, { ...(old || { node: frame.node, quantity, unit: quantityInfo.get(quantity)?.unit || "" }), value, ts: frame.ts });
        }
      }
      drawLatest(view, { values: [...view.values.values()] });
    } else if (p.type === "timeseries") {
      const touched = (p.series || []).some((s) => s.node === frame.node && s.quantity in (frame.values || {}));
      if (touched) later(view);
    }
  }
});

for (const panel of board.layout.panels) mount(panel);
subscribeAll();
live.connect();
schedule();
