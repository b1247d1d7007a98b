// What the node page's uPlot chart shows besides the line: a time axis that spans the
// chosen window, ISO dates and 24-hour times in the configured time zone, and the CO2
// traffic light's levels as background bands.
import uPlot from "./vendor/uPlot.esm.js";

const fmtDay = uPlot.fmtDate("{YYYY}-{MM}-{DD}");
const fmtMonth = uPlot.fmtDate("{YYYY}-{MM}");
const fmtTime = uPlot.fmtDate("{HH}:{mm}");
const fmtFull = uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}");

// Light enough that the line and the grid stay readable on top.
const BAND_COLORS = { good: "rgba(46, 160, 67, 0.16)", fair: "rgba(219, 154, 4, 0.20)", poor: "rgba(207, 34, 46, 0.16)" };

// A Date whose local fields are the wall-clock time in `zone` (uPlot's tzDate), so
// fmtDate and uPlot's tick alignment speak that zone, whatever the browser's is.
export function zoned(zone) {
  return (seconds) => uPlot.tzDate(new Date(seconds * 1000), zone);
}

export function formatInstant(seconds, zone) {
  return fmtFull(zoned(zone)(seconds));
}

// Axis labels: months for the year, days for a week, "HH:mm" within a day with the
// date under the first tick of each day. Never am/pm.
function timeLabels(zone, figure) {
  const toDate = zoned(zone);
  return (u, splits, axisIdx, space, incr) => {
    let previousDay = null;
    const labels = splits.map((seconds) => {
      if (seconds == null) return null;
      const date = toDate(seconds);
      const day = fmtDay(date);
      let label;
      if (incr >= 28 * 86400) label = fmtMonth(date);
      else if (incr >= 86400) label = day;
      else label = day === previousDay ? fmtTime(date) : `${fmtTime(date)}\n${day}`;
      previousDay = day;
      return label;
    });
    // What the axis says, in the DOM (the canvas keeps it from tests and other tools).
    figure.dataset.xLabels = labels.filter((l) => l != null).join(" | ");
    return labels;
  };
}

// The x scale is [end - window, end], end = now (or the newest point, should the device
// clock run ahead): never the data's own extent, which for a single point uPlot widens
// by 1000 days.
export function timeScale(windowSeconds, lastX) {
  return {
    time: true,
    range: () => {
      const end = Math.max(Date.now() / 1000, lastX() ?? -Infinity);
      return [end - windowSeconds(), end];
    },
  };
}

export function timeAxis(zone, figure) {
  return { values: timeLabels(zone, figure), space: 60 };
}

// After each draw the figure carries the x scale's span in seconds (data-x-range="min max").
export function exposeRangeHook(figure) {
  return (u) => {
    figure.dataset.xRange = `${Math.round(u.scales.x.min)} ${Math.round(u.scales.x.max)}`;
  };
}

// Bands of the CO2 levels ({good_below, poor_above} from the page), drawn under the
// grid and the line. After each draw the figure lists the bands in view
// (data-bands="good fair"), which tests and curious users can read.
export function co2BandsHook(levels, figure) {
  const bands = [
    ["good", -Infinity, levels.good_below],
    ["fair", levels.good_below, levels.poor_above],
    ["poor", levels.poor_above, Infinity],
  ];
  return (u) => {
    const { ctx, bbox } = u;
    const top = bbox.top;
    const bottom = bbox.top + bbox.height;
    const clamp = (y) => Math.min(bottom, Math.max(top, y));
    const shown = [];
    ctx.save();
    for (const [name, low, high] of bands) {
      const yLow = low === -Infinity ? bottom : clamp(u.valToPos(low, "y", true));
      const yHigh = high === Infinity ? top : clamp(u.valToPos(high, "y", true));
      if (!(yLow - yHigh > 0)) continue; // not in view (or no y scale yet)
      ctx.fillStyle = BAND_COLORS[name];
      ctx.fillRect(bbox.left, yHigh, bbox.width, yLow - yHigh);
      shown.push(name);
    }
    ctx.restore();
    figure.dataset.bands = shown.join(" ");
  };
}
