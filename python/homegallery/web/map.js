// Maps with Leaflet, loaded only when a map is shown. The server groups the places into
// clusters for the zoom and the part of the world in view (api/places/clusters), so a
// million placed photos cost the browser the few hundred markers on the screen.
//
// Tiles come from the configured tile URL. With none (the default), the map draws the
// world's country outlines itself from Natural Earth data served with the app (the
// install step puts the world-atlas package's TopoJSON beside these files), and the
// browser makes no request to any other host.

let loading = null;

function addScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`cannot load ${src}`));
    document.head.append(script);
  });
}

function addStyle(href) {
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.append(link);
}

// Beside the app's own files, wherever the page's <base> points (a share link too).
const vendor = (path) => new URL(`../vendor/${path}`, import.meta.url).href;

export function loadLeaflet() {
  if (!loading) {
    addStyle(vendor("leaflet/leaflet.css"));
    addStyle(vendor("markercluster/MarkerCluster.css"));
    addStyle(vendor("markercluster/MarkerCluster.Default.css"));
    loading = addScript(vendor("leaflet/leaflet.js")).then(() => window.L);
  }
  return loading;
}

// --- the world without tiles ---------------------------------------------------------------

let outlines = null;

// TopoJSON (quantised, delta-encoded arcs) to GeoJSON features of one object.
export function topologyFeatures(topology, name) {
  const transform = topology.transform || { scale: [1, 1], translate: [0, 0] };
  const [sx, sy] = transform.scale;
  const [tx, ty] = transform.translate;
  const arcs = topology.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
  const ring = (indices) => {
    const points = [];
    for (const index of indices) {
      const arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
      points.push(...(points.length ? arc.slice(1) : arc));
    }
    return points;
  };
  const features = [];
  for (const geometry of topology.objects[name].geometries) {
    let coordinates = null;
    if (geometry.type === "Polygon") coordinates = geometry.arcs.map(ring);
    else if (geometry.type === "MultiPolygon") coordinates = geometry.arcs.map((polygon) => polygon.map(ring));
    if (coordinates) features.push({ type: "Feature", properties: {}, geometry: { type: geometry.type, coordinates } });
  }
  return features;
}

function loadOutlines() {
  if (!outlines) {
    outlines = fetch(new URL("./world/countries-50m.json", import.meta.url))
      .then((response) => (response.ok ? response.json() : null))
      .then((topology) => (topology ? topologyFeatures(topology, "countries") : []))
      .catch(() => []);
  }
  return outlines;
}

async function drawOutlines(L, map, container) {
  const features = await loadOutlines();
  container.dataset.outlines = String(features.length);
  if (!features.length) return;
  L.geoJSON(features, {
    interactive: false,
    renderer: L.canvas({ padding: 0.5 }),
    style: { color: "#5b6677", weight: 0.7, fillColor: "#2b323c", fillOpacity: 1 },
  }).addTo(map);
}

const TILE_HINT = "Country outlines only: for street maps, set server.tileUrl (an XYZ tile server).";

function baseMap(L, container, tileUrl, options = {}) {
  // maxZoom on the map itself: without a tile layer nothing else sets it, and the
  // marker clusters need it.
  const map = L.map(container, {
    worldCopyJump: true, minZoom: 1, maxZoom: 19, attributionControl: true, ...options,
  });
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: "map tiles: see the server's tile URL" }).addTo(map);
  } else {
    container.classList.add("no-tiles");
    drawOutlines(L, map, container);
    if (map.attributionControl) map.attributionControl.setPrefix(false).addAttribution(`Natural Earth · ${TILE_HINT}`);
  }
  return map;
}

function dot(L) {
  return L.divIcon({ className: "map-dot", iconSize: [14, 14] });
}

export async function smallMap(container, latitude, longitude, tileUrl) {
  const L = await loadLeaflet();
  const map = baseMap(L, container, tileUrl, { zoomControl: false, attributionControl: false });
  map.setView([latitude, longitude], tileUrl ? 12 : 5);
  L.marker([latitude, longitude], { icon: dot(L), keyboard: false }).addTo(map);
  return map;
}

function clusterIcon(L, count) {
  const size = count < 10 ? "small" : count < 1000 ? "medium" : "large";
  const text = count < 10000 ? String(count) : `${Math.round(count / 1000)}k`;
  return L.divIcon({
    className: `marker-cluster marker-cluster-${size}`,
    html: `<div><span>${text}</span></div>`,
    iconSize: [40, 40],
  });
}

