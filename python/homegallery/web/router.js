// The app's addresses: every view has its own, relative to the page's <base>, so the
// app runs the same at the server's prefix and inside a share link.
//
//   ""                    everything          search/<query>     a search
//   view/<id>?q=<query>   one entry, stepping through the result of <query>
//   similar/<id>          entries like one    years, years/<y>   years and months
//   tags                  every tag           map?q=<query>      the map
//   folders/<path>        the folder tree     albums/<path>      albums
//   shares                the user's share links
//   people, people/<key>  the people, and one person's photos
//   faces/<id>/<n>        photos with a face like face n of entry <id>
//
// A "list" is what the grid shows; each list view says which query that is.

import { quoted } from "./chips.js";

export const BASE = new URL(document.baseURI).pathname; // ends with "/"

const decode = (part) => {
  try {
    return decodeURIComponent(part);
  } catch (error) {
    return part;
  }
};
const encodePath = (path) => path.split("/").map(encodeURIComponent).join("/");

export function parseRoute(pathname, search) {
  // The base itself may be asked for without its final slash (/s/<token>).
  const path = `${pathname}/` === BASE ? BASE : pathname;
  const relative = path.startsWith(BASE) ? path.slice(BASE.length) : path.replace(/^\//, "");
  const parts = relative.split("/");
  const head = parts[0];
  const rest = parts.slice(1).map(decode).filter((part, index, all) => part || index < all.length - 1).join("/");
  const params = new URLSearchParams(search || "");
  const q = params.get("q") || "";
  switch (head) {
    case "":
      return { name: "all" };
    case "search":
      return rest ? { name: "search", query: rest } : { name: "all" };
    case "view":
      return { name: "view", id: decode(parts[1] || ""), query: q };
    case "similar":
      return { name: "similar", id: decode(parts[1] || "") };
    case "years":
      return rest ? { name: "year", year: rest } : { name: "years" };
    case "tags":
      return { name: "tags" };
    case "map":
      return { name: "map", query: q, at: params.get("at") || "" };
    case "folders":
      return { name: "folders", path: rest };
    case "albums":
      return { name: "albums", path: rest };
    case "shares":
      return { name: "shares" };
    case "people":
      return rest ? { name: "person", key: rest } : { name: "people" };
    case "faces":
      return { name: "sameface", id: decode(parts[1] || ""), index: decode(parts[2] || "") };
    default:
      return { name: "unknown", path: relative };
  }
}

export function currentRoute() {
  return parseRoute(location.pathname, location.search);
}

// The address of a route, relative to <base>.
export function hrefOf(route) {
  const withQuery = (path, query, extra = {}) => {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    for (const [key, value] of Object.entries(extra)) if (value) params.set(key, value);
    const text = params.toString();
    return text ? `${path}?${text}` : path;
  };
  switch (route.name) {
    case "search":
      return route.query ? `search/${encodeURIComponent(route.query)}` : "./";
    case "view":
      return withQuery(`view/${encodeURIComponent(route.id)}`, route.query);
    case "similar":
      return `similar/${encodeURIComponent(route.id)}`;
    case "years":
      return "years";
    case "year":
      return `years/${encodeURIComponent(route.year)}`;
    case "tags":
      return "tags";
    case "map":
      return withQuery("map", route.query, { at: route.at });
    case "folders":
      return route.path ? `folders/${encodePath(route.path)}` : "folders";
    case "albums":
      return route.path ? `albums/${encodePath(route.path)}` : "albums";
    case "shares":
      return "shares";
    case "people":
      return "people";
    case "person":
      return `people/${encodeURIComponent(route.key)}`;
    case "sameface":
      return `faces/${encodeURIComponent(route.id)}/${encodeURIComponent(route.index)}`;
    default:
      return "./";
  }
}

// The grid's query for a list view; null for views that are no list.
export function listQuery(route, albums = null) {
  switch (route.name) {
    case "all":
      return "";
    case "search":
      return route.query;
    case "view":
      return route.query;
    case "similar":
      return `similar:${route.id}`;
    case "person":
      return `personid:${quoted(route.key)}`;
    case "year":
      return /^\d{1,4}$/.test(route.year) ? `year:${route.year}` : `year:${quoted(route.year)}`;
    case "folders":
      return route.path ? `folder:${quoted(route.path)}` : "";
    case "albums": {
      if (!route.path || !albums) return null;
      const album = albums.find((candidate) => candidate.name === route.path);
      return album ? album.query : null;
    }
    default:
      return null;
  }
}

// The list view a query is best shown as (where a photo's Close returns to).
export function routeForQuery(query) {
  const similar = /^similar:([0-9a-f]+)$/.exec(query);
  if (similar) return { name: "similar", id: similar[1] };
  const year = /^year:(\d{1,4})$/.exec(query);
  if (year) return { name: "year", year: year[1] };
  return query ? { name: "search", query } : { name: "all" };
}

export function urlOf(route) {
  return new URL(hrefOf(route), document.baseURI);
}
