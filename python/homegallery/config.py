"""The gallery configuration: schema, defaults, loading and validation.

The file is YAML with camelCase keys, close to HomeGallery's so that its users
recognise (and can paste) their settings. Loading converts the YAML into typed msgspec
structs in one pass; every problem is reported as a single ``ConfigError`` line that
names the file and the key, because a traceback tells a user nothing about a typo.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from homegallery import xdg
from homegallery.errors import HomeGalleryError
from homegallery.models.spec import MODELS, OFF, TASK_DEFAULTS, TASK_KEYS

log = logging.getLogger(__name__)

Matcher = Literal["size-ctime-inode", "size-ctime", "size"]
PreviewEngine = Literal["pyvips", "pillow"]
GeoProvider = Literal["offline", "nominatim", "off"]
ModelPrecision = Literal["fp32", "int8"]
JpegSubsample = Literal["auto", "on", "off"]


class ConfigError(HomeGalleryError):
    """A configuration problem, already phrased for the user (file, key, cause)."""


class _Section(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Common options: YAML keys in camelCase and unknown keys refused (typos)."""


class Source(_Section):
    dir: str
    index: str = ""
    excludes: list[str] = msgspec.field(default_factory=list)
    exclude_from_file: str = ""
    exclude_if_present: str = ".galleryignore"
    max_file_size: str = ""
    offline: bool = False
    downloadable: bool = False
    matcher: Matcher = "size-ctime-inode"
    # Links leading out of the source are never followed; with this, links into
    # another configured source are (see ``homegallery.within``).
    follow_symlinks: bool = False

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def index_path(self) -> Path:
        return Path(self.index)

    @property
    def index_name(self) -> str:
        """The name queries know the source by (HomeGallery's `index:`): its index file's
        name without `.idx`, or the folder's own name where that file is named after it."""
        stem = self.index_path.stem
        return self.path.name if stem == index_stem(self.path.name) else stem

    @property
    def max_file_size_bytes(self) -> int | None:
        return parse_size(self.max_file_size) if self.max_file_size else None


class Storage(_Section):
    dir: str = "{dataDir}/storage"

    @property
    def path(self) -> Path:
        return Path(self.dir)


class Database(_Section):
    file: str = "{dataDir}/catalog.db"

    @property
    def path(self) -> Path:
        return Path(self.file)


class PreviewJpeg(_Section):
    """How previews are encoded: the JPEG encoder's options (libvips ``jpegsave``).

    Trellis quantisation, overshoot deringing, scan optimisation and the quantisation
    tables other than 0 need libvips built with mozjpeg (the pip wheel's is); elsewhere
    they are ignored. ``subsample``: chroma subsampling, ``auto`` halves the colour
    resolution below quality 90.
    """

    progressive: bool = False
    optimize_coding: bool = True
    # Progressive and optimised coding only for previews up to this size (0: all): the
    # extra entropy-coding pass costs more preview time above it than the bytes are worth.
    optimize_max_size: int = 800
    trellis_quant: bool = False
    overshoot_deringing: bool = False
    optimize_scans: bool = False
    quant_table: int = 0
    subsample: JpegSubsample = "auto"


class ImageExtractor(_Section):
    engine: PreviewEngine = "pyvips"
    preview_sizes: list[int] = msgspec.field(default_factory=lambda: [1920, 1280, 800, 320, 128])
    preview_quality: int = 80
    preview_jpeg: PreviewJpeg = msgspec.field(default_factory=PreviewJpeg)
    # Images above this size are refused instead of decoded (decompression bombs).
    max_megapixels: int = 250


class VideoExtractor(_Section):
    enabled: bool = True
    preview_size: int = 720
    frame_rate: int = 30
    encoder: str = "libx264"
    # Main profile at CRF 25 with preset medium: half the bytes of HomeGallery's
    # baseline profile at x264's default CRF 23 with preset slow, at a higher SSIM, in
    # less time (README, "Storage"). Every browser that plays H.264 plays Main.
    preset: str = "medium"
    # Constant quality (libx264's CRF: lower is better and bigger); maxrate caps it.
    crf: int = 25
    profile: str = "main"
    level: str = "3.1"
    maxrate: str = "4000k"
    bufsize: str = "8000k"
    audio_bitrate: str = "128k"
    extra_args: list[str] = msgspec.field(default_factory=list)


