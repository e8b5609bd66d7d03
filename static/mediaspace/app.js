// MediaSpace's small behaviours: menus, toasts and dialogs.
// No inline scripts or hx-on handlers: a strict Content-Security-Policy is on.

/** Close every open <details data-menu> except the one given. */
function closeMenus(except) {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (menu !== except) menu.open = false;
  }
}

// Focus (WAI-ARIA Authoring Practices): wherever a swap or a dialog takes the focused
// element away, the focus goes somewhere that makes sense, never back to <body>.

// What a keyboard user can reach with Tab (a closed <details>' content does not count).
const FOCUSABLE = [
  "a[href]",
  "button:not([disabled])",
  "summary",
  "input:not([type=hidden]):not([disabled])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "[tabindex]",
]
  .map((selector) => `${selector}:not([tabindex="-1"])`)
  .join(", ");

function controlsOf(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter((control) => control.checkVisibility());
}

/** Focus an element; one that is not focusable (a heading, a row) is made so from script. */
function focusElement(element) {
  if (!element) return false;
  if (!element.matches(FOCUSABLE) && !element.hasAttribute("tabindex")) element.tabIndex = -1;
  element.focus();
  return document.activeElement === element;
}

/** Return a list row's first action (its actions cell's first control), or null. */
function rowAction(row) {
  const actions = row.querySelector(".row-actions, .col-actions");
  return (actions && controlsOf(actions)[0]) || null;
}

/** Return the heading of the list a row is in: its section's, or the page's. */
function listHeading(row) {
  const labelled = row.closest("[aria-labelledby]");
  const heading = labelled && document.getElementById(labelled.getAttribute("aria-labelledby"));
  return heading || document.querySelector("main h1");
}

/** Where the focus goes when a row goes: the next row's action, the previous one's, the heading. */
function focusAfterRow(row) {
  const rows = [...(row.closest("table")?.rows ?? [])];
  const at = rows.indexOf(row);
  for (const other of [...rows.slice(at + 1), ...rows.slice(0, at).reverse()]) {
    const action = rowAction(other);
    if (action) return action;
  }
  return listHeading(row);
}

// The element that opened the current dialog, to return focus to when it closes.
let dialogOpener = null;

