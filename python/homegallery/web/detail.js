// The detail view: one photo or video at a time, with its metadata, place, tags and
// similar entries. Arrow keys and swipes step through the current result; wheel,
// pinch, double-click or +/- zoom, and dragging pans a zoomed photo. `?` lists the keys.

import { api, fileUrl, posterUrl, previewUrl, videoUrl } from "./api.js";
import { chip, term } from "./chips.js";
import { FaceLayer } from "./faces.js";
import { formatDuration } from "./grid.js";
import { smallMap } from "./map.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatSize(bytes) {
  if (!bytes) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

function formatExposure(entry) {
  const parts = [];
  if (entry.exposure_time) {
    const t = entry.exposure_time;
    parts.push(t >= 1 ? `${t} s` : `1/${Math.round(1 / t)} s`);
  }
  if (entry.aperture) parts.push(`f/${entry.aperture}`);
  if (entry.iso) parts.push(`ISO ${entry.iso}`);
  if (entry.focal_length) parts.push(`${Math.round(entry.focal_length)} mm`);
  return parts.join(" · ");
}

function formatDate(entry) {
  if (!entry.date) return "Date unknown";
  const date = new Date(entry.date.length > 19 ? entry.date : `${entry.date}`);
  if (Number.isNaN(date.getTime())) return entry.date;
  return date.toLocaleString(undefined, {
    weekday: "short", year: "numeric", month: "long", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

class ZoomPan {
  constructor(stage, onSwipe) {
    this.stage = stage;
    this.onSwipe = onSwipe;
    this.pointers = new Map();
    this.reset();
    stage.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    stage.addEventListener("dblclick", (event) => this.toggle(event));
    stage.addEventListener("pointerdown", (event) => this.down(event));
    stage.addEventListener("pointermove", (event) => this.move(event));
    stage.addEventListener("pointerup", (event) => this.up(event));
    stage.addEventListener("pointercancel", (event) => this.up(event));
  }

  get target() {
    return this.stage.querySelector("img.media");
  }

  reset() {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.apply();
  }

  apply() {
    const target = this.target;
    if (!target) return;
    target.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    const faces = this.stage.querySelector(".face-layer");
    if (faces) faces.style.transform = target.style.transform;
    this.stage.classList.toggle("zoomed", this.scale > 1.01);
  }

  zoomAt(factor, clientX, clientY) {
    const box = this.stage.getBoundingClientRect();
    const cx = clientX - box.left - box.width / 2;
    const cy = clientY - box.top - box.height / 2;
    const scale = Math.max(1, Math.min(8, this.scale * factor));
    const applied = scale / this.scale;
    this.x = cx - (cx - this.x) * applied;
    this.y = cy - (cy - this.y) * applied;
    this.scale = scale;
    if (scale === 1) {
      this.x = 0;
      this.y = 0;
    }
    this.apply();
  }

  zoomBy(factor) {
    const box = this.stage.getBoundingClientRect();
    this.zoomAt(factor, box.left + box.width / 2, box.top + box.height / 2);
  }

  wheel(event) {
    if (!this.target) return;
    event.preventDefault();
    this.zoomAt(Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
  }

  toggle(event) {
    if (!this.target) return;
    if (this.scale > 1) this.reset();
    else this.zoomAt(2.5, event.clientX, event.clientY);
  }

  down(event) {
    if (event.target.closest("video, button")) return;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    try {
      this.stage.setPointerCapture(event.pointerId);
    } catch (error) {
      // a pointer the browser no longer tracks: follow it without capture
    }
    this.start = { x: event.clientX, y: event.clientY, time: performance.now(), px: this.x, py: this.y };
    if (this.pointers.size === 2) this.pinch = this.distance();
  }

  distance() {
    const [a, b] = [...this.pointers.values()];
    return Math.hypot(a.x - b.x, a.y - b.y);
  }

  move(event) {
    if (!this.pointers.has(event.pointerId)) return;
    this.pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (this.pointers.size === 2 && this.pinch) {
      const now = this.distance();
      const [a, b] = [...this.pointers.values()];
      this.zoomAt(now / this.pinch, (a.x + b.x) / 2, (a.y + b.y) / 2);
      this.pinch = now;
    } else if (this.scale > 1 && this.start) {
      this.x = this.start.px + event.clientX - this.start.x;
      this.y = this.start.py + event.clientY - this.start.y;
      this.apply();
    }
  }

  up(event) {
    const wasSingle = this.pointers.size === 1;
    this.pointers.delete(event.pointerId);
    if (this.pointers.size < 2) this.pinch = 0;
    if (!wasSingle || !this.start || this.scale > 1) return;
    const dx = event.clientX - this.start.x;
    const dy = event.clientY - this.start.y;
    const quick = performance.now() - this.start.time < 600;
    if (quick && Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy) * 1.5) this.onSwipe(dx < 0 ? "next" : "previous");
    else if (quick && dy > 90 && Math.abs(dy) > Math.abs(dx) * 1.5) this.onSwipe("close");
    this.start = null;
  }
}

// The keys of the detail view, as `?` lists them.
export const DETAIL_KEYS = [
  ["← →", "previous, next"],
  ["Ctrl ← →", "10 back, 10 on"],
  ["Home End", "first, last"],
  ["Esc Backspace", "close"],
  ["i", "details"],
  ["s", "similar photos"],
  ["m", "on the map"],
  ["t", "add a tag"],
  ["a", "faces and their names, objects"],
  ["Space", "play, pause a video"],
  ["+ − 0", "zoom in, out, fit"],
  ["?", "these keys"],
];
export const GRID_KEYS = [
  ["/", "search"],
  ["← → ↑ ↓ Enter", "move, open"],
  ["y", "jump to a year"],
  ["m", "map"],
  ["s", "select to tag"],
  ["?", "these keys"],
];

export class DetailView {
  constructor(root, { onClose, onStep, onSearch, onNavigate, getQuery, getSettings, onTagsChanged }) {
    this.root = root;
    this.onClose = onClose;
    this.onStep = onStep || (() => {});
    this.onNavigate = onNavigate || (() => {});
    this.getQuery = getQuery || (() => "");
    this.onSearch = onSearch;
    this.getSettings = getSettings;
    this.onTagsChanged = onTagsChanged;
    this.pages = null;
    this.index = -1;
    this.entry = null;
    this.infoOpen = window.innerWidth > 1100;
    this.build();
    this.zoom = new ZoomPan(this.stage, (direction) => {
      if (direction === "close") this.close();
      else this.step(direction === "next" ? 1 : -1);
    });
    this.faces = new FaceLayer(this.stage, {
      onNavigate: (route) => this.onNavigate(route),
      getSettings: () => this.getSettings(),
    });
    document.addEventListener("keydown", (event) => this.key(event));
  }

  build() {
    const root = this.root;
    root.replaceChildren();
    this.stage = element("div", "stage");
    const controls = element("div", "controls");
    this.closeButton = element("button", "close", "✕");
    this.closeButton.title = "Close (Esc)";
    this.closeButton.setAttribute("aria-label", "Close");
    this.prevButton = element("button", "prev", "‹");
    this.prevButton.title = "Previous (←)";
    this.prevButton.setAttribute("aria-label", "Previous");
    this.nextButton = element("button", "next", "›");
    this.nextButton.title = "Next (→)";
    this.nextButton.setAttribute("aria-label", "Next");
    this.infoButton = element("button", "info-toggle", "i");
    this.infoButton.title = "Details (i)";
    this.infoButton.setAttribute("aria-label", "Details");
    for (const button of [this.closeButton, this.prevButton, this.nextButton, this.infoButton]) button.type = "button";
    controls.append(this.closeButton, this.infoButton);
    this.info = element("aside", "info");
    root.append(this.stage, this.prevButton, this.nextButton, controls, this.info);
    this.helpBox = element("div", "help");
    this.helpBox.id = "help";
    this.helpBox.setAttribute("role", "dialog");
    this.helpBox.setAttribute("aria-label", "Keys");
    this.helpBox.hidden = true;
    document.body.append(this.helpBox);
    this.closeButton.addEventListener("click", () => this.close());
    this.prevButton.addEventListener("click", () => this.step(-1));
    this.nextButton.addEventListener("click", () => this.step(1));
    this.infoButton.addEventListener("click", () => this.toggleInfo());
  }

  // A button beside Close and Details (the app adds Share there).
  addControl(button) {
    this.closeButton.parentElement.append(button);
  }

  get isOpen() {
    return !this.root.hidden;
  }

  async open(pages, index) {
    this.pages = pages;
    this.index = index;
    this.root.hidden = false;
    document.body.classList.add("detail-open");
    const entry = await pages.entryAt(index);
    if (entry) this.show(entry);
  }

  async openId(id) {
    this.pages = null;
    this.index = -1;
    this.root.hidden = false;
    document.body.classList.add("detail-open");
    try {
      this.show(await api.entry(id));
    } catch (error) {
      this.info.textContent = error.message;
    }
  }

  // Asks to close (the app goes back in history, which hides the view).
  close() {
    if (!this.isOpen) return;
    this.onClose(this.index);
  }

  hide() {
    if (!this.isOpen) return;
    const video = this.stage.querySelector("video");
    if (video) video.pause();
    this.stage.replaceChildren();
    this.root.hidden = true;
    this.entry = null;
    delete this.root.dataset.id;
    document.body.classList.remove("detail-open");
  }

  async step(delta) {
    if (!this.pages) return;
    const next = Math.max(0, Math.min(this.pages.total - 1, this.index + delta));
    if (next === this.index) return;
    this.index = next;
    const entry = await this.pages.entryAt(next);
    if (entry && this.index === next) {
      this.show(entry);
      this.onStep(entry, next);
    }
    // Warm the one after, so stepping on feels instant.
    this.pages.entryAt(next + delta).then((after) => {
      if (after && after.type !== "video") {
        const image = new Image();
        image.src = previewUrl(after, this.screenPixels());
      }
    }, () => {});
  }

  screenPixels() {
    return Math.max(window.innerWidth, window.innerHeight) * (window.devicePixelRatio || 1);
  }

  show(entry) {
    this.entry = entry;
    this.root.dataset.id = entry.id;
    this.zoom.reset();
    const stage = this.stage;
    const old = stage.querySelector("video");
    if (old) old.pause();
    stage.replaceChildren();
    const video = entry.type === "video" ? videoUrl(entry) : null;
    if (video) {
      const player = document.createElement("video");
      player.className = "media";
      player.controls = true;
      player.playsInline = true;
      player.preload = "metadata";
      player.poster = posterUrl(entry) || "";
      player.src = video;
      stage.append(player);
    } else {
      const url = previewUrl(entry, this.screenPixels());
      if (url) {
        const image = element("img", "media");
        image.alt = entry.files && entry.files[0] ? entry.files[0].path : "";
        image.draggable = false;
        image.src = url;
        stage.append(image);
      } else if (entry.problem) {
        const broken = element("p", "no-preview broken", "This file cannot be shown");
        broken.append(element("span", "problem", entry.problem));
        stage.append(broken);
      } else {
        stage.append(element("p", "no-preview", "No preview of this file yet"));
      }
    }
    this.prevButton.hidden = !this.pages || this.index <= 0;
    this.nextButton.hidden = !this.pages || this.index >= this.pages.total - 1;
    this.root.classList.toggle("with-info", this.infoOpen);
    this.renderInfo(entry);
    this.faces.show(entry);
  }

  toggleInfo() {
    this.infoOpen = !this.infoOpen;
    this.root.classList.toggle("with-info", this.infoOpen);
    if (this.infoOpen && this.entry) this.renderInfo(this.entry);
  }

  renderInfo(entry) {
    const info = this.info;
    info.replaceChildren();
    if (!this.infoOpen) return;
    const search = (query) => this.onSearch(query);
    const section = (title) => {
      const box = element("section", "info-section");
      if (title) box.append(element("h3", "", title));
      info.append(box);
      return box;
    };

    const when = section();
    when.append(element("p", "info-date", formatDate(entry)));
    const whenChips = element("div", "chip-row");
    if (entry.year) whenChips.append(chip(String(entry.year), `year:${entry.year}`, search));
    if (entry.type === "video") whenChips.append(chip(`video ${formatDuration(entry.duration)}`, "type:video", search));
    if (whenChips.childElementCount) when.append(whenChips);

    if (entry.make || entry.model) {
      const camera = section("Camera");
      const name = entry.model && entry.make && entry.model.toLowerCase().startsWith(entry.make.toLowerCase())
        ? entry.model : [entry.make, entry.model].filter(Boolean).join(" ");
      const cameraQuery = entry.model ? term("model", entry.model) : term("make", entry.make);
      camera.append(chip(name, cameraQuery, search, "camera"));
      const exposure = formatExposure(entry);
      if (exposure) camera.append(element("p", "muted", exposure));
      if (entry.lens) camera.append(element("p", "muted", entry.lens));
    }

    const placeNames = [entry.road, entry.city, entry.state, entry.country].filter(Boolean);
    if (placeNames.length || entry.latitude != null) {
      const place = section("Place");
      const chips = element("div", "chip-row");
      if (entry.city) chips.append(chip(entry.city, term("city", entry.city), search));
      if (entry.state) chips.append(chip(entry.state, term("state", entry.state), search));
      if (entry.country) chips.append(chip(entry.country, term("country", entry.country), search));
      place.append(chips);
      if (entry.latitude != null && entry.longitude != null) {
        place.append(element("p", "muted", `${entry.latitude.toFixed(5)}, ${entry.longitude.toFixed(5)}`));
        const mapBox = element("div", "small-map");
        place.append(mapBox);
        smallMap(mapBox, entry.latitude, entry.longitude, this.getSettings().tileUrl).catch(() => mapBox.remove());
      }
    }

    this.renderTags(section("Tags"), entry, search);

    if ((entry.labels || []).length) {
      // What the embedding model saw; a chip finds every photo with that class.
      const labels = element("div", "chip-row labels");
      for (const label of entry.labels) {
        const name = `${label.name} ${Math.round(label.score * 100)}%`;
        labels.append(chip(name, label.id ? `label:${label.id}` : term("label", label.name), search));
      }
      section("Labels").append(labels);
    }

    const fileBox = section("File");
    (entry.files || []).forEach((file, number) => {
      if (file.kind === "sidecar" && number > 0) return;
      const line = element("p", "file");
      line.append(element("span", "path", file.path));
      line.append(element("span", "muted", ` ${formatSize(file.size)}${entry.width ? ` · ${entry.width}×${entry.height}` : ""}`));
      if (entry.downloadable && file.kind !== "sidecar") {
        const link = element("a", "download", "Download");
        link.href = fileUrl(entry, `original/${number}`);
        link.setAttribute("download", "");
        line.append(" ", link);
      }
      fileBox.append(line);
    });

    if (entry.has_vector) {
      const similar = section("Similar");
      const row = element("div", "similar-row");
      similar.append(row);
      api.similar(entry.id, 12).then((entries) => {
        if (this.entry !== entry) return;
        if (!entries.length) similar.remove();
        for (const other of entries) {
          const button = element("button", "similar-item");
          button.type = "button";
          const image = element("img");
          image.alt = "";
          image.src = previewUrl(other, 160);
          button.append(image);
          button.addEventListener("click", () => {
            this.pages = null;
            this.index = -1;
            this.show(other);
          });
          row.append(button);
        }
        similar.append(chip("More like this", `similar:${entry.id}`, search));
      }, () => similar.remove());
    }
  }

  renderTags(box, entry, search) {
    const list = element("div", "chip-row tags");
    const settings = this.getSettings();
    for (const tag of entry.tags || []) {
      const item = element("span", "tag");
      item.append(chip(tag, term("tag", tag), search));
      if (settings.canEdit) {
        const remove = element("button", "tag-remove", "×");
        remove.type = "button";
        remove.title = `Remove tag ${tag}`;
        remove.setAttribute("aria-label", `Remove tag ${tag}`);
        remove.addEventListener("click", () => this.changeTags(entry, [], [tag]));
        item.append(remove);
      }
      list.append(item);
    }
    if (!(entry.tags || []).length) list.append(element("span", "muted", "No tags"));
    box.append(list);
    if (settings.canEdit) {
      const form = element("form", "tag-form");
      const input = element("input");
      input.placeholder = "Add a tag";
      input.setAttribute("aria-label", "Add a tag");
      input.enterKeyHint = "done";
      const add = element("button", "", "Add");
      add.type = "submit";
      form.append(input, add);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const tag = input.value.trim();
        if (tag) this.changeTags(entry, [tag], []);
      });
      box.append(form);
    }
  }

  async changeTags(entry, add, remove) {
    try {
      await api.changeTags([entry.id], add, remove);
      const fresh = await api.entry(entry.id);
      if (this.pages) {
        const index = this.pages.indexOf(entry.id);
        if (index >= 0) {
          const page = this.pages.pages.get(Math.floor(index / this.pages.pageSize));
          if (Array.isArray(page)) page[index % this.pages.pageSize] = fresh;
        }
      }
      if (this.entry && this.entry.id === entry.id) {
        this.entry = fresh;
        this.renderInfo(fresh);
        const input = this.info.querySelector(".tag-form input");
        if (input) input.focus();
      }
      this.onTagsChanged();
    } catch (error) {
      this.info.prepend(element("p", "error", error.message));
    }
  }

  focusTagInput() {
    if (!this.infoOpen) this.toggleInfo();
    const input = this.info.querySelector(".tag-form input");
    if (input) input.focus();
  }

  // The keys of this view (and of the grid), in a box that `?` or Esc closes.
  showHelp() {
    const box = this.helpBox;
    box.replaceChildren();
    const table = (title, rows) => {
      const section = element("section");
      section.append(element("h3", "", title));
      const list = element("dl");
      for (const [keys, what] of rows) list.append(element("dt", "", keys), element("dd", "", what));
      section.append(list);
      return section;
    };
    const close = element("button", "help-close secondary", "Close");
    close.type = "button";
    close.addEventListener("click", () => { box.hidden = true; });
    box.append(table("Photo", DETAIL_KEYS), table("Grid", GRID_KEYS), close);
    box.hidden = false;
    close.focus();
  }

  key(event) {
    if (!this.isOpen && (this.helpBox.hidden || event.key !== "Escape")) return;
    if (!this.isOpen) {
      event.preventDefault();
      this.helpBox.hidden = true;
      return;
    }
    if (event.target.closest("input, textarea")) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    if (!this.helpBox.hidden) {
      if (event.key === "Escape" || event.key === "?") {
        event.preventDefault();
        this.helpBox.hidden = true;
      }
      return;
    }
    const entry = this.entry;
    const actions = {
      ArrowRight: () => this.step(1),
      ArrowLeft: () => this.step(-1),
      Home: () => this.step(-Infinity),
      End: () => this.step(Infinity),
      Escape: () => this.close(),
      Backspace: () => this.close(),
      i: () => this.toggleInfo(),
      s: () => { if (entry && entry.has_vector) this.onNavigate({ name: "similar", id: entry.id }); },
      m: () => {
        if (entry && entry.latitude != null && entry.longitude != null) {
          this.onNavigate({ name: "map", query: this.getQuery(), at: `${entry.latitude},${entry.longitude}` });
        }
      },
      t: () => this.focusTagInput(),
      a: () => this.faces.toggle(entry),
      "?": () => this.showHelp(),
      "+": () => this.zoom.zoomBy(1.5),
      "=": () => this.zoom.zoomBy(1.5),
      "-": () => this.zoom.zoomBy(1 / 1.5),
      0: () => this.zoom.reset(),
    };
    const jumps = { ArrowRight: 10, ArrowLeft: -10 };
    if ((event.ctrlKey || event.metaKey) && event.key in jumps && !event.altKey) {
      event.preventDefault();
      this.step(jumps[event.key]);
      return;
    }
    const action = actions[event.key];
    if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      action();
    } else if (event.key === " " && this.entry && this.entry.type === "video") {
      const video = this.stage.querySelector("video");
      if (video && event.target !== video) {
        event.preventDefault();
        if (video.paused) video.play();
        else video.pause();
      }
    }
  }
}
