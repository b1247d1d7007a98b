// The Connect panel's live line: polls the node's connect status (JSON) every 2 s and
// turns "Waiting for the first message…" green when a message was stored, or red with
// the dead letter's reason when one was refused. A module, not inline script (CSP).

const INTERVAL_MS = 2000;
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

async function poll() {
  if (document.hidden) return; // a background tab asks again when it is shown
  try {
    const response = await fetch(line.dataset.url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) show(await response.json());
  } catch {
    // offline for a moment: the next poll tries again
  }
}

if (line) {
  setInterval(poll, INTERVAL_MS);
  document.addEventListener("visibilitychange", poll);
}
