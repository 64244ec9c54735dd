// The exported gallery: a classic script (ES modules do not load from file://) over the
// data of data.js. Every text from the photos is put in with textContent, never as HTML.
"use strict";
(function () {
  const data = window.GALLERY || { title: "Gallery", entries: [] };
  const entries = data.entries;
  const byId = new Map(entries.map((entry, index) => [entry.id, index]));
  const $ = (id) => document.getElementById(id);
  const grid = $("grid");
  const detail = $("detail");
  const mapBox = $("map");
  const status = $("status");
  let current = entries; // the list the detail view steps through
  let map = null;

  document.title = data.title;
  $("brand").textContent = data.title;
  if (!entries.some((entry) => entry.lat !== undefined)) $("map-link").hidden = true;

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }

  // --- search: words and key:value pairs, all of which must match ----------------------

  const fold = (text) => String(text).toLowerCase();
  const KEYS = {
    tag: (entry, value) => (entry.tags || []).some((tag) => fold(tag) === value),
    year: (entry, value) => String(entry.year) === value,
    type: (entry, value) => fold(entry.type) === value,
    country: (entry, value) => fold(entry.country || "").includes(value),
    city: (entry, value) => fold(entry.city || "").includes(value),
    make: (entry, value) => fold(entry.make || "").includes(value),
    model: (entry, value) => fold(entry.model || "").includes(value),
    file: (entry, value) => fold(entry.name || "").includes(value),
  };

  function terms(query) {
    const found = [];
    const pattern = /(\w+):"([^"]*)"|"([^"]*)"|(\S+)/g;
    let match;
    while ((match = pattern.exec(query))) {
      if (match[1]) found.push([fold(match[1]), fold(match[2])]);
      else if (match[3] !== undefined) found.push([null, fold(match[3])]);
      else {
        const token = match[4];
        const colon = token.indexOf(":");
        const key = colon > 0 ? fold(token.slice(0, colon)) : null;
        if (key && KEYS[key]) found.push([key, fold(token.slice(colon + 1))]);
        else found.push([null, fold(token)]);
      }
    }
    return found;
  }

  function search(query) {
    const wanted = terms(query);
    return entries.filter((entry) =>
      wanted.every(([key, value]) => (key ? KEYS[key](entry, value) : entry.text.includes(value))));
  }

  // --- similar: cosine of the int8 embeddings -----------------------------------------

  const vectors = new Map();
  function vectorOf(entry) {
    if (!entry.v) return null;
    if (!vectors.has(entry.id)) {
      const bytes = atob(entry.v);
      const values = new Int8Array(bytes.length);
      for (let i = 0; i < bytes.length; i++) values[i] = (bytes.charCodeAt(i) << 24) >> 24;
      let norm = 0;
      for (let i = 0; i < values.length; i++) norm += values[i] * values[i];
      vectors.set(entry.id, { values, norm: Math.sqrt(norm) || 1 });
    }
    return vectors.get(entry.id);
  }

  function similar(entry) {
    const own = vectorOf(entry);
    if (!own) return [];
    const scored = [];
    for (const other of entries) {
      const theirs = vectorOf(other);
      if (!theirs || other.id === entry.id || theirs.values.length !== own.values.length) continue;
      let dot = 0;
      for (let i = 0; i < own.values.length; i++) dot += own.values[i] * theirs.values[i];
      const score = dot / (own.norm * theirs.norm);
      if (score >= data.minScore) scored.push([other, score]);
    }
    scored.sort((a, b) => b[1] - a[1]);
    return scored;
  }

  // --- views -------------------------------------------------------------------------------

  function show(view) {
    grid.hidden = view !== "grid";
    detail.hidden = view !== "detail";
    mapBox.hidden = view !== "map";
  }

  function tile(entry, score) {
    const link = el("a", { class: "tile", href: `#/view/${entry.id}`, "data-id": entry.id,
                           style: `width:${Math.round(180 * (entry.w || 4) / (entry.h || 3))}px` });
    link.append(el("img", { src: entry.grid, alt: entry.name || "", loading: "lazy" }));
    if (score !== undefined) link.append(el("span", { class: "score" }, score.toFixed(2)));
    else if (entry.video) link.append(el("span", { class: "video" }, "▶"));
    return link;
  }

  function showGrid(list, text, scores) {
    current = list;
    show("grid");
    grid.replaceChildren(...list.map((entry, index) => tile(entry, scores ? scores[index] : undefined)));
    grid.dataset.total = String(list.length);
    status.textContent = text;
  }

  function info(entry) {
    const rows = [];
    const add = (name, value) => { if (value) rows.push(el("dt", {}, name), el("dd", {}, String(value))); };
    add("Date", entry.date ? entry.date.replace("T", " ").slice(0, 19) : "");
    add("Place", [entry.city, entry.country].filter(Boolean).join(", "));
    add("Camera", [entry.make, entry.model].filter(Boolean).join(" "));
    add("File", entry.name);
    const list = el("dl", { class: "info" }, ...rows);
    if ((entry.tags || []).length) {
      list.append(el("dt", {}, "Tags"),
        el("dd", {}, ...entry.tags.map((tag) => el("a", { class: "chip", href: `#/search/${encodeURIComponent(`tag:"${tag}"`)}` }, tag))));
    }
    if (entry.v) list.append(el("dd", {}, el("a", { href: `#/similar/${entry.id}`, id: "similar-link" }, "Similar photos")));
    return el("aside", {}, list);
  }

  function showDetail(id) {
    const index = byId.get(id);
    if (index === undefined) return showGrid([], "Not in this gallery.");
    const entry = entries[index];
    if (!current.includes(entry)) current = entries;
    const at = current.indexOf(entry);
    show("detail");
    status.textContent = "";
    const media = entry.video
      ? el("video", { class: "media", src: entry.video, poster: entry.full, controls: "", preload: "metadata" })
      : el("img", { class: "media", src: entry.full, alt: entry.name || "" });
    const stage = el("div", { class: "stage" }, media);
    if (at > 0) stage.append(el("button", { class: "prev", "data-to": current[at - 1].id, "aria-label": "Previous" }, "‹"));
    if (at < current.length - 1) stage.append(el("button", { class: "next", "data-to": current[at + 1].id, "aria-label": "Next" }, "›"));
    detail.replaceChildren(stage, info(entry));
    detail.dataset.id = entry.id;
  }

  function showMap() {
    show("map");
    const placed = entries.filter((entry) => entry.lat !== undefined);
    status.textContent = `${placed.length} places`;
    mapBox.dataset.points = String(placed.length);
    if (map || !window.L) return;
    map = window.L.map(mapBox, { worldCopyJump: true, attributionControl: false });
    // The view first: vector layers added to a map without one cannot be drawn.
    if (placed.length) {
      const bounds = window.L.latLngBounds(placed.map((entry) => [entry.lat, entry.lon]));
      map.fitBounds(bounds.pad(0.3), { maxZoom: 8 });
    } else map.setView([20, 0], 2);
    if (window.WORLD) {
      window.L.geoJSON(window.WORLD, { style: { color: "#3b4d63", weight: 1, fillColor: "#1c2633", fillOpacity: 1 } }).addTo(map);
    }
    for (const entry of placed) {
      const marker = window.L.circleMarker([entry.lat, entry.lon], { radius: 6, color: "#7cb7ff", className: "place" });
      marker.on("click", () => { location.hash = `#/view/${entry.id}`; });
      marker.addTo(map);
    }
  }

  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
    const [name, ...rest] = hash.split("/");
    const value = rest.join("/");
    if (name === "view") return showDetail(value);
    if (name === "similar") {
      const index = byId.get(value);
      const found = index === undefined ? [] : similar(entries[index]);
      return showGrid(found.map(([entry]) => entry), `${found.length} similar photos`, found.map(([, score]) => score));
    }
    if (name === "map") return showMap();
    if (name === "search") {
      $("query").value = value;
      const found = search(value);
      return showGrid(found, `${found.length} of ${entries.length}`);
    }
    $("query").value = "";
    showGrid(entries, `${entries.length} photos and videos`);
  }

  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const query = $("query").value.trim();
    location.hash = query ? `#/search/${encodeURIComponent(query)}` : "#/";
  });
  detail.addEventListener("click", (event) => {
    const to = event.target.closest("[data-to]");
    if (to) location.hash = `#/view/${to.dataset.to}`;
  });
  document.addEventListener("keydown", (event) => {
    if (detail.hidden || event.target.tagName === "INPUT") return;
    const button = detail.querySelector(event.key === "ArrowLeft" ? ".prev" : event.key === "ArrowRight" ? ".next" : null);
    if (button) location.hash = `#/view/${button.dataset.to}`;
    if (event.key === "Escape") history.back();
  });
  window.addEventListener("hashchange", route);
  route();
})();
