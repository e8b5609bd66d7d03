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
  const first = dialog.querySelector(
    "[autofocus], input:not([type=hidden]), select, textarea, button:not(.chip-remove)",
  );
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
  if (cancel && cancel.closest("dialog[open]")?.matches(":modal")) {
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

/**
 * Fill a My Media row's ⋮ menu the first time it opens, from the page's one
 * <template id="media-row-menu">: the items its data-row-menu allows ("edit publish
 * delete"), with URLs under the row's View link. Rows come with View only, so a long list
 * stays light.
 */
function fillRowMenu(menu) {
  const template = document.getElementById("media-row-menu");
  if (!template || menu.dataset.filled) return;
  const allowed = new Set(menu.dataset.rowMenu.split(" "));
  const items = template.content.cloneNode(true);
  for (const item of items.querySelectorAll("[data-action]")) {
    if (!allowed.has(item.dataset.action)) item.remove();
  }
  const list = menu.querySelector(".menu-items");
  const url = list.querySelector("a").getAttribute("href"); // the row's View link
  const row = menu.closest("tr").id;
  for (const item of items.querySelectorAll("[data-href]")) {
    const target = url + item.dataset.href;
    if (item.tagName === "FORM") {
      item.action = target;
      item.setAttribute("hx-post", target);
      item.setAttribute("hx-target", `#${row}`);
    } else {
      item.href = target;
      if (item.hasAttribute("hx-target")) item.setAttribute("hx-get", target);
    }
  }
  const label = items.querySelector(".menu-label");
  const form = items.querySelector("form");
  if (label && form) {
    label.id = `status-label-${row}`;
    form.setAttribute("aria-labelledby", label.id);
    for (const button of form.querySelectorAll("button[name=status]")) {
      const current = button.value === menu.dataset.status;
      button.setAttribute("aria-pressed", String(current));
      if (current) button.prepend("✓ ");
    }
  }
  list.replaceChildren(items);
  menu.dataset.filled = "true";
  htmx.process(list);
}

// Before the <details> opens (a click or Enter/Space on its summary), so it opens full.
document.addEventListener(
  "click",
  (event) => {
    const menu = event.target.closest("details[data-row-menu] > summary")?.parentElement;
    if (menu) fillRowMenu(menu);
  },
  true,
);

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
  // A form re-rendered with errors inside an open dialog: move focus to the first problem.
  const invalid = event.detail.target.closest?.("dialog[open]")
    ? document.querySelector("dialog[open] [aria-invalid='true'], dialog[open] .field-invalid input")
    : null;
  if (invalid) invalid.focus();
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

// The Select users combobox (WAI-ARIA combobox pattern with a listbox popup) -----------

const SUGGEST_DELAY_MS = 150;

/** Wire up one combobox: suggestions after two characters, chips for the choices. */
function setUpCombobox(root) {
  if (root.dataset.ready) return;
  root.dataset.ready = "1";
  const input = root.querySelector("[data-combobox-input]");
  const listbox = root.querySelector("[data-listbox]");
  const chips = root.querySelector("[data-chips]");
  const status = root.querySelector("[data-combobox-status]");
  const empty = root.querySelector("[data-combobox-empty]");
  const url = root.dataset.suggestUrl;
  let timer = null;
  let active = -1;
  let controller = null;

  const options = () => [...listbox.querySelectorAll("[role=option]")];
  const chosenKeys = () => new Set([...chips.querySelectorAll("[data-key]")].map((chip) => chip.dataset.key));

  function close() {
    listbox.hidden = true;
    empty.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const all = options();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((option, i) => option.setAttribute("aria-selected", i === active ? "true" : "false"));
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }

  function addChip(key, label) {
    if (chosenKeys().has(key)) return;
    const chip = document.createElement("li");
    chip.className = "chip";
    chip.dataset.key = key;
    const text = document.createElement("span");
    text.textContent = label;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.dataset.chipRemove = "";
    remove.setAttribute("aria-label", `Remove ${label}`);
    remove.textContent = "×";
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "principals";
    hidden.value = key;
    chip.append(text, remove, hidden);
    chips.append(chip);
    status.textContent = `${label} selected.`;
  }

  function choose(option) {
    addChip(option.dataset.key, option.dataset.label);
    input.value = "";
    close();
    input.focus();
  }

  function render(results) {
    listbox.replaceChildren();
    const taken = chosenKeys();
    const fresh = results.filter((result) => !taken.has(result.key));
    fresh.forEach((result, index) => {
      const option = document.createElement("li");
      option.id = `principals-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.key = result.key;
      option.dataset.label = result.label;
      option.className = `option option-${result.kind}`;
      const label = document.createElement("span");
      label.className = "option-label";
      label.textContent = result.label;
      const detail = document.createElement("span");
      detail.className = "option-detail";
      detail.textContent = result.detail;
      option.append(label, detail);
      if (result.holds.length) {
        const holds = document.createElement("span");
        holds.className = "option-holds";
        holds.textContent = `Has ${result.holds.join(", ")}`;
        option.append(holds);
      }
      listbox.append(option);
    });
    empty.hidden = fresh.length > 0;
    listbox.hidden = fresh.length === 0;
    input.setAttribute("aria-expanded", fresh.length ? "true" : "false");
    active = -1;
    input.removeAttribute("aria-activedescendant");
    status.textContent = fresh.length
      ? `${fresh.length} suggestion${fresh.length === 1 ? "" : "s"}. Use the up and down arrows to choose.`
      : "No matching users or groups.";
  }

  async function suggest() {
    const query = input.value.trim();
    if (query.length < 2) {
      close();
      return;
    }
    controller?.abort();
    controller = new AbortController();
    try {
      const response = await fetch(`${url}?q=${encodeURIComponent(query)}`, {
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      if (!response.ok) return;
      const data = await response.json();
      if (input.value.trim() === query) render(data.results);
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, SUGGEST_DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    const open = !listbox.hidden;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (!open) suggest();
      else highlight(active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (open) highlight(active - 1);
    } else if (event.key === "Enter") {
      // Enter picks the highlighted suggestion; it never submits the form from here.
      event.preventDefault();
      const all = options();
      if (open && all.length) choose(all[active >= 0 ? active : 0]);
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    } else if (event.key === "Backspace" && input.value === "") {
      const last = chips.querySelector(".chip:last-child");
      if (last) {
        status.textContent = `${last.querySelector("span").textContent} removed.`;
        last.remove();
      }
    } else if (event.key === "Tab") {
      close();
    }
  });

  listbox.addEventListener("mousedown", (event) => event.preventDefault());
  listbox.addEventListener("click", (event) => {
    const option = event.target.closest("[role=option]");
    if (option) choose(option);
  });
  input.addEventListener("blur", () => setTimeout(close, 100));

  chips.addEventListener("click", (event) => {
    const remove = event.target.closest("[data-chip-remove]");
    if (!remove) return;
    const chip = remove.closest(".chip");
    status.textContent = `${chip.querySelector("span").textContent} removed.`;
    chip.remove();
    input.focus();
  });
}

function setUpComboboxes(root) {
  for (const combobox of root.querySelectorAll("[data-combobox]")) setUpCombobox(combobox);
}

setUpComboboxes(document);
document.addEventListener("htmx:load", (event) => setUpComboboxes(event.detail.elt.parentElement || document));

// Room (rooms, issue 5): the live session page ---------------------------------------------
// The poller (#room-poller) swaps in whatever changed; these keep the chat readable.

// How close to the bottom (px) still counts as "reading the newest messages".
const CHAT_STICK_SLACK_PX = 48;
// Messages redrawn in place by an update (a pin): not new, so the log does not follow them.
const updatedMessages = new WeakSet();

/** Keep one chat log's scroll position: follow new messages only from the bottom. */
function setUpChatLog(log) {
  if (log.dataset.ready) return;
  log.dataset.ready = "1";
  const jump = log.parentElement.querySelector("[data-chat-jump]");
  let stick = true;
  log.scrollTop = log.scrollHeight;

  log.addEventListener("scroll", () => {
    stick = log.scrollHeight - log.scrollTop - log.clientHeight < CHAT_STICK_SLACK_PX;
    if (stick && jump) jump.hidden = true;
  });

  new MutationObserver((records) => {
    let added = false;
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (!(node instanceof Element) || !node.id) continue;
        // A message the page already shows (the page and a poll can overlap): drop it.
        if (log.querySelectorAll(`[id="${node.id}"]`).length > 1) node.remove();
        // New messages arrive at the end; earlier ones and updated ones land elsewhere.
        else if (!node.nextElementSibling && !updatedMessages.has(node)) added = true;
      }
    }
    if (!added) return;
    if (stick) log.scrollTop = log.scrollHeight;
    else if (jump) jump.hidden = false;
  }).observe(log, { childList: true, subtree: true });

  jump?.addEventListener("click", () => {
    log.scrollTop = log.scrollHeight;
    jump.hidden = true;
    log.focus();
  });
}

function setUpChatLogs(root) {
  for (const log of root.querySelectorAll("[data-chat-log]")) setUpChatLog(log);
}

setUpChatLogs(document);
document.addEventListener("htmx:load", (event) => setUpChatLogs(event.detail.elt.parentElement || document));

// Enter sends a message; Shift+Enter starts a new line.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  const field = event.target.closest?.("[data-composer] textarea");
  if (!field) return;
  event.preventDefault();
  if (field.value.trim()) field.form.requestSubmit();
});

// A message went out (204): empty the composer and drop any earlier error, keeping focus.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (!form.matches?.("[data-composer]") || event.detail.xhr.status !== 204) return;
  form.reset();
  for (const error of form.querySelectorAll(".field-error, .form-error")) error.remove();
  for (const field of form.querySelectorAll(".field-invalid")) field.classList.remove("field-invalid");
  const textarea = form.querySelector("textarea");
  if (!textarea) return;
  textarea.removeAttribute("aria-invalid");
  textarea.setAttribute("aria-describedby", "composer-help");
  textarea.focus();
});

// A refused message comes back without its text (the server never echoes it): the
// composer that replaces the form keeps what was typed.
let composerDraft = null;

document.addEventListener("htmx:beforeSwap", (event) => {
  if (!event.detail.shouldSwap || !event.detail.target?.matches?.("[data-composer]")) return;
  composerDraft = event.detail.target.querySelector("textarea")?.value ?? null;
});

document.addEventListener("htmx:afterSwap", () => {
  if (composerDraft === null) return;
  const draft = composerDraft;
  composerDraft = null;
  const field = document.querySelector("[data-composer] textarea");
  if (field && !field.value) field.value = draft;
});

/** Show a toast sent with a refused htmx request ("ms:toast"), which htmx does not swap. */
document.body.addEventListener("ms:toast", (event) => {
  const region = document.getElementById("toasts");
  if (!region) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${event.detail.level || "info"}`;
  toast.dataset.toast = "";
  const text = document.createElement("span");
  text.className = "toast-text";
  text.textContent = event.detail.message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.dataset.toastClose = "";
  close.setAttribute("aria-label", "Dismiss message");
  close.textContent = "×";
  toast.append(text, close);
  region.append(toast);
  scheduleToasts(region);
});
// Keep a half-written message, and the focus, when the poll re-renders the whole room
// (the session started or ended, the room was locked, the user's roles changed).
let roomDraft = null;

document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const body = event.detail.target;
  if (body?.id !== "room-body") return;
  const field = body.querySelector("[data-composer] textarea");
  roomDraft = {
    value: field ? field.value : "",
    typing: field !== null && document.activeElement === field,
    focusInside: body.contains(document.activeElement),
  };
});

document.addEventListener("htmx:oobAfterSwap", () => {
  if (!roomDraft) return;
  const draft = roomDraft;
  roomDraft = null;
  const body = document.getElementById("room-body");
  const field = body?.querySelector("[data-composer] textarea");
  if (field && draft.value && !field.value) field.value = draft.value;
  if (field && draft.typing) field.focus();
  else if (draft.focusInside) body?.querySelector("h1")?.focus();
});

// Changes to messages (deleted, pinned, unpinned) arrive in an inert <template
// id="chat-updates">: this page may show earlier messages or not all of them, so each change
// applies to the message with the same id only if the log shows it. Nothing is swapped into
// a missing element, so htmx has nothing to complain about.
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  if (event.detail.target?.id !== "chat-updates") return;
  event.detail.shouldSwap = false; // the page keeps its empty template
  const updates = event.detail.fragment.firstElementChild?.content;
  const log = document.querySelector("[data-chat-log]");
  if (!updates || !log) return;
  for (const update of updates.children) {
    const shown = document.getElementById(update.id);
    if (!shown || !log.contains(shown)) continue;
    const hadFocus = shown.contains(document.activeElement);
    if (update.hasAttribute("data-gone")) {
      shown.remove();
      if (hadFocus) log.focus();
      continue;
    }
    const fresh = document.importNode(update, true);
    updatedMessages.add(fresh);
    shown.replaceWith(fresh);
    htmx.process(fresh);
    // The moderator who pinned it keeps their place: on the same button, now "Unpin".
    if (hadFocus) (fresh.querySelector("[data-chat-pin]") || log).focus();
  }
});

// Load earlier messages: they arrive above the reader's place, which stays where it is;
// screen readers are not told about them as if they were new (the log is a live region);
// the focus moves to the log, whose first stop is the next "Load earlier messages".
const EARLIER_QUIET_MS = 1000;
let earlierLoad = null;

document.addEventListener("htmx:beforeSwap", (event) => {
  if (!event.detail.shouldSwap || !event.target.matches?.("[data-chat-earlier]")) return;
  const log = event.target.closest("[data-chat-log]");
  if (!log) return;
  earlierLoad = { log, fromBottom: log.scrollHeight - log.scrollTop };
  log.setAttribute("aria-live", "off");
});

document.addEventListener("htmx:afterSwap", () => {
  if (!earlierLoad) return;
  const { log, fromBottom } = earlierLoad;
  earlierLoad = null;
  log.scrollTop = log.scrollHeight - fromBottom;
  log.focus({ preventScroll: true });
  setTimeout(() => log.removeAttribute("aria-live"), EARLIER_QUIET_MS);
});
// End of Room ----------------------------------------------------------------------------
