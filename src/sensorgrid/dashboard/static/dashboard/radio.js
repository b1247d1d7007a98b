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

// RSSI, SNR and spreading factor per gateway over time: one chart each, one series per
// gateway (the page's per_gateway data). Each gateway's line joins its own receptions
// (spanGaps); the colours are told apart by dashes too, and the legend names them.
const PALETTE = ["#0b5cad", "#b35900", "#2e7d32", "#8e24aa", "#c62828", "#00838f", "#5d4037", "#455a64"];
const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
const perGateway = data.per_gateway || { times: [], gateways: [] };
const units = { rssi: "dBm", snr: "dB", sf: "" };

for (const chart of document.querySelectorAll(".radio-gateway-charts figure[data-quantity]")) {
  const key = chart.dataset.quantity;
  const box = chart.querySelector(".plot");
  const few = perGateway.times.length < 150;
  const series = [{ value: (u, v) => (v == null ? "–" : formatInstant(v, zone)) }];
  perGateway.gateways.forEach((gateway, i) => {
    series.push({
      label: gateway.id,
      stroke: PALETTE[i % PALETTE.length],
      dash: DASHES[Math.floor(i / 2) % DASHES.length],
      width: 2,
      spanGaps: true,
      points: { show: few },
      value: key === "sf" ? (u, v) => (v == null ? "–" : `SF${v}`) : number(units[key]),
    });
  });
  const columns = [perGateway.times, ...perGateway.gateways.map((g) => g[key])];
  const gatewayPlot = new uPlot(
    {
      width: Math.max(box.clientWidth, 280),
      height: 220,
      tzDate: zoned(zone),
      scales: { x: { time: true, range: (u, min, max) => (min === max ? [min - 3600, max + 3600] : [min, max]) } },
      series,
      // A spreading factor is a whole number: no 8.25 on its axis.
      axes: [timeAxis(zone, chart), { label: chart.dataset.label, size: 60, ...(key === "sf" ? { incrs: [1, 2] } : {}) }],
    },
    columns,
    box,
  );
  new ResizeObserver(() => {
    const width = Math.max(box.clientWidth, 280);
    if (Math.abs(gatewayPlot.width - width) > 1) gatewayPlot.setSize({ width, height: 220 });
  }).observe(chart);
  chart.dataset.series = String(perGateway.gateways.length);
  chart.dataset.drawn = "true";
}
