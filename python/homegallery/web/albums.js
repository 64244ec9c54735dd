// Albums: saved searches (a name, a query, a cover, an order; the user's own) and
// hand-picked albums (the tag album:<name> on each photo), nested by their name paths.

import { api, previewUrl } from "./api.js";
import { element, link } from "./pages.js";

export const ALBUM_TAG = "album:";

let cache = null; // the viewer's albums, until something changes them

export function forgetAlbums() {
  cache = null;
}

export async function loadAlbums() {
  if (!cache) cache = api.albums().catch((error) => { cache = null; throw error; });
  return cache;
}

// The album a path names: a saved one first, then a hand-picked one.
export async function findAlbum(name) {
  const { albums } = await loadAlbums();
  const matching = albums.filter((album) => album.name === name);
  return matching.find((album) => album.kind === "saved") || matching[0] || null;
}

function card(album) {
  const anchor = link({ name: "albums", path: album.name }, "", "album-card");
  anchor.dataset.name = album.name;
  anchor.dataset.kind = album.kind;
  const cover = element("img", "album-cover");
  cover.alt = "";
  cover.loading = "lazy";
  const url = album.cover ? previewUrl(album.cover, 320) : null;
  if (url) cover.src = url;
  const parts = album.name.split("/");
  const label = element("span", "album-name", parts[parts.length - 1]);
  const facts = element("small", "count", `${album.count.toLocaleString()} · ${album.kind === "saved" ? "saved search" : "picked"}`);
  anchor.append(cover, label, facts);
  return anchor;
}

// Albums grouped under their parents' names (Trips › 2019 › Italy).
function tree(albums) {
  const list = element("div", "album-tree");
  let lastGroup = null;
  for (const album of albums) {
    const parts = album.name.split("/");
    const group = parts.slice(0, -1).join(" › ");
    if (group !== lastGroup) {
      lastGroup = group;
      if (group) list.append(element("h2", "album-group", group));
    }
    list.append(card(album));
  }
  return list;
}

function saveForm(page, query = "") {
  const form = element("form", "album-form");
  const name = element("input");
  name.name = "name";
  name.placeholder = "Name, e.g. Trips/2019/Italy";
  name.required = true;
  const search = element("input");
  search.name = "query";
  search.placeholder = "Query, e.g. country:italy year:2019";
  search.value = query;
  const order = element("select");
  order.name = "order";
  for (const [value, label] of [["newest", "Newest first"], ["oldest", "Oldest first"]]) {
    const option = element("option", "", label);
    option.value = value;
    order.append(option);
  }
  const save = element("button", "primary", "Save album");
  save.type = "submit";
  const error = element("p", "error");
  error.hidden = true;
  form.append(name, search, order, save, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.saveAlbum({ name: name.value, query: search.value, order: order.value });
      forgetAlbums();
      await renderAlbums(page);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  });
  return form;
}

export async function renderAlbums(page) {
  const { albums, canSave } = await loadAlbums();
  const parts = [element("h1", "page-title", "Albums")];
  if (canSave) parts.push(saveForm(page));
  parts.push(element("p", "muted",
    "Pick photos into an album by selecting them and choosing Add to album; saved searches show what their query finds."));
  if (albums.length) parts.push(tree(albums));
  else parts.push(element("p", "muted", "No albums yet."));
  page.replaceChildren(...parts);
  page.dataset.albums = String(albums.length);
}

// Above an album's grid: its name path as links, and its sub-albums.
export async function albumHeader(name) {
  const { albums } = await loadAlbums();
  const bar = element("div", "album-bar");
  const crumbs = element("span", "crumbs");
  crumbs.append(link({ name: "albums", path: "" }, "Albums"));
  const parts = name.split("/");
  parts.forEach((part, index) => {
    crumbs.append(" › ", link({ name: "albums", path: parts.slice(0, index + 1).join("/") }, part));
  });
  bar.append(crumbs);
  const below = new Set();
  for (const album of albums) {
    if (album.name.startsWith(`${name}/`)) below.add(album.name.slice(name.length + 1).split("/")[0]);
  }
  for (const child of below) bar.append(link({ name: "albums", path: `${name}/${child}` }, child, "chip"));
  return bar;
}

export async function deleteSavedAlbum(id) {
  await api.deleteAlbum(id);
  forgetAlbums();
}
