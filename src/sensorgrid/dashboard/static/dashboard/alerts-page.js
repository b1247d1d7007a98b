// The alerts page: its tables follow the alerts of every organization the user is a
// member of (one organization subscription each).
import { bindAlerts } from "./alerts.js";
import { Live, readJson } from "./live.js";

const config = readJson("alerts-config");
const live = new Live();
bindAlerts(live, { rowUrl: config.row, state: config.state, severity: config.severity });
live.on("error", (frame) => {
  document.getElementById("live-state").textContent = `Live updates refused: ${frame.error}`;
});
for (const subscription of config.subscriptions) live.subscribe(subscription);
live.connect();
