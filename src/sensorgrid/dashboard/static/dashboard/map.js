// The map page: one marker per site, coloured by the worst health and CO2 level of
// its nodes; a popup lists the nodes with their live values. No tile layer unless
// SENSORGRID_MAP_TILES names one (nothing is loaded from elsewhere by default).
// Names are user data: they reach the DOM as text nodes only (docs/dashboard.md,
// "Content-Security-Policy"), never as an HTML string given to Leaflet.
import * as L from "./vendor/leaflet-src.esm.js";
import { addLayerSwitcher } from "./layers.js";
import { Live, readJson } from "./live.js";
import { apply, co2Level, formatTs, formatValue, state } from "./tiles.js";

const config = readJson("map-config");
const quantities = readJson("quantities", {});
const RANK = { good: 0, fair: 1, poor: 2 };
const HEALTH_RANK = { ALIVE: 0, UNKNOWN: 1, MISSING: 2, DEAD: 3 };

// Seed the shared state with what the server rendered, so popups work before the socket.
for (const site of config.sites) {
  for (const node of site.nodes) {
    const values = Object.fromEntries(node.values.map((v) => [v.quantity, v.value]));
    const ts = node.values.reduce((a, v) => (a && a > v.ts ? a : v.ts), null);
    state.set(node.id, { status: node.status, ts, values });
  }
}

function siteLook(site) {
  let worstCo2 = null;
  let worstHealth = null;
  for (const node of site.nodes) {
    const current = state.get(node.id) || {};
    const level = node.indoor ? co2Level(current.values ? current.values.co2 : null) : null;
    if (level && (!worstCo2 || RANK[level.css] > RANK[worstCo2.css])) worstCo2 = level;
    const health = current.status || "UNKNOWN";
    if (worstHealth === null || HEALTH_RANK[health] > HEALTH_RANK[worstHealth]) worstHealth = health;
  }
  // Health problems outrank air quality: a dead sensor's old CO2 value says nothing.
  if (worstHealth === "DEAD" || worstHealth === "MISSING") return { css: `status-${worstHealth.toLowerCase()}`, label: worstHealth, glyph: "!" };
  if (worstCo2) return { css: `co2-${worstCo2.css}`, label: `CO2 ${worstCo2.label}`, glyph: worstCo2.label[0] };
  if (!site.nodes.length) return { css: "empty", label: "no nodes", glyph: "·" };
  return { css: `status-${(worstHealth || "unknown").toLowerCase()}`, label: worstHealth || "UNKNOWN", glyph: "●" };
}

function icon(site) {
  const look = siteLook(site);
  const glyph = text("span", look.glyph, `site-marker ${look.css}`);
  glyph.setAttribute("aria-hidden", "true");
  return L.divIcon({
    className: "site-marker-wrap",
    html: glyph, // an element, never an HTML string (Leaflet would parse it)
    iconSize: [28, 28],
    iconAnchor: [14, 14],
    popupAnchor: [0, -14],
  });
}

function text(tag, content, className) {
  const element = document.createElement(tag);
  element.textContent = content;
  if (className) element.className = className;
  return element;
}

function popup(site) {
  const root = document.createElement("div");
  root.className = "map-popup";
  const title = document.createElement("h2");
  const link = text("a", site.name);
  link.href = site.url;
  title.append(link);
  root.append(title, text("p", site.organization, "muted"));
  const list = document.createElement("ul");
  for (const node of site.nodes) {
    const current = state.get(node.id) || { values: {} };
    const item = document.createElement("li");
    item.dataset.node = node.id;
    const name = node.url ? Object.assign(text("a", node.label), { href: node.url }) : text("strong", node.label);
    const status = current.status || node.status;
    item.append(name, " ", text("span", status, `badge status-${status.toLowerCase()}`));
    if (node.room) item.append(text("span", ` ${node.room}`, "muted"));
    const values = document.createElement("span");
    values.className = "popup-values";
    for (const [key, value] of Object.entries(current.values || {}).sort()) {
      const q = quantities[key] || { name: key, unit: "" };
      const level = key === "co2" && node.indoor ? co2Level(value) : null;
      const part = text("span", `${q.name} ${formatValue(value)} ${q.unit}${level ? ` (${level.label})` : ""}`, level ? `chip co2-${level.css}` : "");
      part.dataset.quantity = key;
      values.append(part);
    }
    if (!values.childNodes.length) values.append(text("span", "no values yet", "muted"));
    item.append(values);
    if (current.ts) item.append(text("small", `updated ${formatTs(current.ts)}`, "muted"));
    list.append(item);
  }
  if (!site.nodes.length) list.append(text("li", "No nodes installed."));
  root.append(list);
  return root;
}

const element = document.getElementById("map");
const placed = config.sites.filter((s) => s.lat != null && s.lon != null);
const map = L.map(element, { minZoom: 2, maxZoom: 19, attributionControl: Boolean(config.tiles), zoomSnap: 0.5 });
if (config.tiles) {
  L.tileLayer(config.tiles, { maxZoom: 19, attribution: "Map tiles: see the operator's SENSORGRID_MAP_TILES" }).addTo(map);
} else {
  element.classList.add("no-tiles");
}
L.control.scale({ metric: true, imperial: false }).addTo(map);
addLayerSwitcher(map);

const markers = new Map();
for (const site of placed) {
  const look = siteLook(site);
  const marker = L.marker([site.lat, site.lon], { icon: icon(site), title: `${site.name}: ${look.label}`, alt: site.name, keyboard: true, riseOnHover: true });
  marker.bindPopup(() => popup(site), { maxWidth: 320 });
  // Leaflet parses a string tooltip as HTML: a site name goes in as a text node.
  marker.bindTooltip(text("span", site.name), { permanent: !config.tiles, direction: "right", offset: [14, 0], className: "site-label" });
  marker.addTo(map);
  markers.set(site.id, { site, marker });
}
if (placed.length) {
  map.fitBounds(L.latLngBounds(placed.map((s) => [s.lat, s.lon])), { padding: [60, 60], maxZoom: 16 });
} else {
  map.setView([20, 0], 2);
}

function refresh(nodeId) {
  for (const { site, marker } of markers.values()) {
    if (!site.nodes.some((n) => n.id === nodeId)) continue;
    marker.setIcon(icon(site));
    if (marker.isPopupOpen()) marker.getPopup().update();
  }
}

const live = new Live();
for (const type of ["snapshot", "delta", "status"]) {
  live.on(type, (frame) => {
    apply(frame);
    refresh(frame.node);
  });
}
for (const site of config.sites) if (site.nodes.length) live.subscribe({ site: site.id });
for (const tile of document.querySelectorAll('.tile[data-node]')) {
  const id = Number(tile.dataset.node);
  if (!config.sites.some((s) => s.nodes.some((n) => n.id === id))) live.subscribe({ node: id });
}
live.connect();
