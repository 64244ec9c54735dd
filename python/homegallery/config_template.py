"""The commented config file that ``homegallery init`` writes.

Written as text rather than dumped from the schema so that every option carries a
comment next to it; a test loads the rendered text to keep it in step with the schema.
"""

from __future__ import annotations

from pathlib import Path

_TEMPLATE = """\
# homegallery configuration
#
# Paths may use {{baseDir}} (the folder of this file), {{configDir}}, {{dataDir}},
# {{cacheDir}}, ~ and $ENVIRONMENT variables. Relative paths start at this file's folder.

# Folders with your photos and videos. Each source keeps its own file index.
sources:
{sources}
# Derived files (previews, web videos, metadata, embeddings), named by content id.
# Needs about 20% of the size of the originals.
storage:
  dir: {storage_dir}

# The catalog the web app and the Python API read (SQLite).
database:
  file: {database_file}

extractor:
  # Worker processes for previews and videos; 0 = one per CPU core.
  workers: 0
  image:
    # pyvips (fast, low memory) or pillow (slower; Pillow-SIMD speeds it up).
    engine: pyvips
    # Longest side in pixels; an image never gets a preview larger than itself.
    previewSizes: [1920, 1280, 800, 320, 128]
    previewQuality: 80
    # The JPEG encoder (README, "Storage", has the measurements): optimised Huffman
    # tables for previews up to optimizeMaxSize px (0: all); progressive saves another
    # 3-4% for 40-65% more preview time. trellisQuant, overshootDeringing,
    # optimizeScans and quantTable 1-8 need libvips with mozjpeg (the pip wheel's).
    # subsample: auto (halve the colour resolution below quality 90), on or off.
    previewJpeg:
      progressive: false
      optimizeCoding: true
      optimizeMaxSize: 800
      trellisQuant: false
      overshootDeringing: false
      optimizeScans: false
      quantTable: 0
      subsample: auto
    # Larger images are refused with an error instead of decoded (decompression bombs).
    maxMegapixels: 250
  video:
    # Web videos take long on small machines; set false to skip them.
    enabled: true
    previewSize: 720
    frameRate: 30
    encoder: libx264
    # H.264 main profile at constant quality (CRF, lower is better and bigger) under
    # the maxrate cap: half the bytes of baseline profile at CRF 23, at a higher SSIM.
    preset: medium
    crf: 25
    profile: main
    level: "3.1"
    maxrate: 4000k
    bufsize: 8000k
    audioBitrate: 128k
  geoReverse:
    # offline: places from data shipped with the package, no network.
    # nominatim: ask the server at `url` (at most one request per second, cached).
    # off: no places.
    provider: offline
    url: https://nominatim.openstreetmap.org
    languages: [en, de]
  models:
    # Where `homegallery models install` puts the models it converts.
    dir: "{{dataDir}}/models"
    # Image embeddings (similar search) and ImageNet labels: efficientnet-lite0 or off.
    embeddings: efficientnet-lite0
    # Faces: the detector (yunet or off) and the recogniser (sface or off); both
    # are needed for people. Faces the detector is at least `faceScore` sure of are
    # kept; two faces are one person from a descriptor cosine of `personThreshold`.
    faceDetection: yunet
    faceRecognition: sface
    faceScore: 0.7
    personThreshold: 0.363
    # COCO objects (`object:dog`, `dog`): nanodet-m or off. Objects the detector is
    # at least `objectScore` sure of are kept; a change takes effect at the next build.
    objects: nanodet-m
    objectScore: 0.4
    # fp32, or int8 once `homegallery models install --int8` has made that variant.
    precision: fp32
    # ImageNet classes at least this probable become a photo's labels and search
    # words (`label:dog`, `dog`); a change takes effect at the next build.
    labelThreshold: 0.2
    # Model worker processes (0: as many as `workers` above allows, over `threads`),
    # onnxruntime threads in each, and images per model run. `homegallery bench
    # --apply` sets workers and threads for this machine.
    workers: 0
    threads: 1
    batchSize: 16
    # A CLIP model you exported yourself (see the README, "Text search with CLIP"):
    # its image and text halves as ONNX and its tokenizer's merges file. Then the
    # embeddings step also stores CLIP vectors and `text:"a dog on the beach"` ranks
    # photos by them. Empty: off. inputSize, mean, std and contextLength are the
    # model's own (these are OpenAI CLIP's and most OpenCLIP models').
    clip:
      image: ""
      text: ""
      tokenizer: ""
      inputSize: 224
      mean: [0.48145466, 0.4578275, 0.40821073]
      std: [0.26862954, 0.26130258, 0.27577711]
      contextLength: 77

server:
  # 127.0.0.1 keeps the gallery on this machine; 0.0.0.0 opens it to your network.
  host: 127.0.0.1
  port: 3000
  prefix: /
  # Map tiles, e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png
  # Empty: the map draws country outlines itself and the browser makes no outside requests.
  tileUrl: ""
  # Host names the gallery is reached by besides this machine's own (localhost, its
  # addresses, its host name), e.g. photos.example.org, or .example.org for every
  # subdomain. Requests for other names are refused, so that no web page can reach the
  # gallery by pointing its own name at this machine (DNS rebinding). "*": no check.
  hosts: []
  # Reverse proxies (IPs or CIDRs, e.g. 127.0.0.1) whose X-Forwarded-For and
  # X-Forwarded-Proto headers say who the client is and whether it used HTTPS.
  # From any other peer these headers are ignored.
  trustedProxies: []
  # Seconds a client has to send a request's headers (and as long again for a body).
  requestTimeout: 10
  # Open connections at most; one more is answered 503 and closed.
  maxConnections: 500
  # HTTPS without a reverse proxy: a PEM certificate (chain) and its private key.
  cert: ""
  key: ""
  auth:
    # Logins. Without any, everyone who reaches the server sees and tags everything.
    # password: a hash from `homegallery serve --hash-password` (argon2); HomeGallery's
    # {{SHA}}… and {{SHA256-salted}}… forms work too. filter: a query limiting what the
    # user sees, e.g. "not tag:private". edit: may add and remove tags (of what the
    # user sees); unset, users without a filter may and users with one may not. Tags
    # that any filter here reads (such as `private`) only users without a filter change.
    # share: may make share links to a photo, an album or a search (of what the user
    # sees); unset, as for edit.
    users: []
    #  - username: anna
    #    password: "$argon2id$v=19$m=65536,t=3,p=4$…"
    #    filter: ""
    #    edit: true
    #    share: true
    # Visitors who are not logged in (only when users are set): nothing unless enabled.
    public:
      enabled: false
      filter: ""
    # By the client's address (IP, CIDR such as 192.168.0.0/16, localhost or all);
    # the first rule that matches wins; an address no rule matches is allowed.
    rules: []
    #  - allow: 192.168.0.0/16
    #  - deny: all
    # Days a login lasts (logging out ends it at once, also across restarts).
    sessionDays: 30

# Extraction on other machines (pip install 'homegallery[cluster]'): a Dask scheduler
# here (`dask scheduler --host <this machine's LAN address>`), `homegallery worker
# ADDRESS` on each helper, then `homegallery run import --cluster ADDRESS`.
cluster:
  # The scheduler used without --cluster; empty: extract on this machine only.
  address: ""
  # ship: the originals' bytes go to the workers, which need no access to the files;
  # shared: workers read the sources and write the storage on a shared file system.
  mode: ship
  # shared: this machine's folder → the same folder on the workers, e.g.
  # {{"/mnt/photos": "/home/me/photos"}}.
  pathMap: {{}}
"""

