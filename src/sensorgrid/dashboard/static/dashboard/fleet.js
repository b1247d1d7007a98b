// The fleet view (docs/dashboard.md, "Fleet"): every vehicle the user may see as an
// arrow pointing its heading, its last hour as a line, moved live by the deltas of
// /ws/live/; the table's speed, status and last update follow the same frames, and
// online/offline is re-judged every second (newest position at most online_seconds
// old). "Show" draws a vehicle's speed chart (uPlot) and replays a day's track.
// Names are user data: text nodes only, never HTML strings given to Leaflet.
import * as L from "./vendor/leaflet-src.esm.js";
import uPlot from "./vendor/uPlot.esm.js";
import { addBasemap } from "./basemap.js";
import { formatInstant, timeAxis, zoned } from "./chart-options.js";
import { Live, readJson } from "./live.js";
import { formatTs } from "./tiles.js";

const config = readJson("fleet-config");
const element = document.getElementById("fleet-map");
const map = L.map(element, { minZoom: 2, maxZoom: 19, zoomSnap: 0.5 });
addBasemap(map, config);
L.control.scale({ metric: true, imperial: false }).addTo(map);
map.setView([20, 0], 2);

const TRACK_SECONDS = 3600;
const vehicles = new Map(); // node id → {feature data, marker, line}
let skew = 0; // server clock − this browser's clock, ms

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function fmt(value, digits) {
  return value == null ? "–" : Number(value).toFixed(digits);
}

