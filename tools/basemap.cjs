// Build step of `make assets` (docs/dashboard.md, "Offline basemap"): turns world-atlas's
// Natural Earth 1:50m TopoJSON (an npm package, public domain data) into the small
// GeoJSON the map draws when no tile server answers: land, coastlines and country
// borders (the land's outline is the coastline), coordinates rounded to 0.01° (~1 km,
// about 1:50m's own accuracy), repeated points dropped.
// Usage: node tools/basemap.cjs OUTPUT
const fs = require("fs");
const path = require("path");
const topojson = require("topojson-client");

const source = path.join(__dirname, "..", "node_modules", "world-atlas", "countries-50m.json");
const topology = JSON.parse(fs.readFileSync(source, "utf8"));
const point = ([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100];
// A line or ring: rounded, without a point equal to the one before it.
const line = (points) => points.map(point).filter((p, i, all) => i === 0 || p[0] !== all[i - 1][0] || p[1] !== all[i - 1][1]);
const depth = { MultiPolygon: 2, Polygon: 1, MultiLineString: 1, LineString: 0 };
const walk = (value, level) => (level === 0 ? line(value) : value.map((v) => walk(v, level - 1)));
const geometry = (g) => ({ type: g.type, coordinates: walk(g.coordinates, depth[g.type]) });

const land = topojson.merge(topology, topology.objects.countries.geometries);
const borders = topojson.mesh(topology, topology.objects.countries, (a, b) => a !== b);
const collection = {
  type: "FeatureCollection",
  source: "Natural Earth 1:50m via world-atlas (public domain)",
  features: [
    { type: "Feature", properties: { kind: "land" }, geometry: geometry(land) },
    { type: "Feature", properties: { kind: "border" }, geometry: geometry(borders) },
  ],
};
fs.writeFileSync(process.argv[2], JSON.stringify(collection));
