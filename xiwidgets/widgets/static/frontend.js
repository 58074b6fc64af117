// xiwidgets Frontend: the one small helper every xiwidgets widget carries (it draws nothing).
//
// It loads xiwidgets.css (anywidget keeps one <style> per widget class, so once per page),
// gives every control of its widget an accessible name, and in a Studio binds the keyboard:
// Ctrl/Cmd+Enter in the text box speaks, Esc stops. The keys are caught on the Studio's root
// in the capture phase, before ipywidgets' text box (which stops key events) and before the
// notebook's own Ctrl+Enter (run cell) and Esc (command mode) see them.

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

function nameControls(root) {
  for (const control of root.querySelectorAll(CONTROLS)) {
    if (nameOf(control)) continue;
    const name = widgetName(control);
    if (name) control.setAttribute("aria-label", name);
  }
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
  root.addEventListener("keydown", onKey, true);
  return () => root.removeEventListener("keydown", onKey, true);
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
    // Rows, pages and dropdowns are re-rendered later: name what appears too.
    observer = new MutationObserver(() => nameControls(root));
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
