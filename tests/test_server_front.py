"""What every request meets before a route, on a real server on loopback: the host name
check against DNS rebinding, client address and scheme from trusted proxies only, and
request ids with logged tracebacks for failures."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
from pathlib import Path

import httpx
import msgspec
import pytest

from browser.galleries import build_sample_gallery
from homegallery.config import AccessRule, Auth, Config, ConfigError, User, parse_config
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.hosts import HostNames, host_of
from homegallery.server.passwords import hash_password
from homegallery.server.proxies import TrustedProxies
from homegallery.server.runner import Tls, running
from homegallery.server.sessions import COOKIE_NAME

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_sample_gallery(tmp_path_factory.mktemp("gallery"))


def with_server(config: Config, **changes: object) -> Config:
    server = msgspec.structs.replace(config.server, **changes)
    return msgspec.structs.replace(config, server=server)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def from_address(address: str) -> httpx.HTTPTransport:
    """A transport whose connections come from ``address`` (any 127.x.y.z is this machine)."""
    return httpx.HTTPTransport(local_address=address)


# --- host names -----------------------------------------------------------------------------


def test_host_headers_are_read_with_ports_and_brackets() -> None:
    assert host_of("localhost:3000") == "localhost"
    assert host_of("LocalHost.") == "localhost"
    assert host_of("[::1]:3000") == "::1"
    assert host_of("[0:0::1]") == "::1"
    assert host_of("[::ffff:127.0.0.1]:80") == "127.0.0.1"
    assert host_of("photos.example.org:443") == "photos.example.org"
    for bad in ("", "::1", "[::1", "[::1]x", "a:b", "evil@localhost", "a b", "x:３０", "host/x"):
        assert host_of(bad) is None, bad
    names = HostNames.build("0.0.0.0", [".home.arpa", "photos.example.org"])
    assert names.allows("pi.home.arpa", None) and names.allows("home.arpa", None)
    assert not names.allows("evilhome.arpa", None) and not names.allows("0.0.0.0", None)
    assert names.allows("photos.example.org", None) and names.allows("localhost", None)
    assert names.allows(socket.gethostname().lower(), None)
    assert names.allows("192.168.1.20", "192.168.1.20")  # the address it was reached at
    assert not names.allows("192.168.1.21", "192.168.1.20")


def test_only_this_servers_names_are_answered(gallery: Config) -> None:
    with running(create_app(gallery)) as url, httpx.Client(base_url=url) as client:
        port = port_of(url)
        for host in (
            f"localhost:{port}",
            "localhost",
            f"127.0.0.1:{port}",
            f"[::1]:{port}",
            f"LOCALHOST.:{port}",
            f"{socket.gethostname()}:{port}",
        ):
            response = client.get("/api/entries", headers={"host": host})
            assert response.status_code == 200, host
        rebound = {"host": f"attacker.example:{port}", "origin": f"http://attacker.example:{port}"}
        for path in ("/", "/api/entries", "/api/settings", "/app/app.js", "/no/such/path"):
            response = client.get(path, headers=rebound)
            assert response.status_code == 421, path
            assert "server.hosts" in response.json()["detail"]
            assert "attacker" not in response.text
        for host in ("localhost.attacker.example", "127.0.0.1.attacker.example", "evil@localhost"):
            assert client.get("/api/entries", headers={"host": host}).status_code in (400, 421)
        # a rebound page's write does not happen
        some_id = client.get("/api/entries").json()["entries"][0]["id"]
        change = {"ids": [some_id], "add": ["rebound"]}
        response = client.post("/api/events/tags", json=change, headers=rebound)
        assert response.status_code == 421
        assert client.get("/api/entries", params={"q": "tag:rebound"}).json()["total"] == 0


def test_a_request_without_one_host_header_is_refused(gallery: Config) -> None:
    with running(create_app(gallery)) as url:
        port = port_of(url)
        for request in (
            b"GET /api/settings HTTP/1.0\r\n\r\n",
            b"GET /api/settings HTTP/1.0\r\nHost: a.example\r\nHost: localhost\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(request)
                assert raw.recv(4096).startswith(b"HTTP/1.1 400"), request


def test_configured_names_and_the_switch_to_answer_any(gallery: Config) -> None:
    named = with_server(gallery, hosts=["photos.example.org", ".home.arpa"])
    with running(create_app(named)) as url, httpx.Client(base_url=url) as client:
        for host, status in (
            ("photos.example.org", 200),
            ("pi.home.arpa:3000", 200),
            ("home.arpa", 200),
            ("evilhome.arpa", 421),
            ("example.org", 421),
        ):
            assert client.get("/api/settings", headers={"host": host}).status_code == status, host
    with running(create_app(with_server(gallery, hosts=["*"]))) as url:
        assert httpx.get(f"{url}/api/settings", headers={"host": "any.example"}).status_code == 200


def test_a_server_on_ipv6_loopback_answers_its_address(gallery: Config) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with running(create_app(gallery), host="::1") as url:
        assert url.startswith("http://[::1]:")
        assert httpx.get(f"{url}/api/settings").status_code == 200  # Host: [::1]:port
        assert httpx.get(f"{url}/api/settings", headers={"host": "localhost"}).status_code == 200
        refused = httpx.get(f"{url}/api/settings", headers={"host": "attacker.example"})
        assert refused.status_code == 421


def test_host_config_mistakes_are_named(tmp_path: Path) -> None:
    cases = [
        ({"hosts": ["http://photos.example.org"]}, "`server.hosts[0]`"),
        ({"hosts": ["a b"]}, "`server.hosts[0]`"),
        ({"trustedProxies": ["all"]}, "`server.trustedProxies[0]`"),
        ({"trustedProxies": ["proxy.example"]}, "`server.trustedProxies[0]`"),
        ({"requestTimeout": 0}, "`server.requestTimeout`"),
        ({"maxConnections": 0}, "`server.maxConnections`"),
    ]
    for server, key in cases:
        with pytest.raises(ConfigError) as caught:
            parse_config({"server": server}, tmp_path / "gallery.yml")
        assert key in str(caught.value), server
    config = parse_config(
        {"server": {"hosts": ["photos.example.org", ".home.arpa", "[::1]", "*"],
                    "trustedProxies": ["127.0.0.1", "10.0.0.0/8", "::1"]}},
        tmp_path / "gallery.yml",
    )  # fmt: skip
    assert config.server.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]


# --- trusted proxies ------------------------------------------------------------------------


def test_the_client_is_the_right_most_address_no_trusted_proxy_wrote() -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client("127.0.0.1", ["192.168.1.7"]) == "192.168.1.7"
    assert proxies.client("127.0.0.1", ["6.6.6.6, 192.168.1.7"]) == "192.168.1.7"
    assert proxies.client("127.0.0.1", ["192.168.1.7, 10.1.1.1"]) == "192.168.1.7"
    assert proxies.client("127.0.0.1", ["6.6.6.6", "192.168.1.7"]) == "192.168.1.7"
    assert proxies.client("127.0.0.1", ["[2001:db8::1]:443"]) == "2001:db8::1"
    assert proxies.client("127.0.0.1", ["10.0.0.9, 10.0.0.8"]) == "10.0.0.9"
    assert proxies.client("127.0.0.1", ["garbage"]) == "garbage"
    assert proxies.client("127.0.0.1", []) == "127.0.0.1"
    assert proxies.client("192.168.1.9", ["10.0.0.1"]) == "192.168.1.9"  # not a proxy
    assert proxies.scheme("127.0.0.1", "http", ["https"]) == "https"
    assert proxies.scheme("127.0.0.1", "http", ["http, https"]) == "https"
    assert proxies.scheme("127.0.0.1", "http", ["javascript"]) == "http"
    assert proxies.scheme("192.168.1.9", "http", ["https"]) == "http"


def test_address_rules_see_the_forwarded_client_only_from_a_trusted_proxy(
    gallery: Config,
) -> None:
    rules = [AccessRule(allow="192.168.0.0/16"), AccessRule(deny="all")]
    config = with_server(gallery, auth=Auth(rules=rules), trusted_proxies=["127.0.0.1"])
    with (
        running(create_app(config)) as url,
        httpx.Client(base_url=url) as proxy,
        httpx.Client(base_url=url, transport=from_address("127.0.0.2")) as stranger,
    ):

        def status(client: httpx.Client, forwarded: str | None) -> int:
            headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
            return client.get("/api/settings", headers=headers).status_code

        assert status(proxy, "192.168.1.7") == 200
        assert status(proxy, None) == 403  # the proxy's own address is not allowed
        assert status(proxy, "192.168.1.7, 203.0.113.9") == 403  # the client wrote the left
        assert status(proxy, "203.0.113.9, 192.168.1.7") == 200
        # from a peer that is no proxy the header is ignored, whatever it says
        assert status(stranger, "192.168.1.7") == 403
        assert status(stranger, "127.0.0.1, 192.168.1.7") == 403
    chained = with_server(config, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])
    with running(create_app(chained)) as url:
        forwarded = {"x-forwarded-for": "192.168.1.7, 10.0.0.2"}
        assert httpx.get(f"{url}/api/settings", headers=forwarded).status_code == 200
    untrusted = with_server(config, trusted_proxies=["10.0.0.0/8"])
    with running(create_app(untrusted)) as url:
        forwarded = {"x-forwarded-for": "192.168.1.7"}
        assert httpx.get(f"{url}/api/settings", headers=forwarded).status_code == 403


def _user_config(gallery: Config, proxies: list[str]) -> Config:
    user = User(username="ann", password=hash_password(PASSWORD))
    return with_server(gallery, auth=Auth(users=[user]), trusted_proxies=proxies)


def _session_cookie(response: httpx.Response) -> str:
    found = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return next(cookie for cookie in found if cookie.startswith(COOKIE_NAME))


def test_the_session_cookie_is_secure_behind_an_https_proxy(gallery: Config) -> None:
    login = {"username": "ann", "password": PASSWORD}
    https = {"x-forwarded-proto": "https", "x-forwarded-for": "192.168.1.7"}
    with (
        running(create_app(_user_config(gallery, ["127.0.0.1"]))) as url,
        httpx.Client(base_url=url) as proxy,
        httpx.Client(base_url=url, transport=from_address("127.0.0.2")) as stranger,
    ):
        secure = _session_cookie(proxy.post("/api/login", json=login, headers=https))
        assert "secure" in secure.lower()
        plain = _session_cookie(proxy.post("/api/login", json=login))
        assert "secure" not in plain.lower()
        spoofed = _session_cookie(stranger.post("/api/login", json=login, headers=https))
        assert "secure" not in spoofed.lower()


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, made by openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl here to make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_the_session_cookie_is_secure_over_direct_https(tmp_path: Path, gallery: Config) -> None:
    cert, key = self_signed(tmp_path)
    with pytest.raises(ConfigError, match="give both"):
        parse_config({"server": {"cert": str(cert)}}, tmp_path / "gallery.yml")
    server = parse_config(
        {"server": {"cert": "cert.pem", "key": "key.pem"}}, tmp_path / "gallery.yml"
    ).server
    tls = Tls.of(server)
    assert tls == Tls(cert, key)
    config = _user_config(gallery, [])
    with running(create_app(config), tls=tls) as url:
        assert url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=url, verify=trust) as client:
            login = {"username": "ann", "password": PASSWORD}
            downgrade = {"x-forwarded-proto": "http"}  # from no proxy: ignored
            cookie = _session_cookie(client.post("/api/login", json=login, headers=downgrade))
            assert "secure" in cookie.lower()
            assert client.get("/api/settings").json()["user"] == "ann"


def test_login_throttling_counts_the_forwarded_client(gallery: Config) -> None:
    def wrong_logins_until_refused(client: httpx.Client, forwarded: list[str]) -> int:
        """Wrong logins (each with another unknown name) until one is refused with 429."""
        for attempt in range(40):
            headers = {"x-forwarded-for": forwarded[attempt % len(forwarded)]}
            wrong = {"username": f"nobody{attempt}", "password": "wrong"}
            status = client.post("/api/login", json=wrong, headers=headers).status_code
            if status == 429:
                return attempt
            assert status == 401
        pytest.fail("wrong logins were never throttled")

    with (
        running(create_app(_user_config(gallery, ["127.0.0.1"]))) as url,
        httpx.Client(base_url=url) as proxy,
        httpx.Client(base_url=url, transport=from_address("127.0.0.2")) as stranger,
    ):
        attempts = wrong_logins_until_refused(proxy, ["192.168.1.7"])
        assert attempts >= 3
        other = {"x-forwarded-for": "192.168.1.8"}
        fresh = {"username": "someone", "password": "wrong"}
        assert proxy.post("/api/login", json=fresh, headers=other).status_code == 401
        # a client that is no proxy cannot escape the throttle by naming other addresses
        rotating = [f"192.168.2.{number}" for number in range(1, 41)]
        assert wrong_logins_until_refused(stranger, rotating) == attempts


# --- failures -------------------------------------------------------------------------------


def test_a_failure_is_logged_with_its_request_id_and_no_secrets(
    tmp_path: Path, gallery: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A damaged entry in the catalog (its stored form overwritten) makes reading it fail."""
    catalog = tmp_path / "catalog.db"
    shutil.copy(gallery.database.path, catalog)
    broken = msgspec.structs.replace(
        gallery, database=msgspec.structs.replace(gallery.database, file=str(catalog))
    )
    media_id = Gallery(broken).search_ids("", limit=1)[0]
    with sqlite3.connect(catalog) as connection:
        connection.execute(
            "UPDATE entry_docs SET doc = x'c1ffee' WHERE entry = "
            "(SELECT rowid FROM entries WHERE id = ?)",
            (media_id,),
        )
    secrets = {"cookie": f"{COOKIE_NAME}=cookie-secret-1", "authorization": "Basic c2VjcmV0LTI="}
    with caplog.at_level(logging.INFO), running(create_app(broken)) as url:
        response = httpx.get(f"{url}/api/entries/{media_id}?token=query-secret-3", headers=secrets)
        healthy = httpx.get(f"{url}/api/settings")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 16 and response.json()["requestId"] == request_id
    assert "Traceback" not in response.text and str(tmp_path) not in response.text
    assert healthy.status_code == 200 and healthy.headers["x-request-id"] != request_id
    failures = [record for record in caplog.records if request_id in record.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.ERROR
    assert failures[0].exc_info is not None
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(caplog.handler.format(record) for record in server_records)
    assert f"GET /api/entries/{media_id}" in logged and "Traceback" in logged
    for secret in ("cookie-secret-1", "c2VjcmV0LTI=", "query-secret-3"):
        assert secret not in logged


def test_a_failure_while_a_file_streams_is_logged_with_its_request_id(
    tmp_path: Path, gallery: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """A preview that shrinks once its answer has started (and announced its length)."""
    storage = tmp_path / "storage"
    shutil.copytree(gallery.storage.path, storage)
    broken = msgspec.structs.replace(
        gallery, storage=msgspec.structs.replace(gallery.storage, dir=str(storage))
    )
    entry = Gallery(broken).search("type:image", limit=1)[0]
    preview = storage / next(p for p in entry.previews if p.endswith("-image-preview-320.jpg"))
    # 64 MiB (sparse): far more than the socket buffers hold, so most of it is still
    # to be read from the file when the client has the headers.
    os.truncate(preview, 64 << 20)
    with (
        caplog.at_level(logging.INFO),
        running(create_app(broken)) as url,
        httpx.Client(base_url=url) as client,
    ):
        with client.stream("GET", f"/files/{entry.id}/image-preview-320.jpg") as response:
            assert response.status_code == 200  # the answer had started
            request_id = response.headers["x-request-id"]
            os.truncate(preview, 1024)
            with pytest.raises(httpx.HTTPError):
                response.read()
        assert client.get("/api/settings").status_code == 200
    failures = [record for record in caplog.records if request_id in record.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "FileShrankError" in caplog.handler.format(failures[0])
