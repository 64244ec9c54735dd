// Share links: the dialog that makes one, the page of the user's links, and the
// password box a visitor with a locked link sees.

import { ApiError, api } from "./api.js";
import { element } from "./pages.js";

const EXPIRY = [["", "Never (until revoked)"], ["1", "1 day"], ["7", "1 week"], ["30", "1 month"], ["365", "1 year"]];

export function linkUrl(info) {
  return new URL(info.link, document.baseURI).href;
}

function copyButton(input) {
  const button = element("button", "secondary", "Copy");
  button.type = "button";
  button.addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    } catch (error) {
      document.execCommand("copy");
      button.textContent = "Copied";
    }
  });
  return button;
}

// What a share of this view would show: a photo, an album or the current result.
export function describeTarget(target) {
  if (target.kind === "photo") return "this photo";
  if (target.kind === "album") return `the album ${target.target}`;
  return `the result of ${target.target}`;
}

export function openShareDialog(target, onDone = () => {}) {
  const box = element("div", "dialog");
  box.id = "share-dialog";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", "Share with a link");
  const form = element("form", "dialog-box");
  const close = () => {
    box.remove();
    onDone();
  };
  form.append(element("h2", "", "Share with a link"), element("p", "muted", `Anyone with the link sees ${describeTarget(target)}, and nothing else.`));
  const title = element("input");
  title.name = "title";
  title.placeholder = "Title (shown to visitors)";
  title.maxLength = 200;
  const password = element("input");
  password.name = "password";
  password.type = "password";
  password.autocomplete = "new-password";
  password.placeholder = "Password (optional)";
  const expires = element("select");
  expires.name = "expires";
  for (const [value, label] of EXPIRY) {
    const option = element("option", "", label);
    option.value = value;
    expires.append(option);
  }
  const originals = element("input");
  originals.type = "checkbox";
  originals.name = "originals";
  const originalsLabel = element("label", "check");
  originalsLabel.append(originals, " Allow downloading originals");
  const labelled = (text, input) => {
    const label = element("label");
    label.append(text, input);
    return label;
  };
  const error = element("p", "error");
  error.hidden = true;
  const create = element("button", "primary", "Make link");
  create.type = "submit";
  const cancel = element("button", "secondary", "Close");
  cancel.type = "button";
  cancel.addEventListener("click", close);
  const buttons = element("div", "dialog-buttons");
  buttons.append(create, cancel);
  form.append(labelled("Title", title), labelled("Password", password), labelled("Expires", expires), originalsLabel, error, buttons);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    create.disabled = true;
    try {
      const info = await api.createShare({
        kind: target.kind,
        target: target.target,
        title: title.value,
        password: password.value,
        expiresDays: expires.value ? Number(expires.value) : null,
        originals: originals.checked,
      });
      const result = element("div", "share-result");
      const input = element("input", "share-link");
      input.readOnly = true;
      input.value = linkUrl(info);
      input.setAttribute("aria-label", "The link");
      result.append(element("p", "", `The link shows ${info.count} ${info.count === 1 ? "item" : "items"}:`), input, copyButton(input));
      form.replaceChildren(element("h2", "", "Link made"), result, buttons);
      create.remove();
      input.focus();
      input.select();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      create.disabled = false;
    }
  });
  box.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key === "Escape") close();
  });
  box.append(form);
  document.body.append(box);
  title.focus();
}

function formatTime(seconds) {
  return new Date(seconds * 1000).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export async function renderShares(page) {
  const draw = (shares) => {
    const list = element("div", "share-list");
    for (const info of shares) {
      const row = element("section", "share-row");
      row.dataset.id = String(info.id);
      const heading = element("h2", "", info.title);
      const what = info.kind === "photo" ? "a photo" : info.kind === "album" ? `album ${info.target}` : `search ${info.target}`;
      const facts = [what, info.count < 0 ? "shows nothing now" : `${info.count} ${info.count === 1 ? "item" : "items"}`,
        `made ${formatTime(info.created)}`,
        info.expires ? `${info.expired ? "expired" : "expires"} ${formatTime(info.expires)}` : "no expiry",
        info.password ? "password" : "no password", info.originals ? "originals" : "previews only"];
      const input = element("input", "share-link");
      input.readOnly = true;
      input.value = linkUrl(info);
      input.setAttribute("aria-label", `Link ${info.title}`);
      const revoke = element("button", "danger", "Revoke");
      revoke.type = "button";
      revoke.addEventListener("click", async () => {
        try {
          draw((await api.revokeShare(info.id)).shares);
        } catch (error) {
          row.append(element("p", "error", error.message));
        }
      });
      const tools = element("div", "page-tools");
      tools.append(input, copyButton(input), revoke);
      row.append(heading, element("p", "muted", facts.join(" · ")), tools);
      list.append(row);
    }
    if (!shares.length) list.append(element("p", "muted", "No links yet. Open a photo, an album or a search and choose Share."));
    page.replaceChildren(element("h1", "page-title", "Shared links"), list);
    page.dataset.shares = String(shares.length);
  };
  draw((await api.shares()).shares);
}

// A locked link: its password, then the app as usual.
export function askSharePassword(onUnlocked) {
  const box = $box();
  const form = element("form", "login-box");
  const heading = element("h1", "", "Password");
  const input = element("input");
  input.type = "password";
  input.name = "password";
  input.autocomplete = "current-password";
  input.required = true;
  input.setAttribute("aria-label", "Password of this link");
  const error = element("p", "login-error");
  error.hidden = true;
  const submit = element("button", "", "Open");
  submit.type = "submit";
  form.append(heading, element("p", "muted", "This link needs its password."), input, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const settings = await api.unlockShare(input.value);
      box.remove();
      onUnlocked(settings);
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401 ? "Wrong password" : failure.message;
      error.hidden = false;
    }
  });
  box.append(form);
  document.body.append(box);
  input.focus();
}

function $box() {
  const box = element("div", "login");
  box.id = "unlock";
  return box;
}
