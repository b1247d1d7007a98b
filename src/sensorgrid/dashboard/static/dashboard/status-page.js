// Entry of the status page (/status/): node health follows /ws/live/ "status" frames
// instead of a timed reload (which would take the page away from its reader). The page
// subscribes to the organizations the server listed for this user; the server checks
// each subscription again, so a forged id gets "not found" and nothing else.
import { Live, readJson } from "./live.js";

const counts = document.getElementById("node-counts");
const notice = document.getElementById("status-changes");
const known = new Map(); // node id → its health as last heard
let changes = 0;

function cell(state) {
  return counts ? counts.querySelector(`td[data-state="${CSS.escape(state)}"]`) : null;
}

function add(state, delta) {
  const target = cell(state);
  if (target) target.textContent = String(Math.max(0, Number(target.textContent) + delta));
}

// The first snapshot of a node only tells its state; a later one (after a reconnect)
// or a "status" frame that differs is a change the counts take over.
function heard(node, state) {
  if (!state) return;
  const before = known.get(node);
  known.set(node, state);
  if (before === undefined || before === state) return;
  add(before, -1);
  add(state, +1);
  changes += 1;
  if (notice) {
    notice.textContent = `${changes} node health change${changes === 1 ? "" : "s"} since this page was generated (counts updated). Refresh for the list of nodes that stopped sending.`;
  }
}

const live = new Live();
live.on("snapshot", (frame) => heard(frame.node, frame.status));
live.on("status", (frame) => heard(frame.node, frame.status));
for (const organization of readJson("status-organizations", [])) live.subscribe({ organization });
live.connect();
