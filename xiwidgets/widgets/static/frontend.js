// xiwidgets Frontend: the one small helper every xiwidgets widget carries (it draws nothing).
//
// It loads xiwidgets.css (anywidget keeps one <style> per widget class, so once per page),
// gives every control of its widget an accessible name, and in a Studio binds the keyboard:
// Ctrl/Cmd+Enter in the text box speaks, Esc stops. The keys are caught on the Studio's root
// in the capture phase, before ipywidgets' text box (which stops key events) and before the
// notebook's own Ctrl+Enter (run cell) and Esc (command mode) see them. A press on Speak or
// Stop is caught there too, and keeps the focus where it was (see bindStudioKeys).

const CONTROLS = "button, select, input, textarea, [role='slider'], [contenteditable='true']";

function nameOf(control) {
  if (control.getAttribute("aria-label")) return control.getAttribute("aria-label");
  if (control.id) {
    const label = document.querySelector(`label[for="${CSS.escape(control.id)}"]`);
    if (label && label.textContent.trim()) return label.textContent.trim();
  }
  if (control.title) return control.title;
  if (control.tagName === "BUTTON" && control.textContent.trim()) return control.textContent.trim();
  return "";
}

// The name a control's widget gives it: its description label, else its tooltip.
function widgetName(control) {
  const box = control.closest(".widget-inline-hbox, .widget-box, .jupyter-widgets");
  if (!box) return "";
  const label = box.querySelector(":scope > .widget-label, :scope > label");
  if (label && label.textContent.trim()) return label.textContent.trim();
  const titled = control.closest("[title]");
  if (titled && titled.title) return titled.title;
  if (control.placeholder) return control.placeholder;
  return "";
}

function nameControl(control) {
  if (nameOf(control)) return;
  const name = widgetName(control);
  if (name) control.setAttribute("aria-label", name);
}

function nameControls(root) {
  for (const control of root.querySelectorAll(CONTROLS)) nameControl(control);
}

function bindStudioKeys(root, model) {
  const onKey = (event) => {
    const inText = event.target.closest && event.target.closest(".xi-text");
    if (inText && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      // Send the box's text with the request: the last keystrokes may not have synced yet.
      model.send({ type: "speak", text: event.target.value });
      // The player gets ready for the take now, as it does for a click on Speak.
      root.dispatchEvent(new CustomEvent("xi-speak"));
    } else if (event.key === "Escape" && root.contains(event.target)) {
      event.preventDefault();
      event.stopPropagation();
      model.send({ type: "stop" });
    }
  };
  // A press on Speak or Stop keeps the focus where it was (the text box, typically: the user
  // goes on typing) and is not taken by the notebook as a click on its cell. The notebook's
  // cell activation restyles the whole document several times on every press, browser work
  // that shares the machine with the first clause's synthesis when the server is local.
  const keepFocus = (event) => {
    if (event.button === 0 && event.target.closest && event.target.closest(".xi-speak, .xi-stop")) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
  root.addEventListener("keydown", onKey, true);
  root.addEventListener("mousedown", keepFocus, true);
  return () => {
    root.removeEventListener("keydown", onKey, true);
    root.removeEventListener("mousedown", keepFocus, true);
  };
}

function render({ model, el }) {
  el.classList.add("xi-frontend");
  let unbind = () => {};
  let observer = null;
  let tries = 0;
  const attach = () => {
    const root = el.closest(".xi-root");
    if (!root) {
      // The parent box attaches this view after rendering it (a poll: frames are throttled
      // in a tab that is not shown).
      if (tries++ < 600) setTimeout(attach, 100);
      return;
    }
    nameControls(root);
    // Rows, pages and dropdowns are re-rendered later: name what appears too. Only elements
    // that appeared are looked at: text changes (a status line, a streaming take's state)
    // need no naming, and they come many times a second while a take plays.
    observer = new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) {
          if (node.nodeType !== Node.ELEMENT_NODE) continue;
          if (node.matches(CONTROLS)) nameControl(node);
          for (const control of node.querySelectorAll(CONTROLS)) nameControl(control);
        }
      }
    });
    observer.observe(root, { childList: true, subtree: true });
    if (model.get("bind_keys")) unbind = bindStudioKeys(root, model);
  };
  attach();
  return () => {
    unbind();
    if (observer) observer.disconnect();
  };
}

export default { render };