function utc(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

function isOnline(v) {
  return Date.now() + skew - Date.parse(v.ts) <= config.online_seconds * 1000;
}

function describe(v) {
  return `${v.name}: ${fmt(v.speed, 1)} km/h, heading ${fmt(v.heading, 0)}°, ${isOnline(v) ? "online" : "offline"}`;
}

function arrow(v) {
  const root = document.createElement("span");
  root.className = `vehicle-marker ${isOnline(v) ? "online" : "offline"}`;
  root.dataset.vehicle = v.node;
  const needle = text("span", v.heading == null ? "●" : "▲", "vehicle-arrow");
  if (v.heading != null) needle.style.transform = `rotate(${v.heading}deg)`; // CSSOM, not an attribute
  root.append(needle);
  root.setAttribute("aria-hidden", "true");
  return L.divIcon({ className: "vehicle-marker-wrap", html: root, iconSize: [26, 26], iconAnchor: [13, 13] });
}

function row(id) {
  return document.querySelector(`tr[data-vehicle="${id}"]`);
}

function showRow(v) {
  const tr = row(v.node);
  if (!tr) return;
  tr.querySelector("[data-speed]").textContent = fmt(v.speed, 1);
  tr.querySelector("[data-heading]").textContent = fmt(v.heading, 0);
  tr.querySelector("[data-position]").textContent = `${fmt(v.lat, 6)}, ${fmt(v.lon, 6)}`;
  const time = tr.querySelector("[data-updated]");
  time.dateTime = v.ts;
  time.textContent = formatTs(v.ts, config.time_zone);
  showStatus(v);
}

function showStatus(v) {
  const online = isOnline(v);
  const tr = row(v.node);
  if (tr) {
    const badge = tr.querySelector("[data-online]");
    if (badge.dataset.online !== String(online)) {
      badge.dataset.online = String(online);
      badge.className = `badge ${online ? "fleet-online" : "fleet-offline"}`;
      badge.textContent = online ? "● online" : "○ offline";
    }
  }
  const icon = v.marker.getElement();
  const shown = icon && icon.querySelector(".vehicle-marker");
  if (shown && shown.classList.contains("online") !== online) v.marker.setIcon(arrow(v));
}

function place(v) {
  v.marker.setLatLng([v.lat, v.lon]);
  v.marker.setIcon(arrow(v));
  v.marker.options.title = describe(v);
  const icon = v.marker.getElement();
  if (icon) {
    icon.title = describe(v);
    icon.dataset.lat = String(v.lat);
    icon.dataset.lon = String(v.lon);
  }
}

function add(feature) {
  const p = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const v = { node: p.node, name: p.name, speed: p.speed, heading: p.heading, ts: p.ts, lat, lon, track: p.track || [] };
  v.line = L.polyline(v.track.map((t) => [t[1], t[2]]), { color: "#0b5cad", weight: 3, opacity: 0.7, interactive: false }).addTo(map);
  v.marker = L.marker([lat, lon], { icon: arrow(v), title: describe(v), alt: p.name, keyboard: true });
  // Leaflet parses a string tooltip as HTML: the name goes in as a text node.
  v.marker.bindTooltip(text("span", p.name), { direction: "right", offset: [14, 0], className: "site-label" });
  v.marker.on("click", () => select(v.node));
  v.marker.addTo(map);
  vehicles.set(v.node, v);
  place(v);
  return v;
}

function move(frame) {
  const v = vehicles.get(frame.node);
  if (!v || !frame.values) return;
  const values = frame.values;
  if (values.speed != null) v.speed = values.speed;
  if (values.heading != null) v.heading = values.heading;
  if (frame.ts && (!v.ts || frame.ts >= v.ts)) v.ts = frame.ts;
  if (values.latitude != null && values.longitude != null) {
    v.lat = values.latitude;
    v.lon = values.longitude;
    const at = Date.parse(v.ts) / 1000;
    v.track.push([at, v.lat, v.lon]);
    const cut = at - TRACK_SECONDS;
    while (v.track.length && v.track[0][0] < cut) v.track.shift();
    v.line.setLatLngs(v.track.map((t) => [t[1], t[2]]));
    v.moves = (v.moves || 0) + 1;
    element.dataset.moves = String(Number(element.dataset.moves || 0) + 1);
  }
  place(v);
  showRow(v);
  if (selected === v.node && values.speed != null) addSpeed(Date.parse(v.ts) / 1000, values.speed);
}

// --- the selected vehicle: speed chart and replay -------------------------------------
const detail = document.getElementById("vehicle-detail");
const figure = document.getElementById("speed-chart");
const summary = document.getElementById("speed-summary");
const slider = document.getElementById("replay-at");
const play = document.getElementById("replay-play");
const output = document.getElementById("replay-time");
let selected = null;
let plot = null;
let points = []; // [epoch s, lat, lon, speed, heading] of the loaded range
let replayMarker = null;
let timer = null;

function drawChart() {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[3]);
  const container = figure.querySelector(".plot");
  const width = Math.max(container.clientWidth, 280);
  if (plot) plot.destroy();
  plot = new uPlot(
    {
      width,
      height: 220,
      tzDate: zoned(config.time_zone),
      scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 600, max + 600] : [min, max]) } },
      series: [
        { value: (u, v) => (v == null ? "–" : formatInstant(v, config.time_zone)) },
        { label: "Speed (km/h)", stroke: "#0b5cad", width: 2, points: { show: xs.length < 150 }, value: (u, v) => (v == null ? "–" : `${fmt(v, 1)} km/h`) },
      ],
      axes: [timeAxis(config.time_zone, figure), { label: "km/h", size: 50 }],
    },
    [xs, ys],
    container,
  );
  figure.dataset.points = String(points.length);
  const v = vehicles.get(selected);
  const speeds = ys.filter((y) => y != null);
  summary.textContent = points.length
    ? `${v.name}: speed of ${points.length} positions from ${utc(xs[0])} to ${utc(xs[xs.length - 1])} UTC; fastest ${fmt(Math.max(...speeds), 1)} km/h, latest ${fmt(speeds[speeds.length - 1], 1)} km/h.`
    : `${v.name}: no positions in this range.`;
  slider.max = String(Math.max(points.length - 1, 0));
  slider.value = slider.max;
  slider.disabled = play.disabled = points.length < 2;
  showReplay();
}

