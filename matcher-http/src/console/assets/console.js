// matcher console: small conveniences on top of plain forms (every page
// works without this file).
document.addEventListener("DOMContentLoaded", () => {
  // Confirm before closing a need.
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => {
      if (!window.confirm(f.dataset.confirm)) e.preventDefault();
    });
  }
  // The reason of a 見送り matters only when 見送り is chosen.
  for (const f of document.querySelectorAll("form.move")) {
    const to = f.querySelector("select[name=to]");
    const reason = f.querySelector("select[name=reason]");
    if (!to || !reason) continue;
    const sync = () => { reason.hidden = to.value !== "declined"; };
    to.addEventListener("change", sync);
    sync();
  }
});
