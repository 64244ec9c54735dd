// The app: settings and login, the addresses of its views (router.js), search, the
// grid, the detail view, the map, the pages, selection and live updates.

import { albumHeader, ALBUM_TAG, findAlbum, forgetAlbums, loadAlbums, renderAlbums } from "./albums.js";
import { ApiError, EntryPages, api, previewUrl } from "./api.js";
import { chip, term } from "./chips.js";
import { DetailView } from "./detail.js";
import { FolderTree } from "./folders.js";
import { Grid, groupLabel } from "./grid.js";
import { MapView } from "./map.js";
import { renderNotFound, renderTags, renderYears } from "./pages.js";
import { personHeader, renderPeople, renderSameFace } from "./people.js";
import { BASE, currentRoute, hrefOf, listQuery, routeForQuery, urlOf } from "./router.js";
import { askSharePassword, openShareDialog, renderShares } from "./shares.js";

const $ = (id) => document.getElementById(id);
const FIRST_PAGE = 200; // entries per page: a 4K screen of small tiles

const state = {
  settings: null,
  route: { name: "all" },
  query: "",
  view: "grid", // grid, map or page
  timeline: null,
  pages: null,
  version: -1,
  loadedQuery: null,
  hasVideos: null,
  album: null, // the album on screen
};

let grid;
let detail;
let mapView;
let folderTree;

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
  if (state.loadedQuery !== null && state.loadedQuery !== query) {
    const previous = document.createElement("span");
    previous.className = "still-showing";
    previous.textContent = state.loadedQuery
      ? `The grid still shows the previous result: ${state.loadedQuery}`
      : "The grid still shows the previous result: everything";
    box.append(previous);
  }
  box.hidden = false;
  $("query").setAttribute("aria-invalid", "true");
}

function updateUserButton() {
  const button = $("user-button");
  const settings = state.settings;
  const visitor = Boolean(settings.share);
  button.hidden = !settings.loginEnabled || visitor;
  button.textContent = settings.user ? `${settings.user} · Log out` : "Log in";
  $("select-button").hidden = !settings.canEdit;
  $("share-button").hidden = !settings.canShare;
  detailShareButton.hidden = !settings.canShare;
  $("shares-link").hidden = !settings.user;
  document.body.classList.toggle("visitor", visitor);
  if (visitor) {
    $("brand-name").textContent = settings.share.title || "Shared";
    $("query").placeholder = "Search within this link";
  }
}

// What Share would share here: the open photo, else the album or result on screen.
function shareTarget() {
  if (detail.isOpen && detail.entry) return { kind: "photo", target: detail.entry.id };
  if (state.view === "grid" && state.route.name === "albums" && state.album) {
    const album = state.album;
    return album.kind === "picked" ? { kind: "album", target: album.name } : { kind: "query", target: album.query };
  }
  if (state.view === "grid" && state.query) return { kind: "query", target: state.query };
  return null;
}

function share() {
  const target = shareTarget();
  if (!target) {
    toast("Search, or open a photo, to share it with a link");
    return;
  }
  openShareDialog(target);
}

const detailShareButton = Object.assign(document.createElement("button"), {
  type: "button", className: "share", textContent: "⇪", title: "Share with a link",
});
detailShareButton.setAttribute("aria-label", "Share with a link");
detailShareButton.hidden = true;

// --- addresses ----------------------------------------------------------------------------

// Goes to a view: a new history entry (or this one replaced), then shows it.
export function navigate(route, { replace = false, state: extra = {} } = {}) {
  rememberScroll();
  const url = urlOf(route);
  const data = { ...extra };
  if (replace) history.replaceState(data, "", url);
  else history.pushState(data, "", url);
  showRoute();
}

export function search(query) {
  const text = query.trim();
  navigate(text ? { name: "search", query: text } : { name: "all" });
}

// Where the grid was scrolled to, kept in this history entry for Back and reload.
function rememberScroll() {
  if (state.view !== "grid" || detail.isOpen || !state.timeline) return;
  history.replaceState({ ...history.state, scroll: grid.scroller.scrollTop }, "");
}

