// Open-data layers on the map (docs/pipelines.md): the layers the user may see, from
// GET /api/geo/, in a layer switcher; a layer's features are fetched for the visible
// area when it is switched on and again after the map moves.
import * as L from "./vendor/leaflet-src.esm.js";

const MOVE_DELAY_MS = 300;

function text(tag, content) {
  const element = document.createElement(tag);
  element.textContent = String(content);
  return element;
}

// Layer names and feature properties come from users and imported data: they go into
// the DOM as text nodes, never as an HTML string.
function featurePopup(layer, feature) {
  const root = document.createElement("div");
  root.className = "map-popup";
  root.append(text("h2", layer.name));
  const rows = Object.entries(feature.properties || {})
    .filter(([, value]) => value !== null && typeof value !== "object")
    .slice(0, 12);
  if (!rows.length) {
    const none = text("p", "No properties.");
    none.className = "muted";
    root.append(none);
    return root;
  }
  const table = document.createElement("table");
  table.className = "feature-properties";
  for (const [key, value] of rows) {
    const row = table.insertRow();
    const name = text("th", key);
    name.scope = "row";
    row.append(name, text("td", value));
  }
  root.append(table);
  return root;
}

// Leaflet's layer control writes each name with innerHTML; this one writes it as text.
const TextLayers = L.Control.Layers.extend({
  _addItem(obj) {
    const label = L.Control.Layers.prototype._addItem.call(this, { ...obj, name: "" });
    const name = label.querySelector("span > span");
    if (name) name.textContent = ` ${obj.name}`;
    return label;
  },
});

function overlay(map, layer) {
  const color = (layer.style && layer.style.color) || "#5b3fa0";
  const group = L.geoJSON(null, {
    style: () => ({ color, weight: 2, fillOpacity: 0.2 }),
    pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 5, color, fillColor: color, fillOpacity: 0.7 }),
    onEachFeature: (feature, item) => item.bindPopup(() => featurePopup(layer, feature)),
  });
  let timer = null;
  let request = 0;
  async function load() {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(6)).join(",");
    const mine = ++request;
    const url = `${layer.url}${layer.url.includes("?") ? "&" : "?"}bbox=${bbox}&at=now`;
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok || mine !== request) return;
    const collection = await response.json();
    group.clearLayers();
    group.addData(collection);
    group.fire("sg:loaded", { count: collection.features.length });
  }
  const reload = () => {
    clearTimeout(timer);
    timer = setTimeout(load, MOVE_DELAY_MS);
  };
  group.on("add", () => {
    load();
    map.on("moveend", reload);
  });
  group.on("remove", () => map.off("moveend", reload));
  return group;
}

export async function addLayerSwitcher(map) {
  let answer;
  try {
    const response = await fetch("/api/geo/", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    answer = await response.json();
  } catch {
    return null; // the map still works without its open-data layers
  }
  if (!answer.layers || !answer.layers.length) return null;
  const control = new TextLayers(null, null, { collapsed: false, position: "topright" });
  for (const layer of answer.layers) {
    const group = overlay(map, layer);
    control.addOverlay(group, layer.name);
    // style.shown: switched on when the map opens (the demo's sample layer); else off.
    if (layer.style && layer.style.shown === true) group.addTo(map);
  }
  return control.addTo(map);
}
