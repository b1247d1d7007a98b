// The map page: one marker per site, coloured by the worst health, open alerts and CO2
// level of its nodes, clustered where they crowd; a popup lists the nodes with their
// live values. The basemap: basemap.js (tiles, or the offline one).
// Names are user data: they reach the DOM as text nodes only (docs/dashboard.md,
// "Content-Security-Policy"), never as an HTML string given to Leaflet.
import * as L from "./vendor/leaflet-src.esm.js";
import Supercluster from "./vendor/supercluster.js";
import { addBasemap } from "./basemap.js";
import { addLayerSwitcher } from "./layers.js";
import { radioOverlays } from "./radio-layers.js";
import { Live, readJson } from "./live.js";
import { apply, co2Level, formatTs, formatValue, state } from "./tiles.js";

const config = readJson("map-config");
const quantities = readJson("quantities", {});

// Seed the shared state with what the server rendered, so popups work before the socket.
// Links are built here from the server's patterns (views.py map_page).
for (const site of config.sites) {
  site.url = config.site_url.replace("{id}", site.id);
  for (const node of site.nodes) {
    node.url = node.member ? config.node_url.replace("{id}", node.id) : "";
    state.set(node.id, { status: node.status, ts: node.ts, values: { ...node.values } });
  }
}

// A site's look: the worst of its nodes, health problems first (a dead sensor's old CO2
// value says nothing), then open alerts, then indoor CO2. Each look has a glyph and a
// shape besides its colour (docs/dashboard.md, "Map markers"): never colour alone.
const LOOKS = {
  "status-dead": { rank: 7, glyph: "✗", label: "DEAD" },
  "status-missing": { rank: 6, glyph: "!", label: "MISSING" },
  alert: { rank: 5, glyph: "▲", label: "open alert" },
  "co2-poor": { rank: 4, glyph: "P", label: "CO2 Poor" },
  "co2-fair": { rank: 3, glyph: "F", label: "CO2 Fair" },
  "co2-good": { rank: 2, glyph: "G", label: "CO2 Good" },
  "status-alive": { rank: 1, glyph: "✓", label: "ALIVE" },
  "status-unknown": { rank: 0, glyph: "?", label: "UNKNOWN" },
  empty: { rank: -1, glyph: "·", label: "no nodes" },
};
const BY_RANK = Object.fromEntries(Object.entries(LOOKS).map(([css, look]) => [look.rank, css]));

function nodeLook(node) {
  const current = state.get(node.id) || {};
  const health = (current.status || node.status || "UNKNOWN").toLowerCase();
  if (health === "dead" || health === "missing") return `status-${health}`;
  if (node.alerts) return "alert";
  const level = node.indoor ? co2Level(current.values ? current.values.co2 : null) : null;
  if (level) return `co2-${level.css}`;
  return `status-${health}`;
}

function siteLook(site) {
  let worst = "empty";
  for (const node of site.nodes) {
    const css = nodeLook(node);
    if (LOOKS[css].rank > LOOKS[worst].rank) worst = css;
  }
  const alerts = site.nodes.reduce((sum, node) => sum + (node.alerts || 0), 0);
  return { css: worst, ...LOOKS[worst], alerts };
}