class GeoReverse(_Section):
    provider: GeoProvider = "offline"
    url: str = "https://nominatim.openstreetmap.org"
    languages: list[str] = msgspec.field(default_factory=lambda: ["en", "de"])
    user_agent: str = "homegallery (self-hosted photo gallery)"


class Clip(_Section):
    """A CLIP model the user exported (see ``homegallery.ml.clip``): off while ``image``
    is empty. ``mean`` and ``std`` default to OpenAI CLIP's, which OpenCLIP's models use."""

    image: str = ""  # the image half, ONNX
    text: str = ""  # the text half, ONNX
    tokenizer: str = ""  # the BPE merges file (bpe_simple_vocab_16e6.txt.gz)
    input_size: int = 224
    mean: list[float] = msgspec.field(default_factory=lambda: [0.48145466, 0.4578275, 0.40821073])
    std: list[float] = msgspec.field(default_factory=lambda: [0.26862954, 0.26130258, 0.27577711])
    context_length: int = 77

    @property
    def enabled(self) -> bool:
        return bool(self.image)


class Models(_Section):
    """Where installed models live and which model serves each task (``off``: none)."""

    dir: str = "{dataDir}/models"
    embeddings: str = TASK_DEFAULTS["embeddings"]
    face_detection: str = TASK_DEFAULTS["face-detection"]
    face_recognition: str = TASK_DEFAULTS["face-recognition"]
    objects: str = TASK_DEFAULTS["objects"]
    # Faces the detector is at least this sure of are kept (HomeGallery keeps 0.7).
    face_score: float = 0.7
    # Two faces are one person from this cosine of their descriptors on (SFace's
    # operating point in OpenCV's model zoo: 0.363); higher splits more, lower merges more.
    person_threshold: float = 0.363
    # COCO objects the detector is at least this sure of are kept (measured on the
    # darknet demo photos: 0.4 keeps the dog, bicycles, car, giraffe, kites, persons,
    # horses and loses few wrong ones; HomeGallery keeps its own model's above 0.6).
    object_score: float = 0.4
    precision: ModelPrecision = "fp32"
    # ImageNet classes at least this probable become the labels (and words) of a photo.
    label_threshold: float = 0.2
    # Worker processes for the models (0: as many as extract workers, over `threads`),
    # onnxruntime threads in each, and images per model run.
    workers: int = 0
    threads: int = 1
    batch_size: int = 16
    # A CLIP model of the user's own, for `text:` searches.
    clip: Clip = msgspec.field(default_factory=Clip)

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def choices(self) -> dict[str, str]:
        return {
            "embeddings": self.embeddings,
            "face-detection": self.face_detection,
            "face-recognition": self.face_recognition,
            "objects": self.objects,
        }


class Extractor(_Section):
    workers: int = 0
    image: ImageExtractor = msgspec.field(default_factory=ImageExtractor)
    video: VideoExtractor = msgspec.field(default_factory=VideoExtractor)
    geo_reverse: GeoReverse = msgspec.field(default_factory=GeoReverse)
    models: Models = msgspec.field(default_factory=Models)


class User(_Section):
    """A login; ``password`` holds a hash, never the password itself.

    argon2 (``$argon2id$…``, from ``homegallery serve --hash-password``) is the form to
    use; HomeGallery's ``{SHA}…`` and ``{SHA256-salted}…`` are accepted so that its
    users can bring their config along.
    """

    username: str
    password: str
    filter: str = ""  # a query: this user sees only the entries it matches
    # May add and remove tags; unset: yes without a filter, no with one
    # (see homegallery.server.editing for the tags only unfiltered users may change).
    edit: bool | None = None
    # May make share links (of what they see); unset: like `edit`.
    share: bool | None = None


class PublicAccess(_Section):
    """Visitors who are not logged in: none unless enabled, and then only ``filter``."""

    enabled: bool = False
    filter: str = ""


