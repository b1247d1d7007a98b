// Copy buttons: <button data-copy="ID"> copies the value of the input #ID and says so in
// the element [data-copy-state="ID"] (a live region). A module, not inline script (CSP).

async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    // No clipboard API (an insecure origin, a refused permission): select it for Ctrl+C.
    input.focus();
    input.select();
    return false;
  }
}

for (const button of document.querySelectorAll("button[data-copy]")) {
  const id = button.dataset.copy;
  const input = document.getElementById(id);
  const state = document.querySelector(`[data-copy-state="${CSS.escape(id)}"]`);
  if (!input) continue;
  button.addEventListener("click", async () => {
    const copied = await copy(input);
    if (state) state.textContent = copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
  });
}