function icon(site) {
  const look = siteLook(site);
  const glyph = text("span", look.glyph, `site-marker ${look.css}`);
  glyph.setAttribute("aria-hidden", "true");
  glyph.dataset.look = look.css;
  if (look.alerts) glyph.append(text("span", String(look.alerts), "marker-alerts"));
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
    if (node.alerts) item.append(" ", text("span", `▲ ${node.alerts} open alert${node.alerts > 1 ? "s" : ""}`, "badge alert-open"));
    const values = document.createElement("span");
    values.className = "popup-values";
    for (const [key, value] of Object.entries(current.values || {}).sort()) {
      const q = quantities[key] || { name: key, unit: "" };
      const level = key === "co2" && node.indoor ? co2Level(value) : null;
      const part = text("span", `${q.name} ${formatValue(value, key)} ${q.unit}${level ? ` (${level.label})` : ""}`, level ? `chip co2-${level.css}` : "");
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
const map = L.map(element, { minZoom: 2, maxZoom: 19, zoomSnap: 0.5 });
addBasemap(map, config);
L.control.scale({ metric: true, imperial: false }).addTo(map);
// The open-data layers and, for organizations with LoRaWAN gateways, the radio layers.
radioOverlays(map, element).then((extra) => addLayerSwitcher(map, extra));

// Clustering (supercluster): the sites are indexed once, and only the clusters and sites
// of the visible area at the current zoom are markers. Thousands of sites stay smooth:
// the page never holds more than a few hundred markers.
const sitesById = new Map(placed.map((site) => [site.id, site]));
const markerLayer = L.layerGroup().addTo(map);
let index = null;

function buildIndex() {
  index = new Supercluster({
    radius: 60,
    maxZoom: 17,
    map: (props) => {
      const look = siteLook(sitesById.get(props.site));
      return { rank: look.rank, nodes: sitesById.get(props.site).nodes.length, alerts: look.alerts };
    },
    reduce: (total, props) => {
      total.rank = Math.max(total.rank, props.rank);
      total.nodes += props.nodes;
      total.alerts += props.alerts;
    },
  });
  index.load(placed.map((site) => ({ type: "Feature", properties: { site: site.id }, geometry: { type: "Point", coordinates: [site.lon, site.lat] } })));
}

function clusterIcon(props) {
  const css = BY_RANK[props.rank] || "empty";
  const size = props.point_count < 10 ? 34 : props.point_count < 100 ? 40 : props.point_count < 1000 ? 46 : 52;
  const badge = text("span", props.point_count_abbreviated, `cluster-marker ${css}`);
  badge.setAttribute("aria-hidden", "true");
  badge.dataset.glyph = LOOKS[css].glyph;
  return L.divIcon({ className: "site-marker-wrap", html: badge, iconSize: [size, size], iconAnchor: [size / 2, size / 2] });
}

function clusterMarker(feature) {
  const props = feature.properties;
  const [lon, lat] = feature.geometry.coordinates;
  const css = BY_RANK[props.rank] || "empty";
  const title = `${props.point_count} sites, ${props.nodes} nodes, worst: ${LOOKS[css].label}${props.alerts ? `, ${props.alerts} open alerts` : ""}. Zoom in`;
  const marker = L.marker([lat, lon], { icon: clusterIcon(props), title, alt: title, keyboard: true });
  marker.on("click", () => {
    const zoom = Math.min(index.getClusterExpansionZoom(props.cluster_id), 19);
    map.setView([lat, lon], zoom);
  });
  return marker;
}

function siteMarker(site) {
  const look = siteLook(site);
  const title = `${site.name}: ${look.label}${look.alerts ? `, ${look.alerts} open alert${look.alerts > 1 ? "s" : ""}` : ""}`;
  const marker = L.marker([site.lat, site.lon], { icon: icon(site), title, alt: site.name, keyboard: true, riseOnHover: true });
  marker.bindPopup(() => popup(site), { maxWidth: 320 });
  // Leaflet parses a string tooltip as HTML: a site name goes in as a text node.
  marker.bindTooltip(text("span", site.name), { permanent: !config.tiles, direction: "right", offset: [14, 0], className: "site-label" });
  return marker;
}

const live = new Live();
const markers = new Map(); // site id → marker, for the sites drawn on their own now
const VISIBLE_LIVE = 200; // sites subscribed to at most: those in view
let subscribed = new Set();

function draw() {
  if (!index) return;
  const b = map.getBounds();
  const bbox = [Math.max(-180, b.getWest()), Math.max(-85, b.getSouth()), Math.min(180, b.getEast()), Math.min(85, b.getNorth())];
  const features = index.getClusters(bbox, Math.round(map.getZoom()));
  const open = [...markers.entries()].find(([, marker]) => marker.isPopupOpen());
  markerLayer.clearLayers();
  markers.clear();
  let clusters = 0;
  for (const feature of features) {
    if (feature.properties.cluster) {
      clusterMarker(feature).addTo(markerLayer);
      clusters += 1;
    } else {
      const site = sitesById.get(feature.properties.site);
      const marker = open && open[0] === site.id ? open[1] : siteMarker(site);
      marker.addTo(markerLayer);
      markers.set(site.id, marker);
    }
  }
  element.dataset.clusters = String(clusters);
  element.dataset.markers = String(markers.size);
  follow([...markers.keys()].slice(0, VISIBLE_LIVE));
}

buildIndex();
if (placed.length) {
  map.fitBounds(L.latLngBounds(placed.map((s) => [s.lat, s.lon])), { padding: [60, 60], maxZoom: 16 });
} else {
  map.setView([20, 0], 2);
}
map.on("moveend", draw);
draw();
// Milliseconds from the navigation's start to the first markers drawn (bench/map.py).
element.dataset.readyMs = String(Math.round(performance.now()));
element.dataset.ready = "true";

let rebuild = null;
function refresh(nodeId) {
  for (const [siteId, marker] of markers) {
    const site = sitesById.get(siteId);
    if (!site.nodes.some((n) => n.id === nodeId)) continue;
    marker.setIcon(icon(site));
    if (marker.isPopupOpen()) marker.getPopup().update();
  }
  // Cluster colours follow after a while: re-indexing is cheap, but not per frame.
  clearTimeout(rebuild);
  rebuild = setTimeout(() => {
    buildIndex();
    draw();
  }, 2000);
}

for (const type of ["snapshot", "delta", "status"]) {
  live.on(type, (frame) => {
    apply(frame);
    refresh(frame.node);
  });
}
// Live: the sites drawn on their own in the visible area (not every site: with thousands,
// their snapshots alone would swamp the socket), and the loose nodes' tiles.
function follow(ids) {
  const wanted = new Set(ids.filter((id) => sitesById.get(id).nodes.length));
  for (const id of subscribed) if (!wanted.has(id)) live.unsubscribe({ site: id });
  for (const id of wanted) live.subscribe({ site: id });
  subscribed = wanted;
}
for (const site of config.sites) {
  if ((site.lat == null || site.lon == null) && site.nodes.length) live.subscribe({ site: site.id });
}
for (const tile of document.querySelectorAll(".tile[data-node]")) {
  const id = Number(tile.dataset.node);
  if (!config.sites.some((s) => s.nodes.some((n) => n.id === id))) live.subscribe({ node: id });
}
live.connect();
