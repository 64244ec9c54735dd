// The folder tree beside the grid: one level is asked for when it is opened, a page
// of folders at a time, so a tree of any size and depth costs only what is shown.

import { api, previewUrl } from "./api.js";
import { element } from "./pages.js";
import { hrefOf } from "./router.js";

const PAGE = 200;

export class FolderTree {
  constructor(root) {
    this.root = root;
    this.nodes = new Map(); // casefolded path → node
    this.loaded = false;
    this.current = "";
  }

  reset() {
    this.root.replaceChildren();
    this.nodes.clear();
    this.loaded = false;
  }

  async ensureRoot() {
    if (this.loaded) return;
    this.loaded = true;
    const heading = element("h2", "folder-heading");
    heading.append(element("a", "", "Folders"));
    heading.firstChild.href = hrefOf({ name: "folders", path: "" });
    const list = element("div", "folder-children");
    this.root.replaceChildren(heading, list);
    await this.loadLevel("", list);
  }

  async loadLevel(path, list, offset = 0) {
    const level = await api.folders(path, offset, PAGE);
    const more = list.querySelector(":scope > .folder-more");
    if (more) more.remove();
    for (const folder of level.folders) list.append(this.node(folder));
    const shown = offset + level.folders.length;
    if (shown < level.total) {
      const button = element("button", "folder-more secondary", `${level.total - shown} more…`);
      button.type = "button";
      button.addEventListener("click", () => this.loadLevel(path, list, shown));
      list.append(button);
    }
    if (!level.total && !path) list.append(element("p", "muted", "No folders"));
  }

  node(folder) {
    const box = element("div", "folder");
    box.dataset.path = folder.path;
    const row = element("div", "folder-row");
    const toggle = element("button", "folder-toggle", folder.hasFolders ? "▸" : "");
    toggle.type = "button";
    toggle.disabled = !folder.hasFolders;
    toggle.setAttribute("aria-label", `Open ${folder.name}`);
    toggle.setAttribute("aria-expanded", "false");
    const anchor = element("a", "folder-link");
    anchor.href = hrefOf({ name: "folders", path: folder.path });
    const url = folder.cover ? previewUrl(folder.cover, 64) : null;
    const cover = element("img", "folder-cover");
    cover.alt = "";
    cover.loading = "lazy";
    if (url) cover.src = url;
    anchor.append(cover, element("span", "folder-name", folder.name), element("small", "count", folder.count.toLocaleString()));
    row.append(toggle, anchor);
    const children = element("div", "folder-children");
    children.hidden = true;
    box.append(row, children);
    toggle.addEventListener("click", () => this.toggle(box));
    this.nodes.set(folder.path.toLowerCase(), box);
    return box;
  }

  async toggle(box, open) {
    const toggle = box.querySelector(".folder-toggle");
    const children = box.querySelector(".folder-children");
    const show = open === undefined ? children.hidden : open;
    if (toggle.disabled) return;
    toggle.setAttribute("aria-expanded", String(show));
    toggle.textContent = show ? "▾" : "▸";
    children.hidden = !show;
    if (show && !box.dataset.loaded) {
      box.dataset.loaded = "1";
      await this.loadLevel(box.dataset.path, children);
    }
  }

  // Opens the folders down to `path` and its own, and marks it as the one shown.
  async reveal(path) {
    await this.ensureRoot();
    const parts = path.split("/").filter(Boolean);
    for (let depth = 1; depth < parts.length; depth += 1) {
      const box = this.nodes.get(parts.slice(0, depth).join("/").toLowerCase());
      if (!box) break;
      await this.toggle(box, true);
    }
    for (const marked of this.root.querySelectorAll(".folder-row.current")) marked.classList.remove("current");
    const target = this.nodes.get(parts.join("/").toLowerCase());
    if (target) {
      const row = target.querySelector(".folder-row");
      row.classList.add("current");
      await this.toggle(target, true); // its own folders, to go on from there
      row.scrollIntoView({ block: "nearest" });
    }
    this.current = path;
  }
}
