// A basic accessibility check of the rendered page (tests/test_console_browser.py):
// WCAG AA contrast of visible text, labelled inputs, named buttons, named SVG charts.
(() => {
  const problems = [];
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll("body *")) {
    const text = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || !el.getClientRects().length || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    const fg = parse(style.color).slice(0, 3), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5) && !el.matches(":disabled")) problems.push("contrast " + ratio.toFixed(2) + ": " + el.textContent.trim().slice(0, 30));
  }
  for (const input of document.querySelectorAll("input, select, textarea"))
    if (!input.labels || !input.labels.length) problems.push("no label: " + input.id);
  for (const b of document.querySelectorAll("button"))
    if (!b.textContent.trim() && !b.getAttribute("aria-label")) problems.push("unnamed button");
  for (const s of document.querySelectorAll("svg"))
    if (s.getAttribute("role") !== "img" || !s.getAttribute("aria-labelledby")) problems.push("svg without role/name");
  return problems;
})
