// UsageChart: one SVG bar per day (characters used), today's bar last and darker.
// The figure is an image to assistive technology, named by the model's `label`; each bar has
// a <title> (day and count) that shows as a tooltip.

const SVG = "http://www.w3.org/2000/svg";

function draw(model, el) {
  const days = model.get("days") || [];
  const counts = model.get("characters") || [];
  const svg = document.createElementNS(SVG, "svg");
  const width = Math.max(1, days.length) * 10;
  svg.setAttribute("viewBox", `0 0 ${width} 36`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", model.get("label"));
  const title = document.createElementNS(SVG, "title");
  title.textContent = model.get("label");
  svg.appendChild(title);
  const highest = Math.max(1, ...counts);
  days.forEach((day, i) => {
    const height = counts[i] ? Math.max(1.5, (counts[i] / highest) * 34) : 0;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(i * 10 + 1));
    bar.setAttribute("width", "8");
    bar.setAttribute("y", String(35 - height));
    bar.setAttribute("height", String(height));
    bar.setAttribute("class", i === days.length - 1 ? "xi-usage-bar xi-usage-today" : "xi-usage-bar");
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = `${day}: ${counts[i].toLocaleString()} characters`;
    bar.appendChild(tip);
    svg.appendChild(bar);
  });
  const axis = document.createElementNS(SVG, "line");
  axis.setAttribute("x1", "0");
  axis.setAttribute("x2", String(width));
  axis.setAttribute("y1", "35.5");
  axis.setAttribute("y2", "35.5");
  axis.setAttribute("class", "xi-usage-axis");
  svg.appendChild(axis);
  el.replaceChildren(svg);
}

function render({ model, el }) {
  el.classList.add("xi-usage-chart");
  const redraw = () => draw(model, el);
  model.on("change:days", redraw);
  model.on("change:characters", redraw);
  model.on("change:label", redraw);
  redraw();
}

export default { render };
