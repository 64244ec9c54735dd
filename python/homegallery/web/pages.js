// Pages that are lists rather than grids: years with their months, every tag.
// Links are plain relative links (the router follows them without a reload), so each
// item can be opened in a new tab too.

import { api } from "./api.js";
import { term } from "./chips.js";
import { groupLabel } from "./grid.js";
import { hrefOf } from "./router.js";

const TAGS_SHOWN = 400; // tags on screen at once; typing narrows the rest

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function link(route, text, className = "") {
  const anchor = element("a", className, text);
  anchor.href = hrefOf(route);
  return anchor;
}

function countLabel(count) {
  return element("small", "count", count.toLocaleString());
}

export async function renderYears(page) {
  const timeline = await api.timeline("");
  const years = new Map();
  for (const group of timeline.groups) {
    const [year, , count] = group;
    if (!years.has(year)) years.set(year, { count: 0, months: [] });
    const entry = years.get(year);
    entry.count += count;
    if (group[1]) entry.months.push(group);
  }
  const list = element("div", "years-page");
  for (const [year, { count, months }] of years) {
    const row = element("section", "year-block");
    const heading = element("h2");
    const name = year ? String(year) : "Date unknown";
    const target = year ? { name: "year", year: String(year) } : { name: "search", query: "not exists date" };
    const anchor = link(target, name, "year-link");
    anchor.append(" ", countLabel(count));
    heading.append(anchor);
    row.append(heading);
    const monthRow = element("div", "month-row");
    for (const group of [...months].reverse()) {
      const month = link({ name: "search", query: `year:${group[0]} month:${group[1]}` }, groupLabel(group).split(" ")[0], "month-link");
      month.append(" ", countLabel(group[2]));
      monthRow.append(month);
    }
    if (monthRow.childElementCount) row.append(monthRow);
    list.append(row);
  }
  if (!years.size) list.append(element("p", "muted", "Nothing here yet"));
  page.replaceChildren(element("h1", "page-title", "Years"), list);
  page.dataset.years = String(years.size);
}

export async function renderTags(page) {
  const { tags } = await api.tags("", 5000);
  const own = tags.filter(({ tag }) => !tag.startsWith("album:"));
  const input = element("input", "tag-filter");
  input.type = "search";
  input.placeholder = "Filter tags";
  input.setAttribute("aria-label", "Filter tags");
  const sortButton = element("button", "secondary", "A–Z");
  sortButton.type = "button";
  sortButton.title = "Sort by name or by count";
  const list = element("div", "tag-cloud");
  const more = element("p", "muted");
  const max = Math.max(1, ...own.map(({ count }) => count));
  let byName = false;
  const draw = () => {
    const text = input.value.trim().toLowerCase();
    let shown = text ? own.filter(({ tag }) => tag.includes(text)) : own;
    if (byName) shown = [...shown].sort((a, b) => a.tag.localeCompare(b.tag));
    list.replaceChildren();
    for (const { tag, count } of shown.slice(0, TAGS_SHOWN)) {
      const anchor = link({ name: "search", query: term("tag", tag) }, tag, "tag-link");
      anchor.style.fontSize = `${(0.85 + 0.8 * Math.log1p(count) / Math.log1p(max)).toFixed(2)}em`;
      anchor.append(" ", countLabel(count));
      list.append(anchor);
    }
    more.textContent = shown.length > TAGS_SHOWN ? `${shown.length - TAGS_SHOWN} more: type to narrow` : "";
    if (!shown.length) more.textContent = own.length ? "No tag matches" : "No tags yet";
    page.dataset.tags = String(Math.min(shown.length, TAGS_SHOWN));
  };
  input.addEventListener("input", draw);
  sortButton.addEventListener("click", () => {
    byName = !byName;
    sortButton.textContent = byName ? "By count" : "A–Z";
    draw();
  });
  const tools = element("div", "page-tools");
  tools.append(input, sortButton);
  page.replaceChildren(element("h1", "page-title", "Tags"), tools, list, more);
  draw();
}

export function renderNotFound(page, message) {
  page.replaceChildren(element("h1", "page-title", "Not found"), element("p", "muted", message),
    link({ name: "all" }, "All photos and videos"));
}