let scrollTimer = 0;
function scrolled() {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(rememberScroll, 300);
}

// Same-origin links inside the app move through history instead of loading the page.
function followLink(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const anchor = event.target.closest("a[href]");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const url = new URL(anchor.href, document.baseURI);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  if (url.pathname.startsWith(`${BASE}files/`) || url.pathname.startsWith(`${BASE}api/`)) return;
  event.preventDefault();
  rememberScroll();
  if (url.href !== location.href) history.pushState({}, "", url);
  showRoute();
}

// Addresses of the app before it had paths (#/?q=… and #/map?q=…) still open their view.
function upgradeOldAddress() {
  if (!location.hash.startsWith("#/")) return;
  const [path, search] = location.hash.slice(2).split("?");
  const query = new URLSearchParams(search || "").get("q") || "";
  const route = path === "map" ? { name: "map", query } : routeForQuery(query);
  history.replaceState({}, "", urlOf(route));
}

// --- loading ------------------------------------------------------------------------------

// Requests made before the settings are known, so that the first screen needs one
// round trip less (a login-only gallery answers them with 401, which is handled).
upgradeOldAddress();
const early = { query: listQuery(currentRoute()), timeline: null, entries: null };
if (early.query !== null && currentRoute().name !== "map") {
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
      return false;
    }
    if (error instanceof ApiError && error.status === 401) {
      showLogin();
      return false;
    }
    $("status").hidden = false;
    $("status").textContent = error.message;
    return false;
  }
  if (query !== state.query) return false;
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
    if (query !== state.query) return false;
  }
  state.pages = pages;
  state.loadedQuery = query;
  grid.setResult(timeline, state.pages, { keepScroll });
  $("timeline").dataset.total = String(timeline.total);
  $("timeline").dataset.version = String(timeline.version);
  $("timeline").dataset.query = query;
  // Menus and suggestions wait until the first tiles are on their way.
  setTimeout(() => {
    if (state.loadedQuery !== query) return;
    buildYearsMenu();
    loadChips();
  }, 150);
  return true;
}

async function videosExist() {
  if (state.hasVideos === null) {
    try {
      state.hasVideos = (await api.entries("type:video", 0, 1)).total > 0;
    } catch (error) {
      state.hasVideos = false;
    }
  }
  return state.hasVideos;
}

// "On this day": photos from today's date in earlier years, on the start page.
async function memories() {
  const today = new Date();
  const query = `month:${today.getMonth() + 1} day:${today.getDate()} year < ${today.getFullYear()}`;
  try {
    const page = await api.entries(query, 0, 4);
    if (!page.total) return null;
    const anchor = document.createElement("a");
    anchor.className = "chip memories";
    anchor.href = hrefOf({ name: "search", query });
    for (const entry of page.entries) {
      const url = previewUrl(entry, 64);
      if (!url) continue;
      const image = Object.assign(document.createElement("img"), { src: url, alt: "" });
      anchor.append(image);
    }
    anchor.append(` On this day · ${page.total}`);
    return anchor;
  } catch (error) {
    return null;
  }
}

async function loadChips() {
  const box = $("chips");
  const query = state.query;
  if (state.route.name === "albums" && state.album) {
    const bar = await albumHeader(state.album.name);
    if (state.query === query) box.replaceChildren(bar);
    return;
  }
  if (state.route.name === "person") {
    const bar = await personHeader(state.route.key);
    if (state.query === query) box.replaceChildren(bar);
    return;
  }
  const memory = state.route.name === "all" ? await memories() : null;
  let tags = [];
  try {
    tags = (await api.tags(query, 14)).tags;
  } catch (error) {
    tags = [];
  }
  const videos = await videosExist();
  if (query !== state.query) return;
  box.replaceChildren();
  if (memory) box.append(memory);
  if (query) box.append(chip("✕ Clear search", "", search, "clear"));
  if (videos && query !== "type:video") box.append(chip("Videos", "type:video", search));
  for (const { tag, count } of tags) {
    if (tag.startsWith(ALBUM_TAG)) continue;
    const button = chip(tag, query ? `${query} ${term("tag", tag)}` : term("tag", tag), search);
    button.append(Object.assign(document.createElement("small"), { textContent: ` ${count}` }));
    box.append(button);
  }
  box.dataset.query = query;
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
  if (state.view !== "grid") return;
  grid.scrollToGroup(groupNumber);
}

