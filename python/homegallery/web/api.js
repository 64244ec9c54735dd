// The server's JSON API. Every URL is relative to the page's <base>, so the app works
// under any prefix the server is mounted at.

export class ApiError extends Error {
  constructor(status, detail, extra) {
    super(detail || `request failed (${status})`);
    this.status = status;
    this.extra = extra || {};
  }
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...options });
  } catch (error) {
    throw new ApiError(0, "the server cannot be reached");
  }
  if (!response.ok) {
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = {};
    }
    throw new ApiError(response.status, body.detail, body.extra);
  }
  return response.json();
}

// The packed timeline's ratios as floats: `table` holds the distinct ratios and `packed`
// (base64) each photo's index in it, one byte each up to 256 ratios, else two
// (little-endian). About a byte a photo on the wire instead of a JSON number each.
export function unpackRatios(table, packed) {
  const bytes = atob(packed);
  const wide = table.length > 256;
  const ratios = new Float32Array(wide ? bytes.length >> 1 : bytes.length);
  for (let i = 0; i < ratios.length; i += 1) {
    const index = wide ? bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8) : bytes.charCodeAt(i);
    ratios[i] = table[index];
  }
  return ratios;
}

async function packedTimeline(q, options) {
  const timeline = await request(withQuery("api/timeline", { q, form: "packed" }), options);
  timeline.ratios = unpackRatios(timeline.ratioTable, timeline.packedRatios);
  delete timeline.packedRatios;
  return timeline;
}

function withQuery(path, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

function postJson(path, body) {
  return request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

export const api = {
  settings: () => request("api/settings"),
  login: (username, password) => postJson("api/login", { username, password }),
  logout: () => postJson("api/logout", {}),
  timeline: packedTimeline,
  entries: (q, offset, limit) => request(withQuery("api/entries", { q, offset, limit })),
  entry: (id) => request(`api/entries/${encodeURIComponent(id)}`),
  position: (id, q) => request(withQuery(`api/entries/${encodeURIComponent(id)}/position`, { q })),
  similar: (id, limit) => request(withQuery(`api/entries/${encodeURIComponent(id)}/similar`, { limit })),
  placeClusters: (q, zoom, bounds, options) =>
    request(withQuery("api/places/clusters", { q, zoom, bounds }), options),
  tags: (q, limit) => request(withQuery("api/tags", { q, limit })),
  folders: (path, offset, limit) => request(withQuery("api/folders", { path, offset, limit })),
  changeTags: (ids, add, remove) => postJson("api/events/tags", { ids, add, remove }),
  albums: () => request("api/albums"),
  saveAlbum: (album) => postJson("api/albums", album),
  deleteAlbum: (id) => postJson("api/albums/delete", { id }),
  createShare: (request) => postJson("api/shares", request),
  shares: () => request("api/shares"),
  revokeShare: (id) => postJson("api/shares/revoke", { id }),
  unlockShare: (password) => postJson("api/share/unlock", { password }),
  people: (hidden) => request(withQuery("api/people", { hidden: hidden ? "true" : "" })),
  person: (key) => request(`api/people/${encodeURIComponent(key)}`),
  faces: (id) => request(`api/entries/${encodeURIComponent(id)}/faces`),
  namePerson: (key, name) => postJson(`api/people/${encodeURIComponent(key)}/name`, { name }),
  mergePeople: (key, into) => postJson(`api/people/${encodeURIComponent(key)}/merge`, { into }),
  sameFace: (id, index) => request(`api/faces/${encodeURIComponent(id)}/${encodeURIComponent(index)}/same`),
  hidePerson: (key, hidden) => postJson(`api/people/${encodeURIComponent(key)}/hide`, { hidden }),
};

// A face cut from its photo: "<media id>:<index>" → the crop's URL.
export function faceUrl(face) {
  const cut = face.lastIndexOf(":");
  return `api/faces/${encodeURIComponent(face.slice(0, cut))}/${face.slice(cut + 1)}`;
}

// --- files ----------------------------------------------------------------------------

function kindOf(path) {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name.slice(name.indexOf("-") + 1);
}

export function fileUrl(entry, kind) {
  return `files/${entry.id}/${kind}`;
}

// Image preview sizes an entry has, smallest first.
export function previewSizes(entry) {
  const sizes = [];
  for (const path of entry.previews || []) {
    const match = /^image-preview-(\d+)\.jpg$/.exec(kindOf(path));
    if (match) sizes.push(Number(match[1]));
  }
  return sizes.sort((a, b) => a - b);
}

// The smallest preview whose longest side covers `pixels`, else the largest there is.
export function previewUrl(entry, pixels) {
  const sizes = previewSizes(entry);
  if (!sizes.length) {
    const poster = (entry.previews || []).map(kindOf).find((kind) => kind.startsWith("video-frame-"));
    return poster ? fileUrl(entry, poster) : null;
  }
  const size = sizes.find((candidate) => candidate >= pixels) || sizes[sizes.length - 1];
  return fileUrl(entry, `image-preview-${size}.jpg`);
}

export function videoUrl(entry) {
  const kind = (entry.previews || []).map(kindOf).find((k) => k.startsWith("video-preview-"));
  return kind ? fileUrl(entry, kind) : null;
}

export function posterUrl(entry) {
  const kind = (entry.previews || []).map(kindOf).find((k) => k.startsWith("video-frame-"));
  return kind ? fileUrl(entry, kind) : previewUrl(entry, 1280);
}

// --- pages of a result ------------------------------------------------------------------

// Entries of one result by index, fetched a page at a time as the grid needs them.
export class EntryPages {
  constructor(query, total, pageSize = 200, firstPage = null) {
    this.query = query;
    this.total = total;
    this.pageSize = pageSize;
    this.pages = new Map(); // page number → entries, or a promise while loading
    if (firstPage) {
      // Asked for together with the timeline, so the first tiles fill in one round trip.
      const loading = firstPage.then((page) => {
        this.pages.set(0, page.entries);
        return page.entries;
      }, (error) => {
        this.pages.delete(0);
        throw error;
      });
      this.pages.set(0, loading);
    }
  }

  get(index) {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    if (!Array.isArray(page)) return null;
    return page[index % this.pageSize] || null;
  }

  load(index) {
    const number = Math.floor(index / this.pageSize);
    const known = this.pages.get(number);
    if (Array.isArray(known)) return Promise.resolve(known);
    if (known) return known;
    const loading = api
      .entries(this.query, number * this.pageSize, this.pageSize)
      .then((page) => {
        this.pages.set(number, page.entries);
        return page.entries;
      })
      .catch((error) => {
        this.pages.delete(number);
        throw error;
      });
    this.pages.set(number, loading);
    return loading;
  }

  loadRange(range) {
    if (!range || !this.total) return Promise.resolve();
    const last = Math.min(range[1], this.total - 1);
    const loads = [];
    for (let index = range[0]; index <= last; index += this.pageSize) loads.push(this.load(index));
    if (range[0] <= last) loads.push(this.load(last));
    return Promise.all(loads);
  }

  async entryAt(index) {
    if (index < 0 || index >= this.total) return null;
    await this.load(index);
    return this.get(index);
  }

  indexOf(id) {
    for (const [number, page] of this.pages) {
      if (!Array.isArray(page)) continue;
      const found = page.findIndex((entry) => entry.id === id);
      if (found >= 0) return number * this.pageSize + found;
    }
    return -1;
  }
}
