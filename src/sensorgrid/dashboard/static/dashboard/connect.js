// The Connect panel's live line: polls the node's connect status (JSON) 2 s after its
// previous answer and turns "Waiting for the first message…" green when a message was
// stored, or red with the dead letter's reason when one was refused. A module, not
// inline script (CSP). One poll at a time: a fixed interval stacked requests on a slow
// server and left the page never quiet.

const INTERVAL_MS = 2000;
// Once the device was heard the panel has told its news: ask far less often.
const HEARD_INTERVAL_MS = 30000;
const line = document.getElementById("connect-status");

function show(status) {
  const text = line.querySelector("[data-status-text]");
  const letter = line.querySelector("[data-status-letter]");
  line.dataset.state = status.state;
  if (status.state === "received") text.textContent = status.received.text;
  else if (status.state === "refused") text.textContent = status.refused.text;
  else text.textContent = status.waiting;
  if (status.state === "refused") {
    letter.href = status.refused.url;
    letter.hidden = false;
  } else {
    letter.hidden = true;
  }
}

let timer = null;
let asking = false;

async function poll() {
  clearTimeout(timer);
  timer = null;
  if (document.hidden || asking) return; // a background tab asks again when it is shown
  asking = true;
  try {
    const response = await fetch(line.dataset.url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) show(await response.json());
  } catch {
    // offline for a moment: the next poll tries again
  } finally {
    asking = false;
    const interval = line.dataset.state === "received" ? HEARD_INTERVAL_MS : INTERVAL_MS;
    if (!document.hidden && timer === null) timer = setTimeout(poll, interval);
  }
}

if (line) {
  timer = setTimeout(poll, INTERVAL_MS);
  document.addEventListener("visibilitychange", poll);
}