function toggleYears(open) {
  const menu = $("years-menu");
  const show = open === undefined ? menu.hidden : open;
  if (show && (state.view !== "grid" || !state.timeline)) return;
  menu.hidden = !show;
  if (show) {
    const first = menu.querySelector("button");
    if (first) first.focus();
  }
}

// --- views --------------------------------------------------------------------------------

function showSection(view, { tree = false } = {}) {
  state.view = view;
  $("folder-tree").hidden = !tree;
  document.body.classList.toggle("with-tree", tree);
  $("timeline").hidden = view !== "grid";
  $("map-view").hidden = view !== "map";
  $("page").hidden = view !== "page";
  $("chips").hidden = view === "page";
  document.body.dataset.view = view;
}

async function showGrid(query, { restoreScroll = null, tree = false } = {}) {
  showSection("grid", { tree });
  state.query = query;
  if (query !== state.loadedQuery) {
    if (!grid.selected.size) grid.setSelectMode(false);
    const loaded = await loadTimeline();
    if (loaded && restoreScroll !== null && state.query === query) {
      grid.scroller.scrollTop = restoreScroll;
      grid.render();
    }
  } else {
    grid.relayout();
    if (restoreScroll !== null) grid.scroller.scrollTop = restoreScroll;
  }
}

async function showMap(query, at) {
  showSection("map");
  state.query = query;
  try {
    const total = await mapView.show(
      (zoom, bounds) => api.placeClusters(query, zoom, bounds),
      state.settings.tileUrl,
      (id) => `files/${id}/image-preview-128.jpg`,
      at,
      (error) => toast(error.message),
    );
    $("map-view").dataset.points = String(total);
    if (!total) toast("No places among these photos");
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showQueryError(query, error);
    else toast(error.message);
  }
}

async function showPage(render) {
  showSection("page");
  const page = $("page");
  page.replaceChildren();
  page.scrollTop = 0;
  try {
    await render(page);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showLogin();
    else page.textContent = error.message;
  }
}

const TITLES = { years: "Years", tags: "Tags", map: "Map", folders: "Folders", albums: "Albums", shares: "Shared links", people: "People", person: "Person", sameface: "Same face" };

function titleOf(route, query) {
  if (route.name === "year") return `${route.year} · Gallery`;
  if (TITLES[route.name] && !(route.name === "folders" && route.path)) return `${TITLES[route.name]} · Gallery`;
  if (route.name === "folders") return `${route.path} · Gallery`;
  return query ? `${query} · Gallery` : "Gallery";
}

