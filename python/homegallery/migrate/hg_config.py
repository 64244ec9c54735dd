"""HomeGallery's config, read with its own variables and defaults, said in our keys.

HomeGallery resolves ``{baseDir}`` (default ``~``), ``{configDir}``
(``{baseDir}/.config/home-gallery``), ``{cacheDir}`` (``{baseDir}/.cache/home-gallery``),
``{configPrefix}`` (empty) and, in a source, ``{basename(dir)}``; the environment
(``GALLERY_BASE_DIR`` …) overrides them. Paths starting with ``./`` are relative to
the config file, other relative paths to the current folder. Whatever has no
counterpart here is named in ``Translation.notes`` rather than dropped silently.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from homegallery.errors import HomeGalleryError
from homegallery.server.passwords import hash_password

_VARIABLES = {
    "baseDir": ("GALLERY_BASE_DIR", "~"),
    "configDir": ("GALLERY_CONFIG_DIR", "{baseDir}/.config/home-gallery"),
    "configPrefix": ("GALLERY_CONFIG_PREFIX", ""),
    "cacheDir": ("GALLERY_CACHE_DIR", "{baseDir}/.cache/home-gallery"),
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.()]*)\}")
_HASHED = ("{SHA}", "{SHA256-salted}", "$argon2")


class HomeGalleryConfigError(HomeGalleryError):
    """A HomeGallery config that cannot be read; the message names the file."""


@dataclass
class HomeGallerySource:
    dir: Path
    index: Path  # HomeGallery's file index (gzipped JSON with sha1 checksums)


@dataclass
class Translation:
    config: dict[str, Any]  # our config, as YAML data
    sources: list[HomeGallerySource]
    events_file: Path
    notes: list[str] = field(default_factory=list)


def read_homegallery_config(path: Path) -> dict[str, Any]:
    """The decoded file (YAML, or JSON for ``gallery.config.json``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HomeGalleryConfigError(f"{path}: no such HomeGallery config") from None
    except (OSError, UnicodeDecodeError) as error:
        raise HomeGalleryConfigError(f"{path}: cannot read: {error}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise HomeGalleryConfigError(f"{path}: not valid YAML/JSON: {error}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HomeGalleryConfigError(f"{path}: the top level must be a mapping of keys")
    return data


class _Resolver:
    def __init__(self, data: dict[str, Any], config_file: Path) -> None:
        self.config_file = config_file
        self.values: dict[str, str] = {}
        for name, (variable, default) in _VARIABLES.items():
            raw = os.environ.get(variable) or data.get(name) or default
            self.values[name] = self.text(str(raw))

    def text(self, value: str, extra: dict[str, str] | None = None) -> str:
        """``value`` with every known placeholder replaced (unknown ones stay)."""

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if extra and name in extra:
                return extra[name]
            if name in self.values:
                return self.values[name]
            if name.startswith("env."):
                return os.environ.get(name[4:], match.group(0))
            return match.group(0)

        for _ in range(5):  # variables may name variables
            replaced = _PLACEHOLDER.sub(replace, value)
            if replaced == value:
                break
            value = replaced
        return value

    def path(self, value: str, extra: dict[str, str] | None = None) -> Path:
        text = os.path.expandvars(self.text(value, extra))
        path = Path(text).expanduser()
        if path.is_absolute():
            return path
        if text.startswith(("./", "../")):
            return (self.config_file.parent / path).resolve()
        return Path.cwd() / path


def _strings(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


_SOURCE_KEYS = {"excludeIfPresent", "offline", "downloadable", "matcher"}


def _source(
    raw: Any, number: int, resolver: _Resolver, extra_excludes: list[str], notes: list[str]
) -> tuple[dict[str, Any], HomeGallerySource] | None:
    if isinstance(raw, str):
        raw = {"dir": raw}
    if not isinstance(raw, dict) or not raw.get("dir"):
        notes.append(f"sources[{number}]: no `dir`, left out")
        return None
    folder = resolver.path(str(raw["dir"]))
    names = {"dir": str(folder), "basename(dir)": folder.name}
    index = resolver.path(
        str(raw.get("index") or "{configDir}/{configPrefix}{basename(dir)}.idx"), names
    )
    ours: dict[str, Any] = {"dir": str(folder)}
    excludes = _strings(raw.get("excludes")) + extra_excludes
    if excludes:
        ours["excludes"] = excludes
    if raw.get("excludeFromFile"):
        ours["excludeFromFile"] = str(resolver.path(str(raw["excludeFromFile"]), names))
    size = raw.get("maxFilesize") or raw.get("maxFileSize")
    if size:
        ours["maxFileSize"] = str(size)
    for key in sorted(_SOURCE_KEYS):
        if key in raw:
            ours[key] = raw[key]
    if not folder.is_dir() and not ours.get("offline"):
        ours["offline"] = True
        notes.append(f"sources[{number}]: folder {folder} is missing, marked offline")
    for key in sorted(set(raw) - _SOURCE_KEYS - {"dir", "index", "excludes",
                                                  "excludeFromFile", "maxFilesize",
                                                  "maxFileSize"}):  # fmt: skip
        notes.append(f"sources[{number}].{key}: not carried (no such setting here)")
    return ours, HomeGallerySource(dir=folder, index=index)


def _user(raw: Any, number: int, notes: list[str]) -> dict[str, Any] | None:
    """HomeGallery lists a user as ``name: password`` or with ``username``/``password``."""
    if not isinstance(raw, dict):
        notes.append(f"server.auth.users[{number}]: not a user, left out")
        return None
    if "username" in raw:
        name, password = str(raw["username"]), str(raw.get("password") or "")
    elif len(raw) == 1:
        name, password = (str(part) for part in next(iter(raw.items())))
    else:
        notes.append(f"server.auth.users[{number}]: no username, left out")
        return None
    if not password:
        notes.append(f"server.auth.users[{number}] ({name}): no password, left out")
        return None
    if not password.startswith(_HASHED):
        password = hash_password(password)
        notes.append(f"user {name}: plain password stored as an argon2 hash")
    user: dict[str, Any] = {"username": name, "password": password}
    if raw.get("filter"):
        user["filter"] = str(raw["filter"])
    return user


def _auth(server: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    auth = _section(server, "auth")
    ours: dict[str, Any] = {}
    users = [
        user
        for number, raw in enumerate(auth.get("users") or [])
        if (user := _user(raw, number, notes)) is not None
    ]
    if users:
        ours["users"] = users
    public = _section(auth, "public")
    if "filter" in public:
        ours["public"] = {"enabled": True, "filter": str(public.get("filter") or "")}
        if users:
            notes.append(
                "server.auth.public: visitors who are not logged in see what its filter matches"
            )
    if auth.get("rules"):
        notes.append(
            "server.auth.rules: not carried; HomeGallery's rules let addresses in without a "
            "login, here rules refuse addresses, so everyone logs in (set "
            "`server.auth.rules` yourself to refuse addresses)"
        )
    return ours


_SERVER_IGNORED = ("openBrowser", "importSources", "watchSources", "api", "remoteConsoleToken")


def _server(data: dict[str, Any], resolver: _Resolver, notes: list[str]) -> dict[str, Any]:
    server = _section(data, "server")
    ours: dict[str, Any] = {}
    if "port" in server:
        ours["port"] = server["port"]
    if server.get("host"):
        ours["host"] = str(server["host"])
    else:
        notes.append(
            "server.host: HomeGallery listened on every address, homegallery listens on "
            "127.0.0.1 only until `server.host` says otherwise"
        )
    prefix = server.get("prefix") or server.get("basePath")
    if prefix and str(prefix).strip("/"):
        ours["prefix"] = str(prefix)
    for key in ("key", "cert"):
        if server.get(key):
            ours[key] = str(resolver.path(str(server[key])))
    auth = _auth(server, notes)
    if auth:
        ours["auth"] = auth
    for key in _SERVER_IGNORED:
        if key in server:
            notes.append(f"server.{key}: not carried (use `homegallery run server` options)")
    return ours


def _video(video: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    ours: dict[str, Any] = {}
    for theirs, mine in (
        ("previewSize", "previewSize"),
        ("frameRate", "frameRate"),
        ("videoEncoder", "encoder"),
        ("preset", "preset"),
        ("profile", "profile"),
        ("level", "level"),
    ):
        if theirs in video:
            ours[mine] = str(video[theirs]) if mine == "level" else video[theirs]
    if "maxVideoBitRate" in video:
        ours["maxrate"] = f"{video['maxVideoBitRate']}k"
    if video.get("addFfmpegArgs"):
        ours["extraArgs"] = _strings(video["addFfmpegArgs"])
    for key in ("scale", "customFfmpegArgs", "ext"):
        if key in video:
            notes.append(f"extractor.video.{key}: not carried (web videos are MP4 here)")
    return ours


def _geo(geo: dict[str, Any]) -> dict[str, Any]:
    ours: dict[str, Any] = {}
    if geo.get("url"):
        ours.update(provider="nominatim", url=str(geo["url"]))
    if geo.get("addressLanguage"):
        ours["languages"] = _strings(geo["addressLanguage"])
    return ours


def _extractor(data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    extractor = _section(data, "extractor")
    image = _section(extractor, "image")
    parts = {
        "image": {k: image[k] for k in ("previewSizes", "previewQuality") if k in image},
        "video": _video(_section(extractor, "video"), notes),
        "geoReverse": _geo(_section(extractor, "geoReverse")),
    }
    if "apiServer" in extractor:
        notes.append(
            "extractor.apiServer: not carried; similarity and labels come from local "
            "models here (`extractor.models`), nothing leaves the machine"
        )
    if "useNative" in extractor:
        notes.append("extractor.useNative: not needed (libvips and ffmpeg are used directly)")
    return {key: value for key, value in parts.items() if value}


def translate(data: dict[str, Any], config_file: Path) -> Translation:
    """Our config for a HomeGallery config, where its tags are, and what did not fit."""
    resolver = _Resolver(data, config_file)
    notes: list[str] = []
    extra = _strings(_section(data, "extractor").get("excludes")) + _strings(
        _section(data, "database").get("excludes")
    )
    if extra:
        notes.append(f"extractor/database excludes ({len(extra)}) added to every source's excludes")
    raw_sources = data.get("sources") or []
    if not isinstance(raw_sources, list):
        raise HomeGalleryConfigError(f"{config_file}: `sources` must be a list")
    sources: list[dict[str, Any]] = []
    theirs: list[HomeGallerySource] = []
    for number, raw in enumerate(raw_sources):
        made = _source(raw, number, resolver, extra, notes)
        if made is not None:
            sources.append(made[0])
            theirs.append(made[1])
    config: dict[str, Any] = {"sources": sources}
    extractor = _extractor(data, notes)
    if extractor:
        config["extractor"] = extractor
    server = _server(data, resolver, notes)
    if server:
        config["server"] = server
    if _section(data, "storage"):
        notes.append(
            "storage.dir: HomeGallery's previews are named by sha1, so they are made anew "
            "in our storage (its folder is left as it is)"
        )
    for key in ("webapp", "pluginManager", "plugin", "logger"):
        if key in data:
            notes.append(f"{key}: not carried")
    events = _section(data, "events").get("file") or "{configDir}/{configPrefix}events.db"
    return Translation(
        config=config,
        sources=theirs,
        events_file=resolver.path(str(events)),
        notes=notes,
    )
