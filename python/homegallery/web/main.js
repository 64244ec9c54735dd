// The app: settings and login, the address bar (#/?q=… and #/map?q=…), search,
// the grid, the detail view, the map, selection and live updates.

import { ApiError, EntryPages, api } from "./api.js";
import { chip, term } from "./chips.js";
import { DetailView } from "./detail.js";
import { Grid, groupLabel } from "./grid.js";
import { MapView } from "./map.js";

const $ = (id) => document.getElementById(id);
const FIRST_PAGE = 200; // entries per page: a 4K screen of small tiles

const state = {
  settings: null,
  query: "",
  view: "grid",
  timeline: null,
  pages: null,
  version: -1,
  loadedQuery: null,
};

let grid;
let detail;
let mapView;

// --- small pieces of UI -----------------------------------------------------------------

function toast(message, seconds = 3) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, seconds * 1000);
}

function showQueryError(query, error) {
  const box = $("query-error");
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    $("query").removeAttribute("aria-invalid");
    return;
  }
  const column = Math.max(1, Math.min(query.length + 1, (error.extra && error.extra.column) || 1));
  const code = document.createElement("code");
  code.append(query.slice(0, column - 1));
  const mark = document.createElement("mark");
  mark.textContent = query.slice(column - 1, column) || " ";
  code.append(mark, query.slice(column));
  const message = document.createElement("span");
  message.textContent = `Column ${column}: ${error.message}`;
  box.replaceChildren(message, code);
  box.hidden = false;
  $("query").setAttribute("aria-invalid", "true");
}

function updateUserButton() {
  const button = $("user-button");
  const settings = state.settings;
  button.hidden = !settings.loginEnabled;
  button.textContent = settings.user ? `${settings.user} · Log out` : "Log in";
  $("select-button").hidden = !settings.canEdit;
}

// --- address bar --------------------------------------------------------------------------

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, search] = hash.split("?");
  const params = new URLSearchParams(search || "");
  return { view: path === "/map" ? "map" : "grid", query: params.get("q") || "" };
}

function hashFor(view, query) {
  const q = query ? `?q=${encodeURIComponent(query)}` : "";
  return `#/${view === "map" ? "map" : ""}${q}`;
}

export function search(query) {
  const target = hashFor(state.view, query.trim());
  if (location.hash === target) route();
  else location.hash = target;
}

// --- loading ------------------------------------------------------------------------------

// Requests made before the settings are known, so that the first screen needs one
// round trip less (a login-only gallery answers them with 401, which is handled).
const early = { query: parseHash().query, timeline: null, entries: null };
if (parseHash().view === "grid") {
  early.timeline = api.timeline(early.query);
  early.entries = api.entries(early.query, 0, FIRST_PAGE);
  early.timeline.catch(() => {});
  early.entries.catch(() => {});
}

// Answers made for the viewer of the page load; a login or logout changes the viewer.
function dropEarly() {
  early.timeline = null;
  early.entries = null;
}

function takeEarly(query) {
  if (!early.timeline || early.query !== query) return null;
  const taken = { timeline: early.timeline, entries: early.entries };
  early.timeline = null;
  return taken;
}

async function loadTimeline({ keepScroll = false } = {}) {
  const query = state.query;
  const prefetched = keepScroll ? null : takeEarly(query);
  const firstPage = prefetched ? prefetched.entries : api.entries(query, 0, FIRST_PAGE);
  firstPage.catch(() => {});
  let timeline;
  try {
    timeline = await (prefetched ? prefetched.timeline : api.timeline(query));
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      showQueryError(query, error);
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      showLogin();
      return;
    }
    $("status").hidden = false;
    $("status").textContent = error.message;
    return;
  }
  if (query !== state.query) return;
  showQueryError(query, null);
  state.timeline = timeline;
  state.version = Math.max(state.version, timeline.version);
  const pages = new EntryPages(query, timeline.total, FIRST_PAGE, firstPage);
  if (keepScroll) {
    // A live refresh swaps the result under the viewer's eyes: fetch what is on screen
    // first, so the tiles change in place instead of going blank for a round trip.
    try {
      await pages.loadRange(grid.renderedRange());
    } catch (error) {
      // the grid asks again, tile by tile, and shows the error if it persists
    }
    if (query !== state.query) return;
  }
  state.pages = pages;
  state.loadedQuery = query;
  grid.setResult(timeline, state.pages, { keepScroll });
  document.title = query ? `${query} · Gallery` : "Gallery";
  $("timeline").dataset.total = String(timeline.total);
  $("timeline").dataset.version = String(timeline.version);
  // Menus and suggestions wait until the first tiles are on their way.
  setTimeout(() => {
    buildYearsMenu();
    loadChips();
  }, 150);
}

