// MediaSpace's small behaviours: menus, toasts. No inline scripts (a strict CSP is on).

/** Close every open <details data-menu> except the one given. */
function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (menu !== except) menu.open = false;
  }
}

document.addEventListener("click", (event) => {
  closeMenus(event.target.closest("details[data-menu]"));
  const close = event.target.closest("[data-toast-close]");
  if (close) close.closest("[data-toast]").remove();
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target.closest("details[data-menu][open]");
  if (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

/** Let success and info toasts fade after a while; errors stay until dismissed. */
function scheduleToasts(root) {
  for (const toast of root.querySelectorAll("[data-toast]:not(.toast-error)")) {
    if (toast.dataset.scheduled) continue;
    toast.dataset.scheduled = "1";
    setTimeout(() => toast.remove(), 8000);
  }
}

scheduleToasts(document);
document.addEventListener("htmx:afterSettle", () => scheduleToasts(document));