_SOURCE = """\
  - dir: {dir}
    # gitignore-style patterns, last match wins; `!` re-includes.
    excludes:
      - .Trash*/
      - "@eaDir/"
      - .thumbnails/
    # A folder holding this file is skipped with everything below it.
    excludeIfPresent: .galleryignore
    # Files above this size are left out (e.g. 20M, 1G); empty: no limit.
    maxFileSize: ""
    # true: the disk is unmounted; keep its entries and do not re-index it.
    offline: false
    # true: originals can be downloaded from the web app.
    downloadable: false
    # Symbolic links: a link to a file inside this folder is indexed; links that lead
    # out of it are left out (and reported). true: links to files and folders inside
    # another of these sources are followed too; links anywhere else never are.
    followSymlinks: false
    # How to tell a file is unchanged without reading it again:
    # size-ctime-inode (default), size-ctime or size.
    matcher: size-ctime-inode
"""

_NO_SOURCES = """\
  []
  # Replace [] with your folders, for example:
  # - dir: ~/Pictures
  #   excludes: [.Trash*/]
"""


def _quote(value: str) -> str:
    """YAML double-quoted scalar, so paths with colons or hashes stay literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_config(
    sources: list[Path],
    storage_dir: str = "{dataDir}/storage",
    database_file: str = "{dataDir}/catalog.db",
) -> str:
    sources_text = "".join(_SOURCE.format(dir=_quote(str(source))) for source in sources)
    return _TEMPLATE.format(
        sources=sources_text or _NO_SOURCES,
        storage_dir=_quote(storage_dir),
        database_file=_quote(database_file),
    )
