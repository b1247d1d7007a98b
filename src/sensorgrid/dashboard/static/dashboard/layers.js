// Open-data layers on the map (docs/pipelines.md): the layers the user may see, from
// GET /api/geo/, in a layer switcher; a layer's features are fetched for the visible
// area when it is switched on and again after the map moves.
import * as L from "./vendor/leaflet-src.esm.js";

const MOVE_DELAY_MS = 300;

function escapeText(value) {
  const span = document.createElement("span");
  span.textContent = String(value);
  return span.innerHTML;
}

function featurePopup(layer, feature) {
  const rows = Object.entries(feature.properties || {})
    .filter(([, value]) => value !== null && typeof value !== "object")
    .slice(0, 12)
    .map(([key, value]) => `<tr><th scope="row">${escapeText(key)}</th><td>${escapeText(value)}</td></tr>`)
    .join("");
  return `<div class="map-popup"><h2>${escapeText(layer.name)}</h2>`
    + (rows ? `<table class="feature-properties">${rows}</table>` : "<p class=\"muted\">No properties.</p>")
    + "</div>";
}

function overlay(map, layer) {
  const color = (layer.style && layer.style.color) || "#5b3fa0";
  const group = L.geoJSON(null, {
    style: () => ({ color, weight: 2, fillOpacity: 0.2 }),
    pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 5, color, fillColor: color, fillOpacity: 0.7 }),
    onEachFeature: (feature, item) => item.bindPopup(featurePopup(layer, feature)),
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
  const overlays = {};
  for (const layer of answer.layers) overlays[escapeText(layer.name)] = overlay(map, layer);
  return L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(map);
}
