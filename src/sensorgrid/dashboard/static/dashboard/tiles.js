// Live tiles: the server renders each node's tile (templates/dashboard/_tile.html);
// this module keeps its values, CO2 level and health badge current.
import { Live, readJson } from "./live.js";

// Name and unit of each quantity; the co2 quantity carries the traffic light's limits
// (CO2_GOOD_BELOW / CO2_POOR_ABOVE in dashboard/views.py, their one definition).
const quantities = readJson("quantities", {});
const CO2_LEVELS = (quantities.co2 && quantities.co2.levels) || null;

export function co2Level(value) {
  if (value == null || !CO2_LEVELS) return null;
  if (value < CO2_LEVELS.good_below) return { css: "good", label: "Good" };
  if (value <= CO2_LEVELS.poor_above) return { css: "fair", label: "Fair" };
  return { css: "poor", label: "Poor" };
}

// Decimals per quantity: one, except coordinates, shown as stored (views.py DECIMALS).
export const DECIMALS = { latitude: 6, longitude: 6 };

export function formatValue(value, quantity = "") {
  const factor = 10 ** (DECIMALS[quantity] ?? 1);
  return String(Math.round(value * factor) / factor);
}

// "2026-12-06 15:04:05" (ISO, 24-hour) as the wall-clock time in `zone`: a page of one
// organization shows its time zone (data-time-zone, from the server), others UTC.
export function formatTs(iso, zone = "UTC") {
  if (!iso) return "";
  const date = new Date(iso);
  try {
    const format = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, hourCycle: "h23",
      year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    const part = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
    return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
  } catch {
    return date.toISOString().slice(0, 19).replace("T", " ");  // a zone this browser lacks
  }
}

// The newest known state of each node: {status, ts, values: {key: value}}.
export const state = new Map();

function tilesOf(node) {
  return document.querySelectorAll(`.tile[data-node="${node}"]`);
}

function row(tile, key) {
  let element = tile.querySelector(`.value[data-quantity="${CSS.escape(key)}"]`);
  if (element) return element;
  const q = quantities[key] || { name: key, unit: "" };
  element = document.createElement("div");
  element.className = "value";
  element.dataset.quantity = key;
  const dt = document.createElement("dt");
  dt.textContent = q.name;
  const dd = document.createElement("dd");
  const number = document.createElement("span");
  number.className = "number";
  number.dataset.value = "";
  const unit = document.createElement("span");
  unit.className = "unit";
  unit.textContent = q.unit;
  dd.append(number, " ", unit);
  element.append(dt, dd);
  const list = tile.querySelector("dl.values");
  // Keep the server's order: by quantity key.
  const after = [...list.children].find((child) => child.dataset.quantity > key);
  list.insertBefore(element, after || null);
  return element;
}

function showValue(tile, key, value) {
  const element = row(tile, key);
  element.querySelector("[data-value]").textContent = formatValue(value, key);
  // The traffic light is for indoor air: outdoor tiles (data-outdoor) show CO2 plain.
  if (key !== "co2" || tile.hasAttribute("data-outdoor")) return;
  const level = co2Level(value);
  if (!level) return;
  element.classList.remove("co2-good", "co2-fair", "co2-poor");
  element.classList.add(`co2-${level.css}`);
  let label = element.querySelector("[data-level]");
  if (!label) {
    label = document.createElement("span");
    label.className = "level";
    label.dataset.level = "";
    element.querySelector("dd").append(" ", label);
  }
  label.textContent = level.label;
}

export function showStatus(container, status) {
  for (const badge of container.querySelectorAll("[data-status]")) {
    badge.className = `badge status-${status.toLowerCase()}`;
    badge.textContent = status;
  }
}

function showUpdated(tile, ts) {
  const element = tile.querySelector("[data-updated]");
  if (!element || !ts) return;
  const time = document.createElement("time");
  time.dateTime = ts;
  time.textContent = formatTs(ts, element.dataset.timeZone || "UTC");
  element.replaceChildren("Updated ", time);
}

export function apply(frame) {
  const current = state.get(frame.node) || { status: null, ts: null, values: {} };
  if (frame.type === "snapshot") {
    current.values = { ...current.values, ...frame.values };
    current.status = frame.status || current.status;
    current.ts = frame.ts || current.ts;
  } else if (frame.type === "delta") {
    Object.assign(current.values, frame.values);
    if (!current.ts || frame.ts > current.ts) current.ts = frame.ts;
  } else if (frame.type === "status") {
    current.status = frame.status;
  }
  state.set(frame.node, current);
  for (const tile of tilesOf(frame.node)) {
    if (frame.values) for (const [key, value] of Object.entries(frame.values)) showValue(tile, key, value);
    if (frame.ts) showUpdated(tile, current.ts);
    if (current.status) showStatus(tile, current.status);
  }
  return current;
}

// Connects the page's tiles: subscribes to the page's subscriptions (embedded as
// "live-subscriptions"), else to every node or public installation shown.
export function bindTiles(live = new Live()) {
  for (const type of ["snapshot", "delta", "status"]) live.on(type, apply);
  const embedded = readJson("live-subscriptions");
  const subscriptions = embedded ? [].concat(embedded) : [];
  if (!subscriptions.length) {
    for (const element of document.querySelectorAll("[data-installation]")) {
      subscriptions.push({ installation: Number(element.dataset.installation) });
    }
  }
  if (!subscriptions.length) {
    for (const tile of document.querySelectorAll(".tile[data-node]")) subscriptions.push({ node: Number(tile.dataset.node) });
  }
  subscriptions.forEach((s) => live.subscribe(s));
  return live;
}