class AccessRule(_Section):
    """``allow: <address>`` or ``deny: <address>``: an IP, a CIDR, ``localhost`` or ``all``."""

    allow: str = ""
    deny: str = ""


class Auth(_Section):
    users: list[User] = msgspec.field(default_factory=list)
    public: PublicAccess = msgspec.field(default_factory=PublicAccess)
    # By the client's address, first match wins; no match: allowed.
    rules: list[AccessRule] = msgspec.field(default_factory=list)
    session_days: int = 30


class Server(_Section):
    host: str = "127.0.0.1"
    port: int = 3000
    prefix: str = "/"
    tile_url: str = ""
    auth: Auth = msgspec.field(default_factory=Auth)
    # Host names the server answers to besides its own (see server/hosts.py).
    hosts: list[str] = msgspec.field(default_factory=list)
    # Reverse proxies whose X-Forwarded-For/-Proto headers are believed.
    trusted_proxies: list[str] = msgspec.field(default_factory=list)
    # Seconds a client has to send a request's headers (and as long for a body).
    request_timeout: float = 10.0
    max_connections: int = 500
    # HTTPS without a proxy: a PEM certificate (chain) and its private key.
    cert: str = ""
    key: str = ""


# A DNS name (optionally starting with a dot: every subdomain), an IP address, an IPv6
# address in brackets, or `*`.
HOST_PATTERN = re.compile(
    r"^(\*|\.?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?|\[?[0-9A-Fa-f:.]+\]?)$"
)
PASSWORD_HASH_PREFIXES = ("$argon2id$", "$argon2i$", "$argon2d$", "{SHA}", "{SHA256-salted}")
_LOCALHOST = ("127.0.0.0/8", "::1/128")
_ANY = ("0.0.0.0/0", "::/0")


def rule_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks an access rule names; HomeGallery's short ``192.168/16`` is accepted.

    Raises ValueError with the value for anything else.
    """
    text = value.strip().lower()
    if text in ("all", "*"):
        names: tuple[str, ...] = _ANY
    elif text == "localhost":
        names = _LOCALHOST
    else:
        address, _, bits = text.partition("/")
        if ":" not in address and address.count(".") < 3 and bits:
            parts = address.split(".")
            address = ".".join(parts + ["0"] * (4 - len(parts)))
        names = (f"{address}/{bits}" if bits else address,)
    try:
        return tuple(ipaddress.ip_network(name, strict=False) for name in names)
    except ValueError:
        raise ValueError(
            f"not an address: {value!r} (use an IP, a CIDR such as 192.168.0.0/16, "
            "localhost or all)"
        ) from None


ClusterMode = Literal["ship", "shared"]


class Cluster(_Section):
    """Extraction on a Dask cluster (``extract --cluster``, ``run import --cluster``).

    ``mode``: ``ship`` sends each original's bytes to the workers and stores what comes
    back (workers need no access to the files); ``shared``: the workers read the
    sources and write the storage on a shared file system, at the paths ``pathMap``
    gives (this machine's folder → the workers' folder), and a worker that does not
    see them gets the bytes instead.
    """

    address: str = ""  # the scheduler used when no --cluster is given ("": run locally)
    mode: ClusterMode = "ship"
    path_map: dict[str, str] = msgspec.field(default_factory=dict)


class Config(_Section):
    sources: list[Source] = msgspec.field(default_factory=list)
    storage: Storage = msgspec.field(default_factory=Storage)
    database: Database = msgspec.field(default_factory=Database)
    extractor: Extractor = msgspec.field(default_factory=Extractor)
    server: Server = msgspec.field(default_factory=Server)
    cluster: Cluster = msgspec.field(default_factory=Cluster)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Bytes of a human size such as ``20M`` or ``1.5G`` (binary units, like HomeGallery)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 500K, 20M, 1G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _expand(value: str, variables: dict[str, str], base_dir: Path) -> str:
    for name, replacement in variables.items():
        value = value.replace("{" + name + "}", replacement)
    path = Path(os.path.expandvars(value)).expanduser()
    return str(path if path.is_absolute() else base_dir / path)


def _resolve_paths(config: Config, config_file: Path) -> None:
    """Makes every path absolute: relative paths are taken from the config's folder."""
    base_dir = config_file.parent.resolve()
    variables = {
        "baseDir": str(base_dir),
        "configDir": str(xdg.config_home()),
        "dataDir": str(xdg.data_home()),
        "cacheDir": str(xdg.cache_home()),
    }
    config.storage.dir = _expand(config.storage.dir, variables, base_dir)
    config.database.file = _expand(config.database.file, variables, base_dir)
    config.extractor.models.dir = _expand(config.extractor.models.dir, variables, base_dir)
    clip = config.extractor.models.clip
    for name in ("image", "text", "tokenizer"):
        if getattr(clip, name):
            setattr(clip, name, _expand(getattr(clip, name), variables, base_dir))
    if config.server.cert:
        config.server.cert = _expand(config.server.cert, variables, base_dir)
    if config.server.key:
        config.server.key = _expand(config.server.key, variables, base_dir)
    index_dir = Path(config.database.file).parent / "index"
    for source in config.sources:
        source.dir = _expand(source.dir, variables, base_dir)
        if source.exclude_from_file:
            source.exclude_from_file = _expand(source.exclude_from_file, variables, base_dir)
        if source.index:
            source.index = _expand(source.index, variables, base_dir)
        else:
            source.index = str(index_dir / f"{index_stem(Path(source.dir).name)}.idx")