async function loadChips() {
  const box = $("chips");
  const query = state.query;
  let tags = [];
  try {
    tags = (await api.tags(query, 14)).tags;
  } catch (error) {
    tags = [];
  }
  if (query !== state.query) return;
  box.replaceChildren();
  if (query) box.append(chip("✕ Clear search", "", search, "clear"));
  box.append(chip("Videos", "type:video", search));
  for (const { tag, count } of tags) {
    const button = chip(tag, query ? `${query} ${term("tag", tag)}` : term("tag", tag), search);
    button.append(Object.assign(document.createElement("small"), { textContent: ` ${count}` }));
    box.append(button);
  }
}

function buildYearsMenu() {
  const menu = $("years-menu");
  menu.replaceChildren();
  const years = new Map();
  state.timeline.groups.forEach((group, number) => {
    const [year] = group;
    if (!years.has(year)) years.set(year, []);
    years.get(year).push({ group, number });
  });
  for (const [year, months] of years) {
    const row = document.createElement("div");
    row.className = "year-row";
    const yearButton = document.createElement("button");
    yearButton.type = "button";
    yearButton.className = "year";
    yearButton.setAttribute("role", "menuitem");
    yearButton.textContent = year ? String(year) : "Unknown";
    yearButton.addEventListener("click", () => jumpTo(months[0].number));
    row.append(yearButton);
    for (const { group, number } of months) {
      if (!group[1]) continue;
      const month = document.createElement("button");
      month.type = "button";
      month.className = "month";
      month.textContent = groupLabel(group).slice(0, 3);
      month.title = `${groupLabel(group)}: ${group[2]}`;
      month.addEventListener("click", () => jumpTo(number));
      row.append(month);
    }
    menu.append(row);
  }
}

function jumpTo(groupNumber) {
  toggleYears(false);
  if (state.view !== "grid") location.hash = hashFor("grid", state.query);
  grid.scrollToGroup(groupNumber);
}

function toggleYears(open) {
  const menu = $("years-menu");
  const show = open === undefined ? menu.hidden : open;
  menu.hidden = !show;
  $("years-button").setAttribute("aria-expanded", String(show));
  if (show) {
    const first = menu.querySelector("button");
    if (first) first.focus();
  }
}

async function showMap() {
  $("timeline").hidden = true;
  $("map-view").hidden = false;
  try {
    const places = await api.places(state.query);
    await mapView.show(places.points, state.settings.tileUrl, (id) => `files/${id}/image-preview-128.jpg`);
    $("map-view").dataset.points = String(places.points.length);
    if (!places.points.length) toast("No places among these photos");
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showQueryError(state.query, error);
    else toast(error.message);
  }
}

async function route() {
  const { view, query } = parseHash();
  state.view = view;
  state.query = query;
  $("query").value = query;
  $("map-link").textContent = view === "map" ? "Grid" : "Map";
  $("map-link").href = hashFor(view === "map" ? "grid" : "map", query);
  if (view === "map") {
    loadChips();
    await showMap();
    return;
  }
  $("map-view").hidden = true;
  $("timeline").hidden = false;
  if (query !== state.loadedQuery) {
    grid.setSelectMode(false);
    await loadTimeline();
  } else {
    grid.relayout();
  }
}

// --- selection ----------------------------------------------------------------------------

function selectionChanged() {
  const count = grid.selected.size;
  $("selection-bar").hidden = !grid.selectMode;
  $("selection-count").textContent = `${count} selected`;
  $("select-button").setAttribute("aria-pressed", String(grid.selectMode));
  document.body.classList.toggle("selecting", grid.selectMode);
}

async function tagSelection(event) {
  event.preventDefault();
  const action = event.submitter ? event.submitter.value : "add";
  const tag = $("selection-tag").value.trim();
  const ids = [...grid.selected];
  if (!tag || !ids.length) {
    toast(ids.length ? "Type a tag first" : "Select photos first");
    return;
  }
  try {
    const result = await api.changeTags(ids, action === "add" ? [tag] : [], action === "remove" ? [tag] : []);
    toast(`${action === "add" ? "Tagged" : "Untagged"} ${result.changed} ${result.changed === 1 ? "item" : "items"}: ${tag}`);
    $("selection-tag").value = "";
    grid.setSelectMode(false);
    refresh();
  } catch (error) {
    toast(error.message, 5);
  }
}