// The map of a result: `fetchClusters(zoom, bounds)` answers as api/places/clusters.
export class MapView {
  constructor(container, onOpen) {
    this.container = container;
    this.onOpen = onOpen;
    this.map = null;
    this.layer = null;
    this.asked = 0;
    this.fetchClusters = null;
    this.thumbnail = null;
    this.zooming = false; // a zoom animation is under way
    this.pending = null; // the view a click asked for during it
    this.onError = () => {};
  }

  // `at`: "latitude,longitude" to centre on (a photo's place), else all places in view.
  // Returns how many placed matches there are.
  async show(fetchClusters, tileUrl, thumbnail, at = "", onError = () => {}) {
    const L = await loadLeaflet();
    this.L = L;
    if (!this.map) {
      this.map = baseMap(L, this.container, tileUrl);
      this.map.setView([30, 0], 2);
      this.layer = L.layerGroup().addTo(this.map);
      this.map.on("moveend", () => this.refresh());
      this.map.on("zoomstart", () => {
        this.zooming = true;
      });
      this.map.on("zoomend", () => {
        this.zooming = false;
        const pending = this.pending;
        this.pending = null;
        if (pending) this.zoomTo(...pending);
      });
    }
    this.fetchClusters = fetchClusters;
    this.thumbnail = thumbnail;
    this.onError = onError;
    this.layer.clearLayers();
    this.drawn = "";
    this.map.invalidateSize();
    const token = ++this.asked;
    const whole = await fetchClusters(this.map.getZoom(), "");
    if (token !== this.asked) return whole.total;
    const centre = /^(-?[\d.]+),(-?[\d.]+)$/.exec(at || "");
    // Placed at once, not animated from the placeholder view: the markers drawn next
    // are then where they stay, and a click on one is not lost to an animation.
    if (centre) {
      this.map.setView([Number(centre[1]), Number(centre[2])], tileUrl ? 14 : 6, { animate: false });
    } else if (whole.bounds.length) {
      const [south, west, north, east] = whole.bounds;
      this.map.fitBounds([[south, west], [north, east]], { padding: [30, 30], maxZoom: 14, animate: false });
    }
    await this.refresh();
    return whole.total;
  }

  // The clusters of what is in view now; an answer overtaken by a newer move is dropped.
  async refresh() {
    if (!this.fetchClusters) return;
    const token = ++this.asked;
    const view = this.map.getBounds();
    const clamp = (latitude) => Math.max(-90, Math.min(90, latitude));
    const bounds = [clamp(view.getSouth()), view.getWest(), clamp(view.getNorth()), view.getEast()]
      .map((value) => value.toFixed(5))
      .join(",");
    let answer;
    try {
      answer = await this.fetchClusters(this.map.getZoom(), bounds);
    } catch (error) {
      if (token === this.asked) this.onError(error);
      return;
    }
    if (token === this.asked) this.draw(answer.clusters);
  }

  draw(clusters) {
    const L = this.L;
    // The same clusters again (the fitted view's own move answers what `show` asked)
    // keep their markers: replacing them would drop a click already on its way.
    const drawn = `${this.map.getZoom()}:${JSON.stringify(clusters)}`;
    if (drawn === this.drawn) return;
    this.drawn = drawn;
    this.layer.clearLayers();
    for (const [latitude, longitude, count, id] of clusters) {
      if (count > 1) {
        const marker = L.marker([latitude, longitude], { icon: clusterIcon(L, count), title: `${count} photos` });
        marker.on("click", () => this.zoomTo(latitude, longitude, Math.min(19, this.map.getZoom() + 2)));
        this.layer.addLayer(marker);
        continue;
      }
      const marker = L.marker([latitude, longitude], { icon: dot(L), title: id.slice(0, 10) });
      marker.on("click", () => this.onOpen(id));
      marker.on("mouseover", () => {
        if (!marker.getTooltip()) {
          const image = document.createElement("img");
          image.src = this.thumbnail(id);
          image.alt = "";
          image.className = "map-thumb";
          marker.bindTooltip(image, { direction: "top", offset: [0, -8] }).openTooltip();
        }
      });
      this.layer.addLayer(marker);
    }
    this.container.dataset.clusters = String(clusters.length);
    this.container.dataset.zoom = String(this.map.getZoom()); // the zoom they were drawn at
    this.container.dataset.shown = String(clusters.reduce((sum, cluster) => sum + cluster[2], 0));
  }

  // Leaflet ignores a new view asked for while a zoom animation runs, so a click that
  // comes then (a quick second click on a cluster) is kept and applied when it ends.
  zoomTo(latitude, longitude, zoom) {
    if (this.zooming) {
      this.pending = [latitude, longitude, zoom];
      return;
    }
    this.map.setView([latitude, longitude], zoom);
  }

  resize() {
    if (this.map) this.map.invalidateSize();
  }
}