/** Show a dialog that htmx has just put on the page, as a modal (it traps focus). */
function openDialog(dialog) {
  if (dialog.open) return;
  dialog.addEventListener("close", () => {
    dialog.remove();
    // A change made in the dialog may have replaced or taken away the opener's row: by
    // now dialogOpener is its replacement, or where the focus goes instead (see below).
    if (dialogOpener && dialogOpener.isConnected) focusElement(dialogOpener);
    else focusElement(document.querySelector("main h1"));
    dialogOpener = null;
  });
  // Escape with people picked in Add moderators asks first (the keydown handler below
  // catches the Escape key; this catches the other ways of asking a dialog to close).
  dialog.addEventListener("cancel", (event) => {
    if (event.cancelable && askBeforeDiscarding(dialog)) event.preventDefault();
  });
  // htmx wires new content up when it settles, a moment after this swap: wire the dialog
  // now, so that a quick Enter on its button posts with htmx, not as a plain form.
  htmx.process(dialog);
  dialog.showModal();
  let first = dialog.querySelector(
    "[autofocus], input:not([type=hidden]), select, textarea, button:not(.chip-remove)",
  );
  // A confirmation whose answer destroys something (a red button: Remove, Delete, End
  // session, Clear chat) opens on Cancel, so a stray Enter changes nothing.
  const destructive =
    dialog.querySelector(".form-actions .button-danger") || first?.matches(".button-danger");
  if (destructive && !first?.hasAttribute("autofocus")) {
    first = dialog.querySelector("[data-dialog-close]") || first;
  }
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

// A menu button (WAI-ARIA menu button pattern: "Add users ▾"). Without JavaScript it is a
// plain <details data-menu data-menu-button>; this makes it a button with a menu of
// menuitems: Enter, Space or ArrowDown open it on the first item, ArrowUp on the last;
// ArrowUp/ArrowDown move (wrapping), Home/End jump, a letter goes to the next item that
// starts with it, Escape closes it back onto the button (above), Tab closes it.
let menuButtons = 0;

function setUpMenuButton(menu) {
  if (menu.dataset.ready) return;
  menu.dataset.ready = "1";
  const button = menu.querySelector("summary");
  const list = menu.querySelector(".menu-items");
  const items = () => [...list.querySelectorAll("[role=menuitem]")];
  button.id ||= `menu-button-${++menuButtons}`;
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", String(menu.open));
  list.setAttribute("role", "menu");
  list.setAttribute("aria-labelledby", button.id);
  for (const item of list.querySelectorAll("a, button")) {
    item.setAttribute("role", "menuitem");
    item.tabIndex = -1; // reached with the arrow keys, not Tab
  }
  menu.addEventListener("toggle", () => button.setAttribute("aria-expanded", String(menu.open)));

  function openOn(index) {
    closeMenus(menu);
    menu.open = true;
    button.setAttribute("aria-expanded", "true");
    items().at(index)?.focus();
  }

  button.addEventListener("keydown", (event) => {
    if (!["Enter", " ", "ArrowDown", "ArrowUp"].includes(event.key)) return;
    event.preventDefault(); // no toggle by the <summary> itself
    if (menu.open && (event.key === "Enter" || event.key === " ")) menu.open = false;
    else openOn(event.key === "ArrowUp" ? -1 : 0);
  });
  button.addEventListener("keyup", (event) => {
    if (event.key === " ") event.preventDefault();
  });

  list.addEventListener("keydown", (event) => {
    const all = items();
    const at = all.indexOf(event.target.closest("[role=menuitem]"));
    if (at < 0) return;
    let next = null;
    if (event.key === "ArrowDown") next = all[(at + 1) % all.length];
    else if (event.key === "ArrowUp") next = all[(at - 1 + all.length) % all.length];
    else if (event.key === "Home" || event.key === "PageUp") next = all[0];
    else if (event.key === "End" || event.key === "PageDown") next = all.at(-1);
    else if (event.key === " ") {
      event.preventDefault(); // Space activates a menuitem, as Enter does
      all[at].click();
    } else if (event.key === "Tab") {
      setTimeout(() => (menu.open = false)); // once the focus has moved on
    } else if (event.key.length === 1 && /\S/.test(event.key)) {
      const letter = event.key.toLowerCase();
      const starts = (item) => item.textContent.trim().toLowerCase().startsWith(letter);
      next = [...all.slice(at + 1), ...all.slice(0, at)].find(starts) || null;
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
}

function setUpMenuButtons(root) {
  for (const menu of root.querySelectorAll("details[data-menu-button]")) setUpMenuButton(menu);
}

setUpMenuButtons(document);
document.addEventListener("htmx:load", (event) => setUpMenuButtons(event.detail.elt.parentElement || document));

// Escape in Add moderators / Add collaborators with people already picked asks before
// dropping them: a question inside the dialog (window.confirm would be a second modal,
// with the browser's wording), on "Keep editing". Escape again keeps editing; with nothing
// picked, Escape closes the dialog as it always has. The Cancel button does not ask: it
// says what it does.
const discardQuestions = new WeakMap(); // dialog → its question, while it asks

/** Say what would be discarded: "the 2 people and 1 group", "the person". */
function pickedPhrase(keys) {
  const people = keys.filter((key) => key.startsWith("user:")).length;
  const groups = keys.length - people;
  if (keys.length === 1) return people ? "the person" : "the group";
  const parts = [];
  if (people) parts.push(`${people} ${people === 1 ? "person" : "people"}`);
  if (groups) parts.push(`${groups} group${groups === 1 ? "" : "s"}`);
  return `the ${parts.join(" and ")}`;
}

/** Ask before a dialog drops the people and groups picked in it; false if none are. */
function askBeforeDiscarding(dialog) {
  if (discardQuestions.has(dialog)) return true;
  const keys = [...dialog.querySelectorAll("[data-chips] [data-key]")].map((chip) => chip.dataset.key);
  const form = dialog.querySelector("form");
  if (!keys.length || !form) return false;
  const question = document.createElement("div");
  question.className = "notice";
  question.dataset.discardQuestion = "";
  question.setAttribute("role", "group");
  question.setAttribute("aria-labelledby", "discard-question-text");
  const text = document.createElement("p");
  text.id = "discard-question-text";
  text.textContent = `Discard ${pickedPhrase(keys)} you picked?`;
  const actions = document.createElement("div");
  actions.className = "form-actions";
  const keep = document.createElement("button");
  keep.type = "button";
  keep.className = "button";
  keep.textContent = "Keep editing";
  keep.addEventListener("click", () => keepEditing(dialog));
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "button button-danger";
  discard.textContent = "Discard";
  discard.addEventListener("click", () => dialog.close());
  actions.append(keep, discard);
  question.append(text, actions);
  form.inert = true; // the question needs an answer first
  dialog.append(question);
  discardQuestions.set(dialog, question);
  keep.focus();
  return true;
}

function keepEditing(dialog) {
  discardQuestions.get(dialog)?.remove();
  discardQuestions.delete(dialog);
  const form = dialog.querySelector("form");
  form.inert = false;
  form.querySelector("[data-combobox-input]")?.focus();
}

// Escape, before the dialog turns it into a "cancel" (a keydown handled here, as the
// combobox does with its suggestions, never closes the dialog).
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const dialog = document.querySelector("dialog[data-dialog]:modal");
  if (!dialog?.querySelector("[data-chips]")) return;
  if (discardQuestions.has(dialog)) {
    event.preventDefault();
    keepEditing(dialog);
  } else if (askBeforeDiscarding(dialog)) event.preventDefault();
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
});

document.body.addEventListener("ms:close-dialog", closeDialog);

// A form sent back with errors (status 200: htmx does not swap 4xx) — the Details tab,
// Add users, Edit permissions — comes back without the focus: it goes to the first field
// with a problem, whose error the field describes. With only a form-wide error (announced
// as an alert), to the form's first field.
document.addEventListener("htmx:afterSwap", (event) => {
  const source = event.detail.requestConfig?.elt;
  if (event.detail.requestConfig?.verb !== "post" || !source?.closest?.("form")) return;
  const root = event.target; // the new content (an outerHTML swap's target is gone)
  const invalid =
    root.querySelector?.("[aria-invalid='true']") ||
    root.querySelector?.(".field-invalid :is(input:not([type=hidden]), select, textarea)");
  if (invalid) invalid.focus();
  else if (root.matches?.("form") && root.querySelector(".form-error")) {
    root.querySelector("input:not([type=hidden]), select, textarea")?.focus();
  }
});

// Rows replaced or taken away under the focus. A change answers with the rows it touched,
// swapped out of band (edit_roles.html#roles-changed, my_media.html#media-row-gone), or
// with the row itself (a publishing status): the focused control, or the open dialog's
// opener, may be in one of them. The focus goes to the same control in the new row (or
// its first action); when the row is gone, to the next row's first action, else the
// previous row's, else the list's heading.
let rowFocus = null;

/** Return what tells a row's control from the others, to find it in the row's new copy. */
function controlKey(control) {
  return control.getAttribute("href") || control.getAttribute("aria-label") || control.textContent.trim();
}

function noteRowFocus(target) {
  const focused = dialogOpener?.isConnected ? dialogOpener : document.activeElement;
  if (!target?.matches?.("tr[id]") || !focused || !target.contains(focused)) return;
  if (!rowFocus) queueMicrotask(restoreRowFocus); // once the whole answer is swapped in
  rowFocus = {
    rowId: target.id,
    key: controlKey(focused),
    wasOpener: focused === dialogOpener,
    instead: focusAfterRow(target),
  };
}

function restoreRowFocus() {
  const place = rowFocus;
  rowFocus = null;
  if (!place) return;
  const row = document.getElementById(place.rowId);
  const next = row
    ? controlsOf(row).find((control) => controlKey(control) === place.key) || rowAction(row) || row
    : place.instead?.isConnected
      ? place.instead
      : document.querySelector("main h1");
  if (place.wasOpener) dialogOpener = next; // the dialog's close handler focuses it
  // Unless the focus is somewhere else by now (a closed dialog is not somewhere).
  const active = document.activeElement;
  const lost = !active || active === document.body || !active.checkVisibility();
  if (lost && !document.querySelector("dialog:modal")) focusElement(next);
}

document.addEventListener("htmx:oobBeforeSwap", (event) => noteRowFocus(event.detail.target));
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.shouldSwap) noteRowFocus(event.detail.target);
});

