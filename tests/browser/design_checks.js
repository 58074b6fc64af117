// Design measurements for the browser tests (design_checks.py calls them by name).
window.__xiDesign = (() => {
  // A short CSS path for an element, for failure messages.
  const describe = (element) => {
    const parts = [];
    for (let node = element; node && parts.length < 4; node = node.parentElement) {
      const classes = [...node.classList]
        .filter((name) => name.startsWith("xi-") || name.startsWith("widget-"));
      const suffix = classes.length ? "." + classes.slice(0, 2).join(".") : "";
      parts.unshift(node.tagName.toLowerCase() + suffix);
      if (node.matches(".xi-root")) break;
    }
    const text = (element.innerText || element.value || "").trim().slice(0, 30);
    return parts.join(" > ") + (text ? ` "${text}"` : "");
  };
  const visible = (element) => element.getClientRects().length > 0
    && getComputedStyle(element).visibility !== "hidden";

  // Elements wider than their box (scrollWidth > clientWidth), or reaching outside the root.
  // A cut-off text that says so is allowed: an ellipsis and the whole value as a tooltip.
  function overflowing(rootSelector) {
    const offenders = [];
    for (const root of document.querySelectorAll(rootSelector)) {
      const edge = root.getBoundingClientRect();
      for (const element of [root, ...root.querySelectorAll("*")]) {
        // noUiSlider's positioning boxes: a slider's handle straddles its origin by design.
        if (!visible(element) || element.closest(".noUi-base")) continue;
        const style = getComputedStyle(element);
        const toldTruncation = style.textOverflow === "ellipsis" && element.closest("[title]");
        if (element.scrollWidth > element.clientWidth + 1 && !toldTruncation) {
          offenders.push(`${describe(element)}: scrollWidth ${element.scrollWidth}`
            + ` > clientWidth ${element.clientWidth}`);
        }
        const box = element.getBoundingClientRect();
        if (box.width > 0 && (box.right > edge.right + 1 || box.left < edge.left - 1)) {
          offenders.push(`${describe(element)}: spans ${Math.round(box.left)}`
            + `–${Math.round(box.right)} outside ${Math.round(edge.left)}–${Math.round(edge.right)}`);
        }
      }
    }
    return offenders;
  }

  const parse = (value) => {
    const match = value.match(/rgba?\(([^)]+)\)/);
    if (!match) return null;
    const [r, g, b, a] = match[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const over = (top, bottom) => {
    const alpha = top[3] + bottom[3] * (1 - top[3]);
    if (alpha === 0) return [0, 0, 0, 0];
    const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / alpha;
    return [mix(0), mix(1), mix(2), alpha];
  };
  const luminance = ([r, g, b]) => {
    const linear = (v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  };
  // The backgrounds up the tree, composited until one is opaque (white below the page).
  const backgroundOf = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const layer = parse(getComputedStyle(node).backgroundColor);
      if (layer && layer[3] > 0) layers.push(layer);
      if (layer && layer[3] >= 1) break;
    }
    let color = [255, 255, 255, 1];
    for (const layer of layers.reverse()) color = over(layer, color);
    return color;
  };
  const opacityOf = (element) => {
    let opacity = 1;
    for (let node = element; node; node = node.parentElement) {
      opacity *= Number(getComputedStyle(node).opacity);
    }
    return opacity;
  };
  const ownText = (element) => {
    if (["INPUT", "SELECT", "TEXTAREA"].includes(element.tagName)) {
      return (element.value || "").trim();
    }
    return [...element.childNodes].filter((node) => node.nodeType === 3)
      .map((node) => node.textContent).join("").trim();
  };

  // WCAG 2 contrast of every visible, enabled text element: its computed colour (times the
  // opacity of it and its ancestors) over its composited background. Disabled controls are left
  // out: WCAG 1.4.3 exempts inactive components.
  function textContrasts(rootSelector) {
    const measured = [];
    for (const root of document.querySelectorAll(rootSelector)) {
      for (const element of root.querySelectorAll("*")) {
        if (!visible(element) || !ownText(element)) continue;
        if (element.closest(":disabled, [aria-disabled='true'], .mod-disabled")) continue;
        const background = backgroundOf(element);
        const text = parse(getComputedStyle(element).color);
        const shown = over([text[0], text[1], text[2], text[3] * opacityOf(element)], background);
        const [light, dark] = [luminance(shown), luminance(background)].sort((a, b) => b - a);
        measured.push({ element: describe(element), ratio: (light + 0.05) / (dark + 0.05) });
      }
    }
    return measured;
  }

  // The accessible name as Chromium computes it, for the sources our controls use.
  const nameOf = (control) => {
    const labelledBy = control.getAttribute("aria-labelledby");
    if (labelledBy) {
      return labelledBy.split(" ")
        .map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    }
    const label = (control.getAttribute("aria-label") || "").trim();
    if (label) return label;
    const labelText = [...(control.labels || [])].map((l) => l.textContent).join(" ").trim();
    if (labelText) return labelText;
    if (["BUTTON", "A"].includes(control.tagName) && control.textContent.trim()) {
      return control.textContent.trim();
    }
    return (control.title || control.placeholder || "").trim();
  };

  function controlNames(rootSelector, focusable) {
    const unnamed = [];
    const positive = [];
    for (const root of document.querySelectorAll(rootSelector)) {
      for (const control of root.querySelectorAll(focusable + ", [role='slider']")) {
        if (!visible(control)) continue;
        if (!nameOf(control)) unnamed.push(describe(control));
        if (control.tabIndex > 0) positive.push(describe(control));
      }
    }
    return { unnamed, positive };
  }

  function tabStops(rootSelector, focusable) {
    const root = document.querySelector(rootSelector);
    const stops = [...root.querySelectorAll(focusable)].filter((element) =>
      visible(element) && (element.tabIndex >= 0 || element.isContentEditable)
      && !element.disabled);
    window.__xiTabStops = stops;
    stops[0].focus();
    return stops.length;
  }

  return { overflowing, textContrasts, controlNames, tabStops };
})();
