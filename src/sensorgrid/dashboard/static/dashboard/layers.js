// Open-data layers on the map (docs/pipelines.md): the layers the user may see, from
// GET /api/geo/, in a layer switcher; a layer's features are fetched for the visible
// area when it is switched on and again after the map moves.
import * as L from "./vendor/leaflet-src.esm.js";

const MOVE_DELAY_MS = 300;
const SLIDER_HOURS = 7 * 24; // the time slider reaches a week back and ahead

// The moment the layers show (the geo API's at=): "now", or an ISO time from the slider.
const moment = { at: "now", groups: new Set() };

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
    if (name) {
      name.textContent = ` ${obj.name}`;
      // The layer's legend: its colour and shape (a dot for points, a box for areas and
      // lines) before its name; the name says what it is, the swatch is decoration.
      const swatch = document.createElement("span");
      swatch.className = `layer-swatch ${obj.layer.sgPoints ? "points" : "shapes"}`;
      swatch.style.backgroundColor = obj.layer.sgColor; // CSSOM, not a style attribute
      swatch.setAttribute("aria-hidden", "true");
      name.before(swatch);
    }
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
  group.sgColor = color;
  group.sgPoints = /point/i.test(layer.geometry_type || "");
  let timer = null;
  let request = 0;
  async function load() {
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((x) => x.toFixed(6)).join(",");
    const mine = ++request;
    const url = `${layer.url}${layer.url.includes("?") ? "&" : "?"}bbox=${bbox}&at=${encodeURIComponent(moment.at)}`;
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
    moment.groups.add(reload);
  });
  group.on("remove", () => {
    map.off("moveend", reload);
    moment.groups.delete(reload);
  });
  return group;
}

// extra: overlays made elsewhere ({name, group}: the radio layers, radio-layers.js),
// listed after the open-data layers, off until switched on.
export async function addLayerSwitcher(map, extra = []) {
  let layers = [];
  try {
    const response = await fetch("/api/geo/", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) layers = (await response.json()).layers || [];
  } catch {
    // the map still works without its open-data layers
  }
  if (!layers.length && !extra.length) return null;
  const control = new TextLayers(null, null, { collapsed: false, position: "topright" });
  for (const layer of layers) {
    const group = overlay(map, layer);
    control.addOverlay(group, layer.name);
    // style.shown: switched on when the map opens (the demo's sample layer); else off.
    if (layer.style && layer.style.shown === true) group.addTo(map);
  }
  for (const { name, group } of extra) control.addOverlay(group, name);
  if (layers.length) addTimeSlider(map);
  return control.addTo(map);
}

// Events (features with a validity period) at another moment: a slider of hours around
// now; the layers switched on reload with at=<that time>.
function addTimeSlider(map) {
  const TimeControl = L.Control.extend({
    onAdd() {
      const root = L.DomUtil.create("div", "leaflet-bar time-slider");
      L.DomEvent.disableClickPropagation(root);
      L.DomEvent.disableScrollPropagation(root);
      const label = document.createElement("label");
      label.htmlFor = "layers-at";
      label.textContent = "Layers at ";
      const input = document.createElement("input");
      input.type = "range";
      input.id = "layers-at";
      input.min = String(-SLIDER_HOURS);
      input.max = String(SLIDER_HOURS);
      input.step = "1";
      input.value = "0";
      const output = document.createElement("output");
      output.htmlFor = "layers-at";
      output.id = "layers-at-value";
      output.textContent = "now";
      const show = () => {
        const hours = Number(input.value);
        if (hours === 0) {
          moment.at = "now";
          output.textContent = "now";
        } else {
          const when = new Date(Date.now() + hours * 3600_000);
          when.setMinutes(0, 0, 0);
          moment.at = when.toISOString().replace(/\.\d{3}Z$/, "Z");
          output.textContent = `${moment.at.slice(0, 16).replace("T", " ")} UTC`;
        }
        input.setAttribute("aria-valuetext", output.textContent);
      };
      input.addEventListener("input", show);
      input.addEventListener("change", () => {
        show();
        for (const reload of moment.groups) reload();
      });
      label.append(input);
      root.append(label, " ", output);
      return root;
    },
  });
  new TimeControl({ position: "bottomleft" }).addTo(map);
}
