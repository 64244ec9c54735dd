// The timeline grid: justified rows, virtualised.
//
// Only the rows near the viewport have elements (a few hundred at most, whatever the
// number of entries); tiles are reused as the view scrolls, and each asks for the
// smallest preview that covers its size on this screen. Entries arrive a page at a
// time (EntryPages) as their rows come into view.

import { previewUrl } from "./api.js";
import { headerAt, justify, rowAt, rowOf } from "./layout.js";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const GAP = 4;
const HEADER = 44;

// Performance marks for the first tile and preview of the page (read by benchmarks).
function markOnce(name) {
  if (!performance.getEntriesByName(name, "mark").length) performance.mark(name);
}

export function groupLabel(group) {
  const [year, month] = group;
  if (!year) return "Date unknown";
  return month ? `${MONTHS[month - 1]} ${year}` : String(year);
}

function targetRowHeight(width) {
  if (width < 500) return 110;
  if (width < 900) return 160;
  if (width > 2400) return 300;
  return 220;
}

export function formatDuration(seconds) {
  const total = Math.round(seconds || 0);
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, "0")}`;
}

export class Grid {
  constructor({ scroller, grid, scrubber, scrubberLabel, status, onOpen, onSelectionChange }) {
    this.scroller = scroller;
    this.grid = grid;
    this.scrubber = scrubber;
    this.scrubberLabel = scrubberLabel;
    this.status = status;
    this.onOpen = onOpen;
    this.onSelectionChange = onSelectionChange;
    this.timeline = null;
    this.pages = null;
    this.layout = null;
    this.tiles = new Map(); // index → element
    this.detached = new Map(); // media id → element, between a relayout and its render
    this.headers = new Map(); // group number → element
    this.spare = [];
    this.selectMode = false;
    this.selected = new Set();
    this.anchor = -1;
    this.focusIndex = 0;
    this.frame = 0;
    this.width = 0;
    this.scrubberYears = [];
    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.relayout()).observe(scroller);
    grid.addEventListener("click", (event) => this.click(event));
    grid.addEventListener("keydown", (event) => this.key(event));
    grid.addEventListener("contextmenu", (event) => {
      if (event.target.closest(".tile") && this.pointerType === "touch") event.preventDefault();
    });
    grid.addEventListener("pointerdown", (event) => this.pressStart(event));
    grid.addEventListener("pointerup", () => clearTimeout(this.pressTimer));
    grid.addEventListener("pointercancel", () => clearTimeout(this.pressTimer));
    this.setupScrubber();
  }

  // --- data --------------------------------------------------------------------------

  setResult(timeline, pages, { keepScroll = false } = {}) {
    const scrollTop = this.scroller.scrollTop;
    this.timeline = timeline;
    this.pages = pages;
    if (keepScroll) this.detachTiles();
    else {
      for (const tile of this.tiles.values()) this.recycle(tile);
      this.tiles.clear();
    }
    for (const header of this.headers.values()) header.remove();
    this.headers.clear();
    this.width = 0;
    this.relayout();
    this.scroller.scrollTop = keepScroll ? scrollTop : 0;
    this.focusIndex = Math.min(this.focusIndex, Math.max(0, timeline.total - 1));
    this.status.textContent = timeline.total ? "" : "Nothing found";
    this.status.hidden = Boolean(timeline.total);
    this.render();
  }

  relayout() {
    if (!this.timeline) return;
    const width = this.grid.clientWidth;
    if (!width || width === this.width) return;
    const anchorIndex = this.layout ? this.firstVisibleIndex() : 0;
    this.width = width;
    this.layout = justify(this.timeline.ratios, this.timeline.groups, width,
      targetRowHeight(window.innerWidth), GAP, HEADER);
    this.grid.style.height = `${this.layout.height}px`;
    this.detachTiles();
    if (anchorIndex > 0) this.scroller.scrollTop = this.layout.rowTop[rowOf(this.layout, anchorIndex)] - HEADER;
    this.buildScrubber();
    this.render();
  }

  firstVisibleIndex() {
    const row = rowAt(this.layout, this.scroller.scrollTop);
    return row >= 0 ? this.layout.rowStart[row] : 0;
  }

  // --- rendering ---------------------------------------------------------------------

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const layout = this.layout;
    if (!layout) {
      this.dropDetached();
      return;
    }
    const viewport = this.scroller.clientHeight || window.innerHeight;
    const top = this.scroller.scrollTop;
    const from = Math.max(0, top - viewport * 0.75);
    const to = top + viewport * 1.75;
    const keep = new Set();
    const firstRow = rowAt(layout, from);
    if (firstRow >= 0) {
      for (let row = firstRow; row < layout.rowTop.length && layout.rowTop[row] <= to; row += 1) {
        const start = layout.rowStart[row];
        for (let index = start; index < start + layout.rowCount[row]; index += 1) {
          keep.add(index);
          this.place(index, row);
        }
      }
    }
    for (const [index, tile] of this.tiles) {
      if (!keep.has(index)) {
        this.tiles.delete(index);
        this.recycle(tile);
      }
    }
    this.dropDetached();
    this.renderHeaders(from, to);
    this.updateScrubberLabel(top);
  }

  renderHeaders(from, to) {
    const visible = new Set();
    for (const header of this.layout.headers) {
      if (header.top + HEADER < from || header.top > to) continue;
      visible.add(header.group);
      if (this.headers.has(header.group)) continue;
      const element = document.createElement("h2");
      element.className = "group-header";
      element.style.transform = `translateY(${header.top}px)`;
      const group = this.timeline.groups[header.group];
      element.textContent = groupLabel(group);
      const count = document.createElement("span");
      count.textContent = `${group[2].toLocaleString()}`;
      element.append(count);
      this.grid.append(element);
      this.headers.set(header.group, element);
    }
    for (const [group, element] of this.headers) {
      if (!visible.has(group)) {
        element.remove();
        this.headers.delete(group);
      }
    }
  }

  // A new layout or a refreshed result places every tile again. Tiles that already show
  // an entry wait here, by media id, so that the same photo keeps its element and its
  // loaded preview instead of blinking blank while its page is fetched again.
  detachTiles() {
    for (const tile of this.tiles.values()) {
      if (tile.dataset.id && !this.detached.has(tile.dataset.id)) this.detached.set(tile.dataset.id, tile);
      else this.recycle(tile);
    }
    this.tiles.clear();
  }

  dropDetached() {
    for (const tile of this.detached.values()) this.recycle(tile);
    this.detached.clear();
  }

  // The rendered range of indices, so a refresh can fetch those entries before it swaps.
  renderedRange() {
    if (!this.tiles.size) return null;
    const indices = [...this.tiles.keys()];
    return [Math.min(...indices), Math.max(...indices)];
  }

  recycle(tile) {
    tile.remove();
    tile.dataset.index = "";
    tile.dataset.id = "";
    if (this.spare.length < 400) this.spare.push(tile);
  }

  newTile() {
    const tile = this.spare.pop();
    if (tile) return tile;
    const element = document.createElement("button");
    element.type = "button";
    element.className = "tile";
    element.setAttribute("role", "gridcell");
    const image = document.createElement("img");
    image.alt = "";
    image.decoding = "async";
    image.draggable = false;
    element.append(image);
    const badge = document.createElement("span");
    badge.className = "badge";
    element.append(badge);
    return element;
  }

  place(index, row) {
    const layout = this.layout;
    let tile = this.tiles.get(index);
    const left = layout.itemLeft[index];
    const top = layout.rowTop[row];
    const width = layout.itemWidth[index];
    const height = layout.rowHeight[row];
    if (!tile) {
      const entry = this.pages.get(index);
      const kept = entry ? this.detached.get(entry.id) : undefined;
      if (kept) {
        this.detached.delete(entry.id);
        kept.dataset.index = String(index);
        kept.tabIndex = index === this.focusIndex ? 0 : -1;
        kept.style.transform = `translate(${left}px, ${top}px)`;
        kept.style.width = `${width}px`;
        kept.style.height = `${height}px`;
        this.tiles.set(index, kept);
        this.fill(kept, entry, Math.max(width, height));
        return;
      }
      tile = this.newTile();
      tile.dataset.index = String(index);
      tile.dataset.id = "";
      tile.tabIndex = index === this.focusIndex ? 0 : -1;
      tile.style.transform = `translate(${left}px, ${top}px)`;
      tile.style.width = `${width}px`;
      tile.style.height = `${height}px`;
      const image = tile.firstChild;
      image.onload = null; // a load of the tile's previous preview must not mark it loaded
      image.removeAttribute("src");
      image.hidden = true;
      tile.classList.remove("loaded", "video", "selected", "broken");
      tile.lastChild.textContent = "";
      this.grid.append(tile);
      this.tiles.set(index, tile);
    }
    if (tile.dataset.id) return;
    const entry = this.pages.get(index);
    if (!entry) {
      this.pages.load(index).then(() => this.schedule(), (error) => this.loadFailed(error));
      return;
    }
    this.fill(tile, entry, Math.max(width, height));
  }

  fill(tile, entry, pixels) {
    tile.dataset.id = entry.id;
    markOnce("grid-first-tile");
    const image = tile.firstChild;
    const url = previewUrl(entry, pixels * (window.devicePixelRatio || 1));
    if (!url || image.getAttribute("src") !== url) {
      image.onload = () => {
        tile.classList.add("loaded");
        markOnce("grid-first-preview");
      };
      image.hidden = !url;
      if (url) image.src = url;
      else image.removeAttribute("src");
    }
    tile.classList.toggle("video", entry.type === "video");
    // no preview because extract failed: shown as broken, with why, not as "coming"
    tile.classList.toggle("broken", Boolean(entry.problem));
    tile.lastChild.textContent = "";
    const label = [entry.date ? entry.date.slice(0, 10) : "", entry.city || "", entry.type === "video" ? "video" : "photo"];
    if (entry.problem) label.push("cannot be shown");
    tile.setAttribute("aria-label", label.filter(Boolean).join(", "));
    const name = entry.files && entry.files[0] ? entry.files[0].path : entry.id;
    tile.title = entry.problem ? `${name}: ${entry.problem}` : name;
    if (entry.type === "video") tile.lastChild.textContent = `▶ ${formatDuration(entry.duration)}`;
    if (entry.problem) tile.lastChild.textContent = "⚠ cannot be shown";
    tile.classList.toggle("selected", this.selected.has(entry.id));
  }

  loadFailed(error) {
    this.status.hidden = false;
    this.status.textContent = error.message;
  }

  // --- navigation --------------------------------------------------------------------

  scrollToIndex(index, align = "nearest") {
    if (!this.layout) return;
    const row = rowOf(this.layout, index);
    const top = this.layout.rowTop[row];
    const bottom = top + this.layout.rowHeight[row];
    const view = this.scroller.clientHeight;
    const current = this.scroller.scrollTop;
    if (align === "start") this.scroller.scrollTop = top - HEADER;
    else if (top < current) this.scroller.scrollTop = top - 8;
    else if (bottom > current + view) this.scroller.scrollTop = bottom - view + 8;
    this.render();
  }

  scrollToGroup(groupNumber) {
    const header = this.layout && this.layout.headers[groupNumber];
    if (header) {
      this.scroller.scrollTop = header.top;
      this.render();
    }
  }

  focusTile(index) {
    if (!this.timeline || !this.timeline.total) return;
    index = Math.max(0, Math.min(this.timeline.total - 1, index));
    const previous = this.tiles.get(this.focusIndex);
    if (previous) previous.tabIndex = -1;
    this.focusIndex = index;
    this.scrollToIndex(index);
    const tile = this.tiles.get(index);
    if (tile) {
      tile.tabIndex = 0;
      tile.focus({ preventScroll: true });
    }
  }

  key(event) {
    const tile = event.target.closest(".tile");
    if (!tile || !this.layout) return;
    const index = Number(tile.dataset.index);
    const layout = this.layout;
    const row = rowOf(layout, index);
    const nearestIn = (targetRow) => {
      if (targetRow < 0 || targetRow >= layout.rowStart.length) return index;
      const middle = layout.itemLeft[index] + layout.itemWidth[index] / 2;
      const start = layout.rowStart[targetRow];
      let best = start;
      for (let i = start; i < start + layout.rowCount[targetRow]; i += 1) {
        if (layout.itemLeft[i] <= middle) best = i;
      }
      return best;
    };
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index - 1,
      ArrowDown: nearestIn(row + 1),
      ArrowUp: nearestIn(row - 1),
      Home: 0,
      End: this.timeline.total - 1,
      PageDown: nearestIn(rowAt(layout, layout.rowTop[row] + this.scroller.clientHeight)),
      PageUp: nearestIn(rowAt(layout, Math.max(0, layout.rowTop[row] - this.scroller.clientHeight))),
    };
    if (event.key in moves) {
      event.preventDefault();
      this.focusTile(moves[event.key]);
      if (event.shiftKey && this.selectMode) this.selectRange(this.anchor, this.focusIndex);
    } else if (event.key === " " && this.selectMode) {
      event.preventDefault();
      this.toggle(index);
    }
  }

  // --- clicks, selection -------------------------------------------------------------

  pressStart(event) {
    this.pointerType = event.pointerType;
    clearTimeout(this.pressTimer);
    const tile = event.target.closest(".tile");
    if (!tile || event.pointerType !== "touch") return;
    this.pressTimer = setTimeout(() => {
      this.longPressed = true;
      this.setSelectMode(true);
      this.toggle(Number(tile.dataset.index));
    }, 550);
  }

  click(event) {
    const tile = event.target.closest(".tile");
    if (!tile) return;
    if (this.longPressed) {
      this.longPressed = false;
      return;
    }
    const index = Number(tile.dataset.index);
    if (event.shiftKey && (this.selectMode || this.anchor >= 0)) {
      this.setSelectMode(true);
      this.selectRange(this.anchor, index);
    } else if (this.selectMode || event.ctrlKey || event.metaKey) {
      this.setSelectMode(true);
      this.toggle(index);
    } else {
      this.focusIndex = index;
      this.onOpen(index);
    }
  }

  setSelectMode(on) {
    if (this.selectMode === on) return;
    this.selectMode = on;
    this.grid.classList.toggle("selecting", on);
    if (!on) {
      this.selected.clear();
      this.anchor = -1;
      for (const tile of this.tiles.values()) tile.classList.remove("selected");
    }
    this.onSelectionChange();
  }

  toggle(index) {
    const entry = this.pages.get(index);
    if (!entry) return;
    if (this.selected.has(entry.id)) this.selected.delete(entry.id);
    else this.selected.add(entry.id);
    this.anchor = index;
    const tile = this.tiles.get(index);
    if (tile) tile.classList.toggle("selected", this.selected.has(entry.id));
    this.onSelectionChange();
  }

  async selectRange(from, to) {
    if (from < 0) from = to;
    const [low, high] = from < to ? [from, to] : [to, from];
    for (let index = low; index <= high; index += 1) {
      const entry = this.pages.get(index) || (await this.pages.entryAt(index));
      if (entry) this.selected.add(entry.id);
    }
    for (const [index, tile] of this.tiles) {
      const entry = this.pages.get(index);
      tile.classList.toggle("selected", Boolean(entry && this.selected.has(entry.id)));
    }
    this.onSelectionChange();
  }

  // --- scrubber ----------------------------------------------------------------------

  buildScrubber() {
    const scrubber = this.scrubber;
    for (const mark of scrubber.querySelectorAll(".scrubber-year")) mark.remove();
    const layout = this.layout;
    if (!layout || layout.height <= this.scroller.clientHeight * 2) {
      scrubber.hidden = true;
      return;
    }
    scrubber.hidden = false;
    let lastYear = null;
    let lastTop = -100;
    const span = layout.height;
    layout.headers.forEach((header) => {
      const year = this.timeline.groups[header.group][0];
      if (year === lastYear) return;
      lastYear = year;
      const fraction = header.top / span;
      const pixel = fraction * scrubber.clientHeight;
      if (pixel - lastTop < 18) return;
      lastTop = pixel;
      const mark = document.createElement("span");
      mark.className = "scrubber-year";
      mark.style.top = `${Math.max(8, pixel).toFixed(1)}px`;
      mark.textContent = year ? String(year) : "?";
      scrubber.append(mark);
    });
  }

  setupScrubber() {
    const scrubber = this.scrubber;
    const seek = (event) => {
      const box = scrubber.getBoundingClientRect();
      const fraction = Math.max(0, Math.min(1, (event.clientY - box.top) / box.height));
      this.scroller.scrollTop = fraction * (this.layout.height - this.scroller.clientHeight);
      this.render();
    };
    scrubber.addEventListener("pointerdown", (event) => {
      if (!this.layout) return;
      event.preventDefault();
      scrubber.setPointerCapture(event.pointerId);
      scrubber.classList.add("dragging");
      seek(event);
    });
    scrubber.addEventListener("pointermove", (event) => {
      if (scrubber.hasPointerCapture(event.pointerId)) seek(event);
    });
    const end = (event) => {
      scrubber.classList.remove("dragging");
      if (scrubber.hasPointerCapture(event.pointerId)) scrubber.releasePointerCapture(event.pointerId);
    };
    scrubber.addEventListener("pointerup", end);
    scrubber.addEventListener("pointercancel", end);
  }

  updateScrubberLabel(top) {
    const layout = this.layout;
    if (!layout || this.scrubber.hidden) return;
    const header = headerAt(layout, top + HEADER);
    const label = this.scrubberLabel;
    if (!header) return;
    label.textContent = groupLabel(this.timeline.groups[header.group]);
    const span = Math.max(1, layout.height - this.scroller.clientHeight);
    const height = this.scrubber.clientHeight;
    const y = Math.max(16, Math.min(height - 16, (top / span) * height));
    label.style.top = `${y.toFixed(1)}px`;
    this.scrubber.classList.add("scrolling");
    clearTimeout(this.labelTimer);
    this.labelTimer = setTimeout(() => this.scrubber.classList.remove("scrolling"), 900);
  }
}