def index_stem(folder_name: str) -> str:
    """The default index file's name (without `.idx`) for a source folder's name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", folder_name).strip("-") or "source"


def _location(path: str) -> str:
    """``$.sources[0].dir`` → ``sources[0].dir``: the key as the user wrote it."""
    return path.removeprefix("$").removeprefix(".") or "(top level)"


def _validation_message(error: msgspec.ValidationError) -> str:
    text = str(error)
    match = re.match(r"^(.*?)(?: - at `([^`]*)`)?$", text)
    assert match is not None
    cause, where = match.group(1), match.group(2)
    unknown = re.match(r"Object contains unknown field `([^`]*)`", cause)
    if unknown:
        key = unknown.group(1)
        prefix = _location(where) + "." if where else ""
        return f"unknown key `{prefix}{key}`"
    missing = re.match(r"Object missing required field `([^`]*)`", cause)
    if missing:
        prefix = _location(where) + "." if where else ""
        return f"missing key `{prefix}{missing.group(1)}`"
    if where:
        return f"`{_location(where)}`: {cause[0].lower()}{cause[1:]}"
    return cause


def _check_sources(sources: list[Source], config_file: Path) -> list[str]:
    problems = []
    seen_index: dict[str, int] = {}
    for number, source in enumerate(sources):
        key = f"sources[{number}]"
        problems.extend(_check_folder(key, source, config_file))
        if source.max_file_size:
            try:
                parse_size(source.max_file_size)
            except ValueError as error:
                problems.append(f"`{key}.maxFileSize`: {error}")
        if source.exclude_from_file and not Path(source.exclude_from_file).is_file():
            problems.append(
                f"`{key}.excludeFromFile`: file {source.exclude_from_file} does not exist"
            )
        if source.index in seen_index:
            problems.append(
                f"`{key}.index`: {source.index} is already used by sources[{seen_index[source.index]}]"
                " (each source needs its own index file)"
            )
        seen_index[source.index] = number
    return problems


def _check_folder(key: str, source: Source, config_file: Path) -> list[str]:
    if source.offline or source.path.is_dir():
        return []
    if not source.path.exists() and source.index_path.is_file():
        # Indexed before, gone now: an unmounted disk, not a typo. The stages keep
        # its entries and report it; refusing the whole config would stop the
        # server and the other sources too.
        log.warning(
            "%s: `%s.dir`: folder %s is missing (unmounted?); its index is kept",
            config_file,
            key,
            source.dir,
        )
        return []
    reason = "does not exist" if not source.path.exists() else "is not a folder"
    return [
        f"`{key}.dir`: folder {source.dir} {reason} "
        "(mark the source `offline: true` if its disk is unmounted)"
    ]


def _check(config: Config, config_file: Path) -> list[str]:
    """Checks that need more than types: folders, sizes, unique index files."""
    problems = _check_sources(config.sources, config_file)
    if not 1 <= config.server.port <= 65535:
        problems.append(f"`server.port`: {config.server.port} is not a TCP port (1-65535)")
    problems.extend(_check_auth(config.server.auth))
    problems.extend(_check_network(config.server))
    if config.extractor.workers < 0:
        problems.append("`extractor.workers`: must be 0 (one per core) or more")
    if not 1 <= config.extractor.image.preview_quality <= 100:
        problems.append("`extractor.image.previewQuality`: must be between 1 and 100")
    if config.extractor.image.preview_jpeg.optimize_max_size < 0:
        problems.append("`extractor.image.previewJpeg.optimizeMaxSize`: must be 0 (all) or more")
    if not 0 <= config.extractor.image.preview_jpeg.quant_table <= 8:
        problems.append("`extractor.image.previewJpeg.quantTable`: must be from 0 to 8")
    if any(size <= 0 for size in config.extractor.image.preview_sizes):
        problems.append("`extractor.image.previewSizes`: sizes must be positive")
    if config.extractor.image.max_megapixels <= 0:
        problems.append("`extractor.image.maxMegapixels`: must be positive")
    if not 0 <= config.extractor.video.crf <= 51:
        problems.append("`extractor.video.crf`: must be from 0 to 51")
    problems.extend(_check_models(config.extractor.models))
    problems.extend(_check_cluster(config.cluster))
    return problems


def _check_cluster(cluster: Cluster) -> list[str]:
    return [
        f"`cluster.pathMap`: {path!r} is not an absolute path"
        for pair in cluster.path_map.items()
        for path in pair
        if not path.startswith("/")
    ]


def _check_models(models: Models) -> list[str]:
    problems = [
        f"`extractor.models.{key}`: must be {what}"
        for key, ok, what in (
            ("labelThreshold", 0.0 <= models.label_threshold <= 1.0, "a probability from 0 to 1"),
            ("faceScore", 0.0 < models.face_score <= 1.0, "a score above 0, at most 1"),
            ("objectScore", 0.0 <= models.object_score <= 1.0, "a score from 0 to 1"),
            ("personThreshold", -1.0 <= models.person_threshold <= 1.0, "a cosine from -1 to 1"),
        )
        if not ok
    ]
    if models.workers < 0:
        problems.append(
            "`extractor.models.workers`: must be 0 (as many as extract workers) or more"
        )
    if not 1 <= models.threads <= 64:
        problems.append("`extractor.models.threads`: must be from 1 to 64")
    if not 1 <= models.batch_size <= 256:
        problems.append("`extractor.models.batchSize`: must be from 1 to 256")
    problems.extend(_check_clip(models.clip))
    for task, name in models.choices.items():
        if name == OFF:
            continue
        spec = MODELS.get(name)
        if spec is None or spec.task != task:
            fitting = [known.name for known in MODELS.values() if known.task == task]
            problems.append(
                f"`extractor.models.{TASK_KEYS[task]}`: no {task} model named {name!r} "
                f"(choose {', '.join([*fitting, OFF])})"
            )
    return problems


def _check_clip(clip: Clip) -> list[str]:
    key = "`extractor.models.clip"
    given = [name for name in ("image", "text", "tokenizer") if getattr(clip, name)]
    problems = []
    if given and len(given) < 3:
        missing = [name for name in ("image", "text", "tokenizer") if name not in given]
        problems.append(
            f"{key}`: {', '.join(missing)} missing (a CLIP model needs image, text and tokenizer)"
        )
    if not 16 <= clip.input_size <= 1024:
        problems.append(f"{key}.inputSize`: must be from 16 to 1024 pixels")
    if len(clip.mean) != 3 or len(clip.std) != 3 or min(clip.std, default=0) <= 0:
        problems.append(f"{key}.mean` and `std`: three numbers each (R, G, B), std above 0")
    if not 2 <= clip.context_length <= 1024:
        problems.append(f"{key}.contextLength`: must be from 2 to 1024 tokens")
    return problems


def _check_auth(auth: Auth) -> list[str]:
    problems = []
    seen: set[str] = set()
    for number, user in enumerate(auth.users):
        key = f"server.auth.users[{number}]"
        if not user.username.strip():
            problems.append(f"`{key}.username`: must not be empty")
        elif user.username in seen:
            problems.append(f"`{key}.username`: {user.username!r} is listed twice")
        seen.add(user.username)
        if not user.password.startswith(PASSWORD_HASH_PREFIXES):
            problems.append(
                f"`{key}.password`: store a password hash, not the password "
                "(make one with `homegallery serve --hash-password`)"
            )
    for number, rule in enumerate(auth.rules):
        key = f"server.auth.rules[{number}]"
        if bool(rule.allow) == bool(rule.deny):
            problems.append(f"`{key}`: give exactly one of `allow: <address>` or `deny: <address>`")
            continue
        try:
            rule_networks(rule.allow or rule.deny)
        except ValueError as error:
            problems.append(f"`{key}`: {error}")
    if auth.session_days <= 0:
        problems.append("`server.auth.sessionDays`: must be positive")
    return problems


def _check_proxies(proxies: list[str]) -> list[str]:
    problems = []
    for number, value in enumerate(proxies):
        key = f"`server.trustedProxies[{number}]`"
        if value.strip().lower() in ("all", "*"):
            problems.append(
                f"{key}: name the proxies' addresses; `all` would let anyone say who they are"
            )
            continue
        try:
            rule_networks(value)
        except ValueError as error:
            problems.append(f"{key}: {error}")
    return problems


def _check_network(server: Server) -> list[str]:
    problems = []
    for number, name in enumerate(server.hosts):
        if not HOST_PATTERN.match(name.strip()):
            problems.append(
                f"`server.hosts[{number}]`: {name!r} is not a host name (use e.g. "
                "photos.example.org, .example.org for its subdomains, an IP address or *)"
            )
    problems.extend(_check_proxies(server.trusted_proxies))
    if bool(server.cert) != bool(server.key):
        problems.append("`server.cert` and `server.key`: give both (HTTPS) or neither")
    for name, path in (("cert", server.cert), ("key", server.key)):
        if path and not Path(path).is_file():
            problems.append(f"`server.{name}`: file {path} does not exist")
    if not server.request_timeout > 0:
        problems.append("`server.requestTimeout`: must be a positive number of seconds")
    if server.max_connections < 1:
        problems.append("`server.maxConnections`: must be 1 or more")
    return problems


def _unquoted_off(data: dict[str, Any]) -> None:
    """YAML 1.1 reads an unquoted ``off`` as false; ``provider: off`` means "off"."""
    extractor = data.get("extractor", {})
    geo = extractor.get("geoReverse") if isinstance(extractor, dict) else None
    if isinstance(geo, dict) and geo.get("provider") is False:
        geo["provider"] = "off"
    models = extractor.get("models") if isinstance(extractor, dict) else None
    if isinstance(models, dict):
        for key in TASK_KEYS.values():
            if models.get(key) is False:
                models[key] = OFF


def parse_config(data: Any, config_file: Path) -> Config:
    """Typed, resolved and checked config from already-decoded YAML data."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{config_file}: the top level must be a mapping of keys")
    _unquoted_off(data)
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as error:
        raise ConfigError(f"{config_file}: {_validation_message(error)}") from None
    _resolve_paths(config, config_file)
    problems = _check(config, config_file)
    if problems:
        raise ConfigError(f"{config_file}: {problems[0]}")
    return config


def load_config(path: Path | str | None = None) -> Config:
    """Reads, validates and resolves a config file (default: the XDG location)."""
    config_file = Path(path) if path is not None else xdg.default_config_file()
    try:
        text = config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_file}: config file not found (create one with `homegallery init`)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config_file}: cannot read the config file: {error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{config_file}: invalid YAML{where}: {problem}") from None
    return parse_config(data, config_file)
