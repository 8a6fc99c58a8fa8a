// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("messages");
  if (!box) return;
  const status = event.detail.xhr.status;
  const note = document.createElement("div");
  note.className = "message message-error";
  note.setAttribute("role", "alert");
  note.textContent = status === 403
    ? "You are not allowed to do that."
    : `The server could not complete the request (HTTP ${status}). Reload the page and try again.`;
  box.replaceChildren(note);
});

// Filter forms marked data-drop-empty leave blank fields out of the URL they request and
// push, so a shared link names only the filters that are set.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches("form[data-drop-empty]")) return;
  const data = event.detail.formData;
  for (const key of [...data.keys()]) {
    if (data.getAll(key).every((value) => value === "")) data.delete(key);
  }
});

// A button with data-copy-target copies that input's value (the API token page).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    // Without the clipboard API (plain HTTP), the selected text is ready for Ctrl+C.
    document.execCommand("copy");
  }
  button.textContent = "Copied";
});