function markCurrentLink(route) {
  for (const anchor of document.querySelectorAll(".view-links a")) {
    const view = anchor.dataset.view;
    const current = view === route.name || (view === "years" && route.name === "year");
    if (current) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
}

// Shows the view the address names. Runs on every navigation, Back and Forward.
async function showRoute() {
  const route = currentRoute();
  state.route = route;
  toggleYears(false);
  $("view-links").classList.remove("open");
  markCurrentLink(route);
  const saved = history.state || {};
  const query = listQuery(route);
  $("query").value = route.name === "map" ? route.query : (query || "");
  showQueryError("", null);
  $("map-link").href = hrefOf({ name: "map", query: query || "" });
  document.title = titleOf(route, query);
  if (route.name !== "view" && detail.isOpen) {
    const index = detail.index;
    detail.hide();
    if (state.loadedQuery === query && index >= 0) grid.focusTile(index);
  }
  switch (route.name) {
    case "all":
    case "search":
    case "similar":
    case "year":
    case "person":
      await showGrid(query, { restoreScroll: saved.scroll ?? null });
      return;
    case "people":
      await showPage((page) => renderPeople(page, state.settings, toast));
      return;
    case "sameface":
      await showPage((page) => renderSameFace(page, route.id, route.index));
      return;
    case "folders":
      folderTree.reveal(route.path).catch((error) => toast(error.message));
      await showGrid(query, { restoreScroll: saved.scroll ?? null, tree: true });
      return;
    case "view":
      await showEntry(route, saved);
      return;
    case "map":
      await showMap(route.query, route.at);
      return;
    case "years":
      await showPage(renderYears);
      return;
    case "tags":
      await showPage(renderTags);
      return;
    case "shares":
      await showPage(renderShares);
      return;
    case "albums":
      await showAlbum(route, saved);
      return;
    default:
      await showPage((page) => renderNotFound(page, "This address names no view of the gallery."));
  }
}

async function showAlbum(route, saved) {
  state.album = null;
  if (!route.path) {
    await showPage(renderAlbums);
    return;
  }
  let album = null;
  try {
    album = await findAlbum(route.path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showLogin();
    else toast(error.message);
    return;
  }
  if (!album) {
    // a name path with albums below it, but no album of its own
    await showPage(async (page) => {
      const { albums } = await loadAlbums();
      const below = albums.filter((candidate) => candidate.name.startsWith(`${route.path}/`));
      if (!below.length) throw new Error(`There is no album ${route.path}`);
      page.replaceChildren(await albumHeader(route.path));
    });
    return;
  }
  state.album = album;
  $("query").value = album.query;
  $("map-link").href = hrefOf({ name: "map", query: album.query });
  document.title = `${album.name} · Gallery`;
  await showGrid(album.query, { restoreScroll: saved.scroll ?? null });
  if (state.loadedQuery === album.query) loadChips();
}

// A photo or video over the grid of the result it belongs to: from a tile, the index
// is known; after a reload or from a link, the server tells where it is in the result.
async function showEntry(route, saved) {
  const query = route.query;
  if (state.view !== "grid" || state.loadedQuery !== query) {
    state.query = query;
    showSection("grid");
    if (state.loadedQuery !== query) await loadTimeline();
  }
  if (detail.isOpen && detail.entry && detail.entry.id === route.id) return;
  if (state.pages && saved.index !== undefined) {
    const known = await state.pages.entryAt(saved.index).catch(() => null);
    if (known && known.id === route.id) {
      detail.open(state.pages, saved.index);
      return;
    }
  }
  let index = -1;
  try {
    index = (await api.position(route.id, query)).index;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      detail.hide();
      await showPage((page) => renderNotFound(page, "There is no such photo or video, or it is not yours to see."));
      return;
    }
  }
  if (index >= 0 && state.pages && state.loadedQuery === query) detail.open(state.pages, index);
  else detail.openId(route.id);
}

function openFromGrid(index) {
  const entry = state.pages.get(index);
  if (!entry) return;
  rememberScroll();
  history.pushState({ index, fromList: true }, "", urlOf({ name: "view", id: entry.id, query: state.query }));
  state.route = currentRoute();
  detail.open(state.pages, index);
}

function detailStepped(entry, index) {
  const route = currentRoute();
  if (route.name !== "view") return;
  history.replaceState({ ...history.state, index }, "", urlOf({ name: "view", id: entry.id, query: route.query }));
}

function detailClosed() {
  const route = currentRoute();
  if (route.name !== "view") {
    detail.hide();
    return;
  }
  if (history.state && history.state.fromList) history.back();
  else navigate(routeForQuery(route.query), { replace: true });
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
  const typed = $("selection-tag").value.trim();
  const tag = action === "album" && typed ? `${ALBUM_TAG}${typed.split("/").map((part) => part.trim()).filter(Boolean).join("/")}` : typed;
  const ids = [...grid.selected];
  if (!tag || !ids.length) {
    toast(ids.length ? "Type a tag first" : "Select photos first");
    return;
  }
  try {
    const adding = action !== "remove";
    const result = await api.changeTags(ids, adding ? [tag] : [], adding ? [] : [tag]);
    const items = `${result.changed} ${result.changed === 1 ? "item" : "items"}`;
    if (action === "album") {
      toast(`Added ${items} to the album ${typed}`);
      forgetAlbums();
    } else toast(`${adding ? "Tagged" : "Untagged"} ${items}: ${tag}`);
    $("selection-tag").value = "";
    // The selection stays until Done, so a second tag can go on the same photos.
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
    state.hasVideos = null;
    forgetAlbums();
    if (state.route.name === "folders") {
      folderTree.reset();
      folderTree.reveal(state.route.path).catch(() => {});
    }
    if (state.view === "map") showMap(state.query, "");
    else if (state.view === "grid") loadTimeline({ keepScroll: true });
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
  if (state.settings && state.settings.share) {
    if (!document.getElementById("unlock")) askSharePassword(unlocked);
    return;
  }
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
  state.hasVideos = null;
  start();
}

async function userButton() {
  if (state.settings.user) {
    state.settings = await api.logout();
    dropEarly();
    updateUserButton();
    state.loadedQuery = null;
    state.hasVideos = null;
    if (state.settings.loginRequired) {
      grid.setResult({ total: 0, ratios: [], groups: [], version: 0 }, new EntryPages("", 0));
      showLogin();
    } else {
      showRoute();
    }
  } else {
    showLogin(true);
  }
}

// --- keys ---------------------------------------------------------------------------------

function globalKeys(event) {
  if (event.defaultPrevented || detail.isOpen || event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest("input, textarea, select");
  if (typing) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  const keys = {
    "/": () => $("query").focus(),
    m: () => navigate(state.view === "map" ? routeForQuery(state.query) : { name: "map", query: state.query }),
    y: () => toggleYears(),
    s: () => { if (state.settings.canEdit) grid.setSelectMode(!grid.selectMode); },
    "?": () => detail.showHelp(),
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
    window.addEventListener("popstate", showRoute);
    listen();
  }
  showRoute();
}

async function init() {
  grid = new Grid({
    scroller: $("timeline"),
    grid: $("grid"),
    scrubber: $("scrubber"),
    scrubberLabel: $("scrubber-label"),
    status: $("status"),
    onOpen: openFromGrid,
    onSelectionChange: selectionChanged,
  });
  detail = new DetailView($("detail"), {
    onClose: detailClosed,
    onStep: detailStepped,
    onSearch: search,
    onNavigate: (route) => navigate(route),
    getQuery: () => currentRoute().query || "",
    getSettings: () => state.settings,
    onTagsChanged: () => refresh(),
  });
  folderTree = new FolderTree($("folder-tree"));
  mapView = new MapView($("map-view"), (id) => navigate({ name: "view", id, query: state.query }));
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    $("query").blur();
    search($("query").value);
  });
  $("query").addEventListener("input", () => showQueryError("", null));
  $("timeline").addEventListener("scroll", scrolled, { passive: true });
  $("select-button").addEventListener("click", () => grid.setSelectMode(!grid.selectMode));
  $("selection-form").addEventListener("submit", tagSelection);
  $("selection-clear").addEventListener("click", () => grid.setSelectMode(false));
  $("user-button").addEventListener("click", userButton);
  $("share-button").addEventListener("click", share);
  detailShareButton.addEventListener("click", share);
  detail.addControl(detailShareButton);
  $("menu-button").addEventListener("click", () => $("view-links").classList.toggle("open"));
  $("login-form").addEventListener("submit", submitLogin);
  $("login-cancel").addEventListener("click", () => { $("login").hidden = true; });
  document.addEventListener("keydown", globalKeys);
  document.addEventListener("click", followLink);
  document.addEventListener("click", (event) => {
    if (!$("years-menu").hidden && !event.target.closest("#years-menu")) toggleYears(false);
  });
  try {
    state.settings = await api.settings();
  } catch (error) {
    $("status").textContent = error.message;
    return;
  }
  updateUserButton();
  if (state.settings.share && state.settings.share.locked) {
    dropEarly();
    askSharePassword(unlocked);
  } else if (state.settings.loginRequired) {
    dropEarly();
    showLogin();
  } else start();
}

function unlocked(settings) {
  state.settings = settings;
  state.loadedQuery = null;
  updateUserButton();
  start();
}

init();
