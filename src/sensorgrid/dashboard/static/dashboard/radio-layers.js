// The map's radio layers (docs/lorawan.md, "Radio view"): the LoRaWAN gateways that
// heard the user's nodes (GET /api/geo/gateways/) and the coverage they give, best RSSI
// per cell (GET /api/geo/coverage/, summed up by the server for the visible area, the
// cell size following the zoom). Only offered when the user's organizations have
// gateways. Gateway ids come from network servers: text nodes only, never HTML.
import * as L from "./vendor/leaflet-src.esm.js";

const MOVE_DELAY_MS = 300;
// Best RSSI → colour and a word (never colour alone: the popup and legend name the band).
const BANDS = [
  { min: -90, color: "#1a7f37", label: "strong (≥ −90 dBm)" },
  { min: -105, color: "#9a6700", label: "fair (−105 to −90 dBm)" },
  { min: -115, color: "#d1570f", label: "weak (−115 to −105 dBm)" },
  { min: -Infinity, color: "#b3261e", label: "marginal (< −115 dBm)" },
];

export function band(rssi) {
  return BANDS.find((b) => rssi >= b.min);
}

function text(tag, content, className) {
  const element = document.createElement(tag);
  element.textContent = String(content);
  if (className) element.className = className;
  return element;
}

async function json(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

function gatewayPopup(props) {
  const root = document.createElement("div");
  root.className = "map-popup";
  const title = document.createElement("h2");
  const link = text("a", `Gateway ${props.name || props.gateway_id}`);
  link.href = props.url;
  title.append(link);
  const health = props.online ? "online" : "offline";
  root.append(title, text("p", props.organization, "muted"));
  const state = document.createElement("p");
  state.append(text("span", health, `badge fleet-${health}`), ` last heard ${props.last_seen.replace("T", " ").replace("Z", " UTC")}`);
  root.append(state);
  return root;
}

function gatewayLayer(collection) {
  const group = L.geoJSON(collection, {
    pointToLayer: (feature, latlng) => {
      const props = feature.properties;
      const health = props.online ? "online" : "offline";
      const glyph = text("span", "⌁", `gateway-marker ${health}`);
      glyph.setAttribute("aria-hidden", "true");
      glyph.dataset.gateway = props.gateway_id;
      const title = `Gateway ${props.gateway_id}: ${health}`;
      const icon = L.divIcon({ className: "site-marker-wrap", html: glyph, iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -12] });
      return L.marker(latlng, { icon, title, alt: title, keyboard: true });
    },
    onEachFeature: (feature, item) => item.bindPopup(() => gatewayPopup(feature.properties)),
  });
  group.sgColor = "#1a7f37";
  group.sgPoints = true;
  return group;
}

function coverageLayer(map, element) {
  const group = L.geoJSON(null, {
    style: (feature) => {
      const color = band(feature.properties.best_rssi).color;
      return { color, weight: 0.5, fillColor: color, fillOpacity: 0.45 };
    },
    onEachFeature: (feature, item) => {
      const props = feature.properties;
      item.bindPopup(() => {
        const root = document.createElement("div");
        root.className = "map-popup";
        root.append(text("h2", "Radio coverage"), text("p", `best RSSI ${props.best_rssi} dBm: ${band(props.best_rssi).label}`), text("p", `${props.receptions} reception${props.receptions === 1 ? "" : "s"}`, "muted"));
        return root;
      });
    },
  });
  group.sgColor = BANDS[0].color;
  group.sgPoints = false;
  let timer = null;
  let request = 0;
  async function load() {
    const b = map.getBounds();
    const bbox = [Math.max(-180, b.getWest()), Math.max(-90, b.getSouth()), Math.min(180, b.getEast()), Math.min(90, b.getNorth())].map((x) => x.toFixed(6)).join(",");
    const cell = Math.min(5, Math.max(0.0001, 45 / 2 ** Math.round(map.getZoom())));
    const mine = ++request;
    let collection;
    try {
      collection = await json(`/api/geo/coverage/?bbox=${bbox}&cell=${cell.toPrecision(3)}`);
    } catch {
      return;
    }
    if (mine !== request) return;
    group.clearLayers();
    group.addData(collection);
    element.dataset.coverageCells = String(collection.features.length);
  }
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(load, MOVE_DELAY_MS);
  };
  const legend = L.control({ position: "bottomright" });
  legend.onAdd = () => {
    const root = L.DomUtil.create("div", "leaflet-bar coverage-legend");
    root.append(text("strong", "Best RSSI"));
    const list = document.createElement("ul");
    for (const b of BANDS) {
      const item = document.createElement("li");
      const swatch = text("span", "", "layer-swatch shapes");
      swatch.style.backgroundColor = b.color;
      swatch.setAttribute("aria-hidden", "true");
      item.append(swatch, ` ${b.label}`);
      list.append(item);
    }
    root.append(list);
    return root;
  };
  group.on("add", () => {
    load();
    legend.addTo(map);
    map.on("moveend", reload);
  });
  group.on("remove", () => {
    legend.remove();
    map.off("moveend", reload);
  });
  return group;
}

// The overlays for the layer switcher (layers.js): none if the user's organizations
// know no gateway (or the API is unreachable: the map works without them).
export async function radioOverlays(map, element) {
  let gateways;
  try {
    gateways = await json("/api/geo/gateways/");
  } catch {
    return [];
  }
  if (!gateways.total) return [];
  element.dataset.gateways = String(gateways.features.length);
  return [
    { name: "Gateways", group: gatewayLayer(gateways) },
    { name: "Radio coverage", group: coverageLayer(map, element) },
  ];
}
