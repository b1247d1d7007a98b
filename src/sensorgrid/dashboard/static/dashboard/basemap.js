// The map's background (docs/dashboard.md, "Basemap"): the configured raster tiles
// (OpenStreetMap's by default, SENSORGRID_MAP_TILES) with their attribution, and the
// offline basemap shipped with the assets (Natural Earth land, coastlines and borders,
// vendor/basemap.json, built by `make assets`) beneath them. The offline one is drawn
// when tiles are off, or as soon as a tile fails to load (an air-gapped install, a tile
// server that is down): the map is never blank.
import * as L from "./vendor/leaflet-src.esm.js";

const STYLE = {
  land: { color: "#8c8474", weight: 1, fillColor: "#f4f1ea", fillOpacity: 1 },
  border: { color: "#8a6d9e", weight: 1.2, dashArray: "4 3", fill: false },
};

// The attribution as an HTML string Leaflet can take: the text escaped, a link if given.
function attributionHtml(text, url) {
  const holder = document.createElement("span");
  if (url) {
    const link = document.createElement("a");
    link.href = url;
    link.textContent = text;
    holder.append(link);
  } else {
    holder.textContent = text;
  }
  return holder.innerHTML;
}

export function addBasemap(map, config) {
  const element = map.getContainer();
  map.createPane("basemap").style.zIndex = 150; // beneath the tiles (200)
  let fallback = null;
  function showFallback(reason) {
    if (fallback) return;
    element.dataset.basemap = "offline";
    element.dataset.basemapReason = reason;
    fallback = fetch(config.basemap, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((collection) => {
        if (!collection) return;
        L.geoJSON(collection, {
          pane: "basemap",
          interactive: false,
          style: (feature) => STYLE[feature.properties.kind] || STYLE.border,
        }).addTo(map);
        map.attributionControl.addAttribution("Offline basemap: Natural Earth");
        element.dataset.basemapLoaded = "true";
      })
      .catch(() => {});
  }
  if (config.tiles) {
    element.dataset.basemap = "tiles";
    const tiles = L.tileLayer(config.tiles, {
      maxZoom: 19,
      attribution: config.attribution ? attributionHtml(config.attribution, config.attribution_url) : "",
    });
    tiles.on("tileerror", () => showFallback("tiles failed"));
    tiles.addTo(map);
  } else {
    element.classList.add("no-tiles");
    showFallback("tiles off");
  }
  return { showFallback };
}
