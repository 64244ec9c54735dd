// People: every person as a face, a name and a count; named ones first. A login that
// may change people names them inline, merges a selection into one, hides strangers,
// and can list the hidden ones again to bring one back.

import { api, faceUrl, previewUrl } from "./api.js";
import { element, link } from "./pages.js";

function card(person, canChange, selected, redraw, toast) {
  const box = element("div", "person-card");
  box.dataset.key = person.key;
  const face = link({ name: "person", key: person.key }, "", "person-face");
  const image = element("img");
  image.alt = person.name || "";
  image.loading = "lazy";
  image.src = faceUrl(person.cover);
  face.append(image);
  box.append(face);
  if (canChange) {
    const name = element("input", "person-name");
    name.value = person.name || "";
    name.placeholder = "Add a name";
    name.setAttribute("aria-label", "Name");
    name.addEventListener("keydown", (event) => {
      if (event.key === "Enter") name.blur();
    });
    name.addEventListener("change", async () => {
      try {
        await api.namePerson(person.key, name.value.trim());
        await redraw();
      } catch (error) {
        toast(error.message);
      }
    });
    const pick = element("input");
    pick.type = "checkbox";
    pick.className = "person-pick";
    pick.checked = selected.has(person.key);
    pick.setAttribute("aria-label", "Select to merge");
    pick.addEventListener("change", () => {
      if (pick.checked) selected.add(person.key);
      else selected.delete(person.key);
      redraw.tools();
    });
    box.append(name, pick);
    if (person.hidden) {
      box.classList.add("person-hidden");
      const show = element("button", "secondary person-unhide", "Unhide");
      show.type = "button";
      show.addEventListener("click", async () => {
        try {
          await api.hidePerson(person.key, false);
          await redraw();
        } catch (error) {
          toast(error.message);
        }
      });
      box.append(show);
    }
  } else {
    box.append(element("span", "person-name", person.name || "Unnamed"));
  }
  box.append(element("small", "count", `${person.count.toLocaleString()} ${person.count === 1 ? "photo" : "photos"}`));
  return box;
}

export async function renderPeople(page, settings, toast) {
  const canChange = Boolean(settings && settings.canChangePeople);
  const selected = new Set();
  const list = element("div", "people-grid");
  const tools = element("div", "page-tools");
  const merge = element("button", "", "Merge selected");
  merge.type = "button";
  merge.title = "All selected people become the first one you selected";
  const hide = element("button", "secondary", "Hide selected");
  hide.type = "button";
  const showHidden = element("label", "toggle");
  const showHiddenBox = element("input");
  showHiddenBox.type = "checkbox";
  showHidden.append(showHiddenBox, " Show hidden");
  if (canChange) tools.append(merge, hide, showHidden);
  const redraw = async () => {
    const { people } = await api.people(showHiddenBox.checked);
    list.replaceChildren(...people.map((person) => card(person, canChange, selected, redraw, toast)));
    if (!people.length) list.append(element("p", "muted", "No faces found yet: they come with the next import."));
    page.dataset.people = String(people.length);
    page.dataset.drawn = String(Number(page.dataset.drawn || 0) + 1); // each answer shown
    redraw.tools();
  };
  redraw.tools = () => {
    merge.disabled = selected.size < 2;
    hide.disabled = selected.size < 1;
  };
  merge.addEventListener("click", async () => {
    const [into, ...others] = [...selected];
    try {
      for (const key of others) await api.mergePeople(key, into);
      selected.clear();
      await redraw();
    } catch (error) {
      toast(error.message);
    }
  });
  showHiddenBox.addEventListener("change", () => redraw().catch((error) => toast(error.message)));
  hide.addEventListener("click", async () => {
    try {
      for (const key of selected) await api.hidePerson(key, true);
      selected.clear();
      await redraw();
    } catch (error) {
      toast(error.message);
    }
  });
  page.replaceChildren(element("h1", "page-title", "People"), tools, list);
  await redraw();
}

// Above a person's photos: their face and name, and the way back to everyone.
export async function personHeader(key) {
  const person = await api.person(key);
  const bar = element("div", "album-bar");
  const crumbs = element("span", "crumbs");
  crumbs.append(link({ name: "people" }, "People"), " › ");
  const image = element("img", "person-chip");
  image.alt = "";
  image.src = faceUrl(person.cover);
  crumbs.append(image, ` ${person.name || "Unnamed"} · ${person.count.toLocaleString()}`);
  bar.append(crumbs);
  return bar;
}

// Photos with a face like one face (HomeGallery's "same face"), most alike first.
export async function renderSameFace(page, id, index) {
  const entries = await api.sameFace(id, index);
  const face = element("img", "person-chip");
  face.alt = "";
  face.src = faceUrl(`${id}:${index}`);
  const title = element("h1", "page-title");
  title.append(face, " Same face");
  const list = element("div", "people-grid");
  for (const entry of entries) {
    const anchor = link({ name: "view", id: entry.id }, "", "same-face");
    const image = element("img");
    image.alt = entry.files && entry.files[0] ? entry.files[0].path : "";
    image.loading = "lazy";
    image.src = previewUrl(entry, 320) || "";
    anchor.append(image);
    list.append(anchor);
  }
  page.replaceChildren(title, list);
  page.dataset.same = String(entries.length);
}