// --- live updates -------------------------------------------------------------------------

let refreshTimer = 0;

function refresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    if (state.view === "map") showMap();
    else loadTimeline({ keepScroll: true });
  }, 250);
}

function listen() {
  const source = new EventSource("api/live");
  source.addEventListener("catalog", (event) => {
    const version = Number(event.data);
    if (state.version >= 0 && version !== state.version) {
      state.version = version;
      refresh();
    } else {
      state.version = version;
    }
  });
}

// --- login --------------------------------------------------------------------------------

function showLogin(canCancel = false) {
  $("login").hidden = false;
  $("login-cancel").hidden = !canCancel;
  $("login-error").hidden = true;
  $("login-form").elements.username.focus();
}

async function submitLogin(event) {
  event.preventDefault();
  const form = event.target;
  try {
    state.settings = await api.login(form.elements.username.value, form.elements.password.value);
  } catch (error) {
    $("login-error").textContent = error.message;
    $("login-error").hidden = false;
    return;
  }
  form.reset();
  dropEarly();
  $("login").hidden = true;
  updateUserButton();
  state.loadedQuery = null;
  start();
}

async function userButton() {
  if (state.settings.user) {
    state.settings = await api.logout();
    dropEarly();
    updateUserButton();
    if (state.settings.loginRequired) {
      grid.setResult({ total: 0, ratios: [], groups: [], version: 0 }, new EntryPages("", 0));
      showLogin();
    } else {
      state.loadedQuery = null;
      route();
    }
  } else {
    showLogin(true);
  }
}

// --- keys ---------------------------------------------------------------------------------

function globalKeys(event) {
  if (detail.isOpen || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest("input, textarea, select");
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const keys = {
    "/": () => $("query").focus(),
    m: () => { location.hash = hashFor(state.view === "map" ? "grid" : "map", state.query); },
    y: () => toggleYears(),
    s: () => { if (state.settings.canEdit) grid.setSelectMode(!grid.selectMode); },
    Escape: () => {
      if (!$("years-menu").hidden) toggleYears(false);
      else if (grid.selectMode) grid.setSelectMode(false);
    },
  };
  const action = keys[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
}

// --- start --------------------------------------------------------------------------------

let started = false;

function start() {
  if (!started) {
    started = true;
    window.addEventListener("hashchange", route);
    listen();
  }
  route();
}

async function init() {
  grid = new Grid({
    scroller: $("timeline"),
    grid: $("grid"),
    scrubber: $("scrubber"),
    scrubberLabel: $("scrubber-label"),
    status: $("status"),
    onOpen: (index) => detail.open(state.pages, index),
    onSelectionChange: selectionChanged,
  });
  detail = new DetailView($("detail"), {
    onClose: (index) => {
      if (index >= 0 && state.view === "grid") grid.focusTile(index);
    },
    onSearch: search,
    getSettings: () => state.settings,
    onTagsChanged: () => refresh(),
  });
  mapView = new MapView($("map-view"), (id) => detail.openId(id));
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    $("query").blur();
    search($("query").value);
  });
  $("query").addEventListener("input", () => showQueryError("", null));
  $("years-button").addEventListener("click", () => toggleYears());
  $("select-button").addEventListener("click", () => grid.setSelectMode(!grid.selectMode));
  $("selection-form").addEventListener("submit", tagSelection);
  $("selection-clear").addEventListener("click", () => grid.setSelectMode(false));
  $("user-button").addEventListener("click", userButton);
  $("login-form").addEventListener("submit", submitLogin);
  $("login-cancel").addEventListener("click", () => { $("login").hidden = true; });
  document.addEventListener("keydown", globalKeys);
  document.addEventListener("click", (event) => {
    if (!$("years-menu").hidden && !event.target.closest("#years-menu, #years-button")) toggleYears(false);
  });
  try {
    state.settings = await api.settings();
  } catch (error) {
    $("status").textContent = error.message;
    return;
  }
  updateUserButton();
  if (state.settings.loginRequired) {
    dropEarly();
    showLogin();
  } else start();
}

init();
