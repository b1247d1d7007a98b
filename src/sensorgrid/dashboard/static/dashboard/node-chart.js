// The node's History tab: a uPlot chart of one quantity over a preset range, from the
// time-series API, extended live by the delta frames (node.js hands them to extend()).
import uPlot from "./vendor/uPlot.esm.js";
import { co2BandsHook, exposeRangeHook, formatInstant, timeAxis, timeScale, zoned } from "./chart-options.js";
import { formatValue } from "./tiles.js";

const BUCKET_SECONDS = { raw: 0, "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400 };
const FALLBACK_BUCKET = "1m"; // when the raw samples of a range are too many for one answer

export function mountChart(config) {
  const zone = config.time_zone || "UTC";
  const select = document.getElementById("quantity");
  const figure = document.getElementById("chart");
  const summary = document.getElementById("chart-summary");
  const csvLink = document.getElementById("csv");
  const presetButtons = [...document.querySelectorAll("[data-preset]")];

  const view = {
    preset: config.presets.find((p) => p.label === config.preset) || config.presets[0],
    quantity: select.value,
    bucket: "raw",
    from: 0, // seconds
    data: [[], []],
    request: 0,
    refetch: null,
  };
  let plot = null;

  function quantityInfo() {
    return config.quantities.find((q) => q.key === view.quantity) || { key: view.quantity, name: view.quantity, unit: "" };
  }

  function nowSeconds() {
    return Date.now() / 1000;
  }

  async function fetchSeries(bucket) {
    const params = new URLSearchParams({ quantity: view.quantity, bucket, from: String(Math.floor(view.from)) });
    const response = await fetch(`${config.timeseries}?${params}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json();
    return { ok: response.ok, status: response.status, body };
  }

  async function load() {
    const request = ++view.request;
    view.from = nowSeconds() - view.preset.seconds;
    view.bucket = view.preset.bucket;
    summary.textContent = "Loading…";
    let answer = await fetchSeries(view.bucket);
    if (!answer.ok && answer.status === 400 && view.bucket === "raw") {
      view.bucket = FALLBACK_BUCKET;
      answer = await fetchSeries(view.bucket);
    }
    if (request !== view.request) return; // a newer choice overtook this one
    if (!answer.ok) {
      summary.textContent = `Could not load the history: ${answer.body.detail || JSON.stringify(answer.body)}`;
      return;
    }
    const points = answer.body.series.length ? answer.body.series[0].points : [];
    view.data = [points.map((p) => Date.parse(p.ts) / 1000), points.map((p) => p.value)];
    const csv = new URLSearchParams({ format: "csv", quantity: view.quantity, bucket: view.bucket, from: answer.body.from });
    csvLink.href = `${config.timeseries}?${csv}`;
    csvLink.download = `node-${config.node}-${view.quantity}-${view.preset.label.replace(" ", "")}.csv`;
    draw(true);
  }

  function draw(rebuild) {
    const q = quantityInfo();
    const container = figure.querySelector(".plot");
    const bands = view.quantity === "co2" && config.co2_levels; // none outdoors
    if (rebuild || !plot) {
      if (plot) plot.destroy();
      if (!bands) delete figure.dataset.bands;
      const options = {
        width: Math.max(container.clientWidth, 280),
        height: 320,
        tzDate: zoned(zone),
        scales: {
          x: timeScale(
            () => view.preset.seconds,
            () => (view.data[0].length ? view.data[0][view.data[0].length - 1] : null),
          ),
        },
        hooks: {
          drawClear: bands ? [co2BandsHook(config.co2_levels, figure)] : [],
          draw: [exposeRangeHook(figure)],
        },
        series: [
          { value: (u, v) => (v == null ? "–" : formatInstant(v, zone)) },
          {
            label: q.name + (q.unit ? ` (${q.unit})` : ""),
            stroke: "#0b5cad",
            width: 2,
            points: { show: view.data[0].length < 150 },
            value: (u, v) => (v == null ? "–" : `${formatValue(v)} ${q.unit}`),
          },
        ],
        axes: [timeAxis(zone, figure), { label: q.unit, size: 60 }],
      };
      plot = new uPlot(options, view.data, container);
    } else {
      plot.setData(view.data);
    }
    const n = view.data[0].length;
    figure.dataset.points = String(n);
    const bucket = view.bucket === "raw" ? "samples" : `${view.bucket} averages`;
    const last = n ? `; latest ${formatValue(view.data[1][n - 1])} ${q.unit} at ${formatInstant(view.data[0][n - 1], zone)}` : "";
    const levels = bands ? `; background: good below ${config.co2_levels.good_below}, poor above ${config.co2_levels.poor_above} ${q.unit}` : "";
    summary.textContent = `${q.name}, last ${view.preset.label}: ${n} ${n === 1 ? "point" : "points"} (${bucket})${last}; times ${zone}${levels}.`;
  }

  function scheduleRefetch() {
    clearTimeout(view.refetch);
    view.refetch = setTimeout(load, 2000);
  }

  // A live value joins the chart: a sample of its own for raw data, a new bucket when
  // it opens one (its average is itself); a bucket that already has samples is fetched
  // again, so what the chart shows is always the server's exact average.
  function extend(frame) {
    if (frame.node !== config.node || !frame.values || !(view.quantity in frame.values)) return;
    const ts = Date.parse(frame.ts) / 1000;
    const size = BUCKET_SECONDS[view.bucket];
    const start = size ? Math.floor(ts / size) * size : ts;
    const [xs, ys] = view.data;
    const last = xs.length ? xs[xs.length - 1] : -Infinity;
    if (start > last) {
      xs.push(start);
      ys.push(frame.values[view.quantity]);
      draw(false);
    } else if (start === last && !size) {
      ys[ys.length - 1] = frame.values[view.quantity];
      draw(false);
    } else {
      scheduleRefetch();
    }
  }

  presetButtons.forEach((button) =>
    button.addEventListener("click", () => {
      view.preset = config.presets.find((p) => p.label === button.dataset.preset);
      presetButtons.forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      load();
    }),
  );
  select.addEventListener("change", () => {
    view.quantity = select.value;
    load();
  });
  new ResizeObserver(() => {
    const width = Math.max(figure.querySelector(".plot").clientWidth, 280);
    if (plot && Math.abs(plot.width - width) > 1) plot.setSize({ width, height: 320 });
  }).observe(figure);

  if (view.quantity) load();
  else summary.textContent = "This node has not reported any quantity yet.";
  return { extend };
}