function addSpeed(at, speed) {
  if (!plot || !loadedLive) return;
  points.push([at, null, null, speed, null]);
  plot.setData([points.map((p) => p[0]), points.map((p) => p[3])]);
  figure.dataset.points = String(points.length);
}

function showReplay() {
  const p = points[Number(slider.value)];
  if (!p || p[1] == null) {
    output.textContent = "–";
    return;
  }
  output.textContent = `${utc(p[0])} UTC, ${fmt(p[3], 1)} km/h`;
  slider.setAttribute("aria-valuetext", output.textContent);
  if (!replayMarker) {
    replayMarker = L.circleMarker([p[1], p[2]], { radius: 8, color: "#b35900", weight: 3, fillOpacity: 0.4, interactive: false }).addTo(map);
  }
  replayMarker.setLatLng([p[1], p[2]]);
  element.dataset.replay = slider.value;
}

let loadedLive = false;
async function load(start, end) {
  const v = vehicles.get(selected);
  const query = new URLSearchParams();
  if (start) query.set("start", start);
  if (end) query.set("end", end);
  summary.textContent = "Loading…";
  const response = await fetch(`${config.vehicles_url}${v.node}/track/?${query}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    summary.textContent = `${v.name}: the track could not be loaded (${response.status}).`;
    return;
  }
  const track = await response.json();
  points = track.properties.points;
  loadedLive = !end; // the last hour keeps growing with live values; a past day does not
  drawChart();
}

function select(id) {
  const v = vehicles.get(id);
  if (!v) return;
  selected = id;
  detail.hidden = false;
  document.getElementById("detail-title").textContent = v.name;
  stopPlaying();
  map.panTo([v.lat, v.lon]);
  load(null, null);
}

function stopPlaying() {
  clearInterval(timer);
  timer = null;
  play.textContent = "Play";
  play.setAttribute("aria-pressed", "false");
}

play.addEventListener("click", () => {
  if (timer) return stopPlaying();
  if (Number(slider.value) >= points.length - 1) slider.value = "0";
  play.textContent = "Pause";
  play.setAttribute("aria-pressed", "true");
  const step = Math.max(1, Math.round(points.length / 600)); // a day plays in about 30 s
  timer = setInterval(() => {
    const next = Math.min(Number(slider.value) + step, points.length - 1);
    slider.value = String(next);
    showReplay();
    if (next >= points.length - 1) stopPlaying();
  }, 50);
});
slider.addEventListener("input", showReplay);
document.getElementById("replay").addEventListener("submit", (event) => {
  event.preventDefault();
  const day = document.getElementById("replay-day").value;
  if (!day || selected == null) return;
  stopPlaying();
  const start = `${day}T00:00:00Z`;
  const next = new Date(Date.parse(start) + 86400_000);
  const end = new Date(Math.min(next.getTime(), Date.now() + skew)).toISOString();
  load(start, end);
});
for (const button of document.querySelectorAll("button[data-show]")) {
  button.addEventListener("click", () => select(Number(button.dataset.show)));
}

// --- start -------------------------------------------------------------------------
const live = new Live();
live.on("delta", move);
live.on("snapshot", move);

async function start() {
  const response = await fetch(config.vehicles_url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const collection = await response.json();
  skew = Date.parse(collection.now) - Date.now();
  for (const feature of collection.features) add(feature);
  const placed = [...vehicles.values()];
  if (placed.length) map.fitBounds(L.latLngBounds(placed.map((v) => [v.lat, v.lon])), { padding: [40, 40], maxZoom: 16 });
  element.dataset.vehicles = String(placed.length);
  for (const v of placed) live.subscribe({ node: v.node });
  live.connect();
  setInterval(() => vehicles.forEach(showStatus), 1000);
  element.dataset.ready = "true";
}
start();
