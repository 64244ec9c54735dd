// Face boxes over the photo in the detail view (key a, as in HomeGallery), each with
// its person's name; a click offers to name the person or to see all their photos.
// The entry's objects are drawn in the same layer, in a style of their own.

import { api } from "./api.js";
import { objectBoxes } from "./objects.js";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class FaceLayer {
  constructor(stage, { onNavigate, getSettings, toast }) {
    this.stage = stage;
    this.onNavigate = onNavigate;
    this.getSettings = getSettings;
    this.toast = toast || (() => {});
    this.shown = false;
    this.entry = null;
    this.faces = [];
    this.layer = null;
    window.addEventListener("resize", () => this.place());
  }

  toggle(entry) {
    this.shown = !this.shown;
    if (this.shown) this.show(entry);
    else this.clear();
  }

  clear() {
    if (this.layer) this.layer.remove();
    this.layer = null;
  }

  // Called for every photo shown: boxes stay on while the user steps through photos.
  async show(entry) {
    this.entry = entry;
    this.clear();
    if (!this.shown || !entry || entry.type === "video") return;
    let faces;
    try {
      faces = await api.faces(entry.id);
    } catch (error) {
      this.toast(error.message);
      return;
    }
    if (this.entry !== entry) return;
    this.faces = faces;
    this.layer = element("div", "face-layer");
    this.layer.dataset.faces = String(faces.length);
    this.layer.dataset.objects = String((entry.objects || []).length);
    this.stage.append(this.layer);
    const image = this.stage.querySelector("img.media");
    if (image && !image.complete) image.addEventListener("load", () => this.place(), { once: true });
    this.place();
  }

  // Boxes in pixels of the picture as the stage shows it (contained, centred).
  place() {
    const image = this.stage.querySelector("img.media");
    if (!this.layer || !image || !image.naturalWidth) return;
    const width = this.stage.clientWidth;
    const height = this.stage.clientHeight;
    const scale = Math.min(width / image.naturalWidth, height / image.naturalHeight);
    const shownWidth = image.naturalWidth * scale;
    const shownHeight = image.naturalHeight * scale;
    const left = (width - shownWidth) / 2;
    const top = (height - shownHeight) / 2;
    this.layer.style.transform = image.style.transform;
    this.layer.replaceChildren();
    const shown = { left, top, width: shownWidth, height: shownHeight };
    this.layer.append(...objectBoxes(this.entry && this.entry.objects, shown));
    for (const face of this.faces) {
      const [x, y, w, h] = face.box;
      const box = element("button", "face-box");
      box.type = "button";
      box.style.left = `${left + x * shownWidth}px`;
      box.style.top = `${top + y * shownHeight}px`;
      box.style.width = `${w * shownWidth}px`;
      box.style.height = `${h * shownHeight}px`;
      box.title = face.name || "Unnamed";
      box.dataset.person = face.person || "";
      box.append(element("span", "face-name", face.name || ""));
      box.addEventListener("pointerdown", (event) => event.stopPropagation());
      box.addEventListener("click", (event) => {
        event.stopPropagation();
        this.menu(face, box);
      });
      this.layer.append(box);
    }
  }

  menu(face, box) {
    for (const open of this.layer.querySelectorAll(".face-menu")) open.remove();
    const menu = element("form", "face-menu");
    menu.addEventListener("pointerdown", (event) => event.stopPropagation());
    if (this.getSettings().canChangePeople && face.person) {
      const name = element("input");
      name.value = face.name || "";
      name.placeholder = "Name this person";
      name.setAttribute("aria-label", "Name");
      const save = element("button", "", "Save");
      save.type = "submit";
      menu.append(name, save);
      menu.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api.namePerson(face.person, name.value.trim());
          await this.show(this.entry);
        } catch (error) {
          this.toast(error.message);
        }
      });
      setTimeout(() => name.focus(), 0);
    }
    const same = element("button", "secondary", "Same face");
    same.type = "button";
    same.addEventListener("click", () => {
      const cut = face.key.lastIndexOf(":");
      this.onNavigate({ name: "sameface", id: face.key.slice(0, cut), index: face.key.slice(cut + 1) });
    });
    menu.append(same);
    if (face.person) {
      const photos = element("button", "secondary", "Photos of this person");
      photos.type = "button";
      photos.addEventListener("click", () => this.onNavigate({ name: "person", key: face.person }));
      menu.append(photos);
    }
    menu.style.left = box.style.left;
    menu.style.top = `calc(${box.style.top} + ${box.style.height} + 4px)`;
    this.layer.append(menu);
  }
}
