// MediaSpace's small behaviours: menus, toasts and dialogs.
// No inline scripts or hx-on handlers: a strict Content-Security-Policy is on.

/** Close every open <details data-menu> except the one given. */
function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (menu !== except) menu.open = false;
  }
}

// The element that opened the current dialog, to return focus to when it closes.
let dialogOpener = null;

/** Show a dialog that htmx has just put on the page, as a modal (it traps focus). */
function openDialog(dialog) {
  if (dialog.open) return;
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (dialogOpener && dialogOpener.isConnected) dialogOpener.focus();
    else document.querySelector("main h1, main")?.focus?.();
    dialogOpener = null;
  });
  dialog.showModal();
  const first = dialog.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button");
  if (first) first.focus();
}

/** Close the open dialog, if any. */
function closeDialog() {
  const dialog = document.querySelector("dialog[data-dialog][open]");
  if (dialog) dialog.close();
}

document.addEventListener("click", (event) => {
  closeMenus(event.target.closest("details[data-menu]"));
  const close = event.target.closest("[data-toast-close]");
  if (close) close.closest("[data-toast]").remove();
  const cancel = event.target.closest("[data-dialog-close]");
  if (cancel && cancel.closest("dialog[open]")) {
    event.preventDefault();
    closeDialog();
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = event.target.closest("details[data-menu][open]");
  if (menu) {
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});

document.addEventListener("htmx:beforeRequest", (event) => {
  const source = event.detail.elt;
  if (source && source.getAttribute("hx-target") === "#dialog-host") {
    const menu = source.closest("details[data-menu]");
    dialogOpener = menu ? menu.querySelector("summary") : source;
    closeMenus(null);
  }
});

document.addEventListener("htmx:afterSwap", (event) => {
  const dialog = event.detail.target.querySelector?.("dialog[data-dialog]:not([open])");
  if (dialog) openDialog(dialog);
});

document.body.addEventListener("ms:close-dialog", closeDialog);

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
