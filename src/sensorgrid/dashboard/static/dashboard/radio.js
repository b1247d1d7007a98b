// The node's Radio tab: the best RSSI (dBm, left axis) and SNR (dB, right axis) of each
// uplink over the gateways that heard it, from the page's radio-data (radio.py). The
// tables on the page carry the same numbers as text.
import uPlot from "./vendor/uPlot.esm.js";
import { formatInstant, timeAxis, zoned } from "./chart-options.js";
import { readJson } from "./live.js";

const data = readJson("radio-data", { points: [], time_zone: "UTC" });
const zone = data.time_zone; // the organization's, as the tables on the page
const figure = document.getElementById("radio-chart");
const container = figure.querySelector(".plot");
const columns = [0, 1, 2].map((i) => data.points.map((p) => p[i]));

function number(unit) {
  return (u, v) => (v == null ? "–" : `${Math.round(v * 10) / 10} ${unit}`);
}

const plot = new uPlot(
  {
    width: Math.max(container.clientWidth, 280),
    height: 260,
    tzDate: zoned(zone),
    // One uplink alone would stretch the axis by years (uPlot's default): an hour each side.
    scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 3600, max + 3600] : [min, max]) }, dBm: {}, dB: {} },
    series: [
      { value: (u, v) => (v == null ? "–" : formatInstant(v, zone)) },
      { label: "RSSI (dBm)", scale: "dBm", stroke: "#0b5cad", width: 2, points: { show: columns[0].length < 150 }, value: number("dBm") },
      { label: "SNR (dB)", scale: "dB", stroke: "#b35900", width: 2, dash: [6, 4], points: { show: columns[0].length < 150 }, value: number("dB") },
    ],
    axes: [timeAxis(zone, figure), { scale: "dBm", label: "RSSI (dBm)", size: 60 }, { scale: "dB", label: "SNR (dB)", side: 1, size: 50, grid: { show: false } }],
  },
  columns,
  container,
);
new ResizeObserver(() => {
  const width = Math.max(container.clientWidth, 280);
  if (Math.abs(plot.width - width) > 1) plot.setSize({ width, height: 260 });
}).observe(figure);
figure.dataset.drawn = "true";