// Load more (My Media, the Roles tab): the rows arrive at the end of the table and the
// link that asked for them is replaced. The focus goes to the first new row (its first
// control other than a disclosure such as "Where access comes from", or the row itself). The table is busy meanwhile, so that screen readers do not
// read out every row as it lands; the focus move says where the reader is.
let loadingMore = null;

document.addEventListener("htmx:beforeRequest", (event) => {
  const table = event.detail.target;
  if (!event.detail.elt.matches?.("[data-load-more]") || !table?.matches?.("table")) return;
  loadingMore = { table, rows: table.rows.length };
  table.setAttribute("aria-busy", "true");
});

document.addEventListener("htmx:afterSwap", (event) => {
  if (!loadingMore || event.detail.target !== loadingMore.table) return;
  const { table, rows } = loadingMore;
  loadingMore = null;
  table.removeAttribute("aria-busy");
  const first = table.rows[rows];
  if (first) focusElement(controlsOf(first).find((control) => !control.matches("summary")) || first);
  else focusElement(document.querySelector("[data-load-more]") || listHeading(table));
});

for (const failed of ["htmx:responseError", "htmx:sendError", "htmx:swapError"]) {
  document.addEventListener(failed, () => {
    loadingMore?.table.removeAttribute("aria-busy");
    loadingMore = null;
  });
}

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
    if (option.getAttribute("aria-disabled") === "true") return;
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
      if (result.unavailable) {
        // The owner: listed so that a search for them finds them, but not to be chosen.
        option.setAttribute("aria-disabled", "true");
        option.classList.add("option-unavailable");
        const why = document.createElement("span");
        why.className = "option-holds";
        why.textContent = result.unavailable;
        option.append(why);
      } else if (result.holds.length) {
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
    const choosable = fresh.filter((result) => !result.unavailable);
    const unavailable = fresh.filter((result) => result.unavailable);
    status.textContent = choosable.length
      ? `${choosable.length} suggestion${choosable.length === 1 ? "" : "s"}. Use the up and down arrows to choose.`
      : unavailable.length
        ? `${unavailable[0].label}: ${unavailable[0].unavailable}.`
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
      const first = all.find((option) => option.getAttribute("aria-disabled") !== "true");
      if (open && all.length) {
        const picked = active >= 0 ? all[active] : first;
        if (picked) choose(picked);
      }
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

// Menus near the page end open upward ------------------------------------------------------
// A <details data-menu> that would run past the bottom of the screen opens above its button
// when there is more room there; app.css places a .menu-up menu's items.
document.addEventListener(
  "toggle",
  (event) => {
    const menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.matches("[data-menu]")) return;
    menu.classList.remove("menu-up");
    const items = menu.querySelector(":scope > .menu-items");
    if (!menu.open || !items) return;
    const button = menu.querySelector(":scope > summary").getBoundingClientRect();
    const below = document.documentElement.clientHeight - button.bottom;
    if (items.offsetHeight + 8 > below && button.top > below) menu.classList.add("menu-up");
  },
  true, // toggle does not bubble
);
