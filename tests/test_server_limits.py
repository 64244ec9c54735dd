"""Bounds on what one client can make the server hold, on a real server on loopback:
half-sent requests time out, connections are capped (in all and per address), bodies
are bounded in size and depth, and absurd byte ranges are a client's mistake."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import httpx
import msgspec
import pytest

from browser.galleries import build_sample_gallery
from homegallery.config import Config, Server, parse_config
from homegallery.server import create_app
from homegallery.server.bodies import MAX_BODY_BYTES
from homegallery.server.connections import ConnectionLimits
from homegallery.server.ranges import ByteRange, RangeNotSatisfiableError, parse_range
from homegallery.server.runner import running

HALF_SENT = b"GET /api/settings HTTP/1.1\r\nHost: localhost\r\nX-Waiting: 1"
HAS_HTTPTOOLS = find_spec("httptools") is not None


@pytest.fixture(
    params=[
        "h11",
        pytest.param(
            "httptools",
            marks=pytest.mark.skipif(not HAS_HTTPTOOLS, reason="httptools is not installed"),
        ),
    ]
)
def parser(request: pytest.FixtureRequest) -> str:
    """Each bound holds with either HTTP parser the server may run."""
    return str(request.param)


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_sample_gallery(tmp_path_factory.mktemp("gallery"))


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def open_files() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def half_sent(port: int, count: int, source: str) -> list[socket.socket]:
    """``count`` connections from ``source`` that each send part of a request's headers."""
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(source, 0)
        )
        connection.sendall(HALF_SENT)
        sockets.append(connection)
    return sockets


def closed_by_server(connection: socket.socket, within: float) -> tuple[bool, bytes]:
    """Whether the server closed ``connection`` within ``within`` seconds, and what it
    sent before it did."""
    connection.settimeout(within)
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        pass
    return True, received


def answered_at_once(sockets: list[socket.socket]) -> list[bytes]:
    """What the server sent, right away, on each connection that it then closed
    (refused ones); connections it keeps have sent nothing and are left out."""
    answers: dict[int, bytes] = {}
    # Long enough for a loaded machine to refuse them all, short of the 2 s in which
    # the kept ones time out.
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        time.sleep(0.1)
        for number, connection in enumerate(sockets):
            if number in answers:
                continue
            connection.setblocking(False)
            try:
                if answer := connection.recv(4096):
                    answers[number] = answer
            except BlockingIOError:
                pass  # kept: nothing to read yet
            finally:
                connection.setblocking(True)
    return list(answers.values())


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for connection in made:
        connection.close()


def test_half_sent_requests_are_closed_after_the_timeout(
    gallery: Config, sockets: list[socket.socket], parser: str
) -> None:
    limits = ConnectionLimits(request_timeout=1.0, max_connections=200)
    with running(create_app(gallery), limits=limits, parser=parser) as url:
        port = port_of(url)
        sockets += half_sent(port, 20, "127.0.0.2")
        started = time.monotonic()
        # others are served meanwhile
        assert httpx.get(f"{url}/api/settings").status_code == 200
        for connection in sockets:
            closed, _ = closed_by_server(connection, within=5)
            assert closed
        assert time.monotonic() - started < 4
        # a request that stalls after a first one on the same connection, and a body
        # that never arrives whole, are closed as well
        with socket.create_connection(("127.0.0.1", port), timeout=5) as kept:
            kept.sendall(b"GET /api/settings HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200")
            kept.sendall(HALF_SENT)
            assert closed_by_server(kept, within=5)[0]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as body:
            body.sendall(
                b"POST /api/logout HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
            )
            assert closed_by_server(body, within=5)[0]


def test_one_address_cannot_take_every_place(
    gallery: Config, sockets: list[socket.socket], parser: str
) -> None:
    limits = ConnectionLimits(request_timeout=2.0, max_connections=160)
    assert limits.max_waiting_per_address == 20
    with running(create_app(gallery), limits=limits, parser=parser) as url:
        port = port_of(url)
        before = open_files()
        sockets += half_sent(port, 60, "127.0.0.2")
        refused = answered_at_once(sockets)
        assert len(refused) == 60 - limits.max_waiting_per_address
        assert all(answer.startswith(b"HTTP/1.1 503") for answer in refused)
        # the server holds no more files than the connections it keeps
        assert open_files() - before <= 60 + limits.max_waiting_per_address + 10
        assert httpx.get(f"{url}/api/settings").status_code == 200
    # a trusted proxy speaks for many clients: it is bound by the total only
    proxied = ConnectionLimits(request_timeout=2.0, max_connections=160, proxies=("127.0.0.2",))
    with running(create_app(gallery), limits=proxied, parser=parser) as url:
        more = half_sent(port_of(url), 60, "127.0.0.2")
        sockets += more
        assert answered_at_once(more) == []


def test_connections_beyond_the_limit_are_refused_at_once(
    gallery: Config, sockets: list[socket.socket], parser: str
) -> None:
    limits = ConnectionLimits(request_timeout=1.5, max_connections=40)
    with running(create_app(gallery), limits=limits, parser=parser) as url:
        port = port_of(url)
        for number in range(2, 12):  # ten addresses, 8 connections each: 80 in all
            sockets += half_sent(port, 8, f"127.0.0.{number}")
        refused = answered_at_once(sockets)
        assert len(refused) == 80 - limits.max_connections
        assert all(answer.startswith(b"HTTP/1.1 503") for answer in refused)
        time.sleep(limits.request_timeout + 0.5)
        # every waiting connection has been closed, so the server has room again
        assert httpx.get(f"{url}/api/settings").status_code == 200


def raw_request(port: int, head: bytes) -> bytes:
    """The status line the server answers a head sent whole."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        return connection.recv(65536).split(b"\r\n", 1)[0]


def test_huge_urls_and_headers_are_refused_whole(gallery: Config, parser: str) -> None:
    with running(create_app(gallery), parser=parser) as url:
        port = port_of(url)

        def request(query: bytes, headers: bytes = b"") -> bytes:
            head = b"GET /api/entries?q=" + query + b" HTTP/1.1\r\nHost: localhost\r\n"
            return raw_request(port, head + headers + b"Connection: close\r\n\r\n")

        assert request(b"x" * 15_000).startswith(b"HTTP/1.1 200")
        assert request(b"x" * 100_000).startswith(b"HTTP/1.1 414")
        big_headers = b"".join(b"X-Pad-%d: %s\r\n" % (n, b"y" * 8000) for n in range(5))
        assert request(b"sea", big_headers).startswith(b"HTTP/1.1 431")
        # a head that never ends is refused once it is over the limits, not held whole
        with socket.create_connection(("127.0.0.1", port), timeout=10) as endless:
            endless.sendall(b"GET /api/settings HTTP/1.1\r\nHost: localhost\r\nX-Pad: ")
            closed = False
            for _ in range(200):
                try:
                    endless.sendall(b"y" * 4096)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
            closed = closed or closed_by_server(endless, within=5)[0]
            assert closed


# --- ranges ---------------------------------------------------------------------------------


def test_byte_positions_of_any_length() -> None:
    huge = "9" * 5000
    assert parse_range(f"bytes=0-{huge}", 100) == ByteRange(0, 99)
    assert parse_range(f"bytes=-{huge}", 100) == ByteRange(0, 99)
    assert parse_range(f"bytes={'0' * 5000}7-9", 100) == ByteRange(7, 9)
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(f"bytes={huge}-", 100)
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(f"bytes={huge}-{huge}", 100)
    assert parse_range("bytes=\u0661\u0662-", 100) is None  # not ASCII digits: ignored


def test_ranges_with_thousands_of_digits(gallery: Config) -> None:
    with running(create_app(gallery)) as url, httpx.Client(base_url=url) as client:
        media_id = client.get("/api/entries").json()["entries"][0]["id"]
        preview = f"/files/{media_id}/image-preview-320.jpg"
        size = len(client.get(preview).content)
        huge = "9" * 5000
        beyond = client.get(preview, headers={"range": f"bytes={huge}-"})
        assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
        to_the_end = client.get(preview, headers={"range": f"bytes=10-{huge}"})
        assert to_the_end.status_code == 206 and len(to_the_end.content) == size - 10
        last = client.get(preview, headers={"range": f"bytes=-{huge}"})
        assert last.status_code == 206 and len(last.content) == size


# --- bodies ---------------------------------------------------------------------------------


def post_routes(client: httpx.Client) -> list[str]:
    schema = client.get("/api/schema/openapi.json").json()
    return sorted(path for path, methods in schema["paths"].items() if "post" in methods)


def test_deep_and_large_json_bodies_are_a_clients_mistake(gallery: Config) -> None:
    # 5,000 levels: far past the decoder's depth, and small enough for the login's
    # 16 KB body limit, so every route must answer the nesting itself.
    deep = b"[" * 5_000 + b"]" * 5_000
    nested_field = b'{"username": ' + b"[" * 5_000 + b"]" * 5_000 + b', "password": "x"}'
    too_large = b'{"ids": ["' + b"a" * (MAX_BODY_BYTES + 10) + b'"]}'
    json_type = {"content-type": "application/json"}
    with running(create_app(gallery)) as url, httpx.Client(base_url=url, timeout=30) as client:
        routes = post_routes(client)
        assert {"/api/login", "/api/logout", "/api/events/tags"} <= set(routes)
        for route in routes:
            for body in (deep, nested_field):
                response = client.post(route, content=body, headers=json_type)
                assert response.status_code < 500, (route, response.text[:200])
                if route != "/api/logout":  # the one that reads no body
                    assert response.status_code == 400, (route, response.text[:200])
            very_deep = client.post(route, content=b"[" * 50_000 + b"]" * 50_000, headers=json_type)
            assert very_deep.status_code < 500, (route, very_deep.text[:200])
            large = client.post(route, content=too_large, headers=json_type)
            assert large.status_code in ((200,) if route == "/api/logout" else (413,)), route

            def chunks() -> Iterator[bytes]:
                yield too_large[: len(too_large) // 2]
                yield too_large[len(too_large) // 2 :]

            streamed = client.post(route, content=chunks(), headers=json_type)
            assert streamed.status_code in (200, 413) and streamed.status_code < 500, route
            if route != "/api/logout":
                assert streamed.status_code == 413, route
        assert client.get("/api/settings").status_code == 200


def test_max_body_is_enough_for_the_largest_tag_change() -> None:
    from homegallery.server.routes.events import MAX_IDS

    change = b'{"ids": [' + b",".join([b'"' + b"a" * 64 + b'"'] * MAX_IDS) + b'], "add": ["x"]}'
    assert len(change) < MAX_BODY_BYTES


def test_limits_come_from_the_config(tmp_path: Path) -> None:
    server = parse_config(
        {"server": {"requestTimeout": 2.5, "maxConnections": 80}}, tmp_path / "gallery.yml"
    ).server
    assert ConnectionLimits.of(server) == ConnectionLimits(request_timeout=2.5, max_connections=80)
    proxied = msgspec.structs.replace(server, trusted_proxies=["127.0.0.2"])
    assert ConnectionLimits.of(proxied).proxies == ("127.0.0.2",)
    assert ConnectionLimits.of(Server()) == ConnectionLimits()


def _file_limit_after_start(soft: int, hard: int) -> tuple[int, str]:
    """The open-file limit a server process sets itself, started with ``soft``/``hard``."""
    script = (
        "import resource\n"
        "from homegallery.server.connections import ConnectionLimits, ensure_open_files\n"
        "ensure_open_files(ConnectionLimits(max_connections=500))\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout), done.stderr


def test_the_open_file_limit_is_raised_to_fit_the_connections() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 700:
        pytest.skip(f"the hard limit of open files here is {hard}")
    assert _file_limit_after_start(256, 700) == (600, "")
    soft, warning = _file_limit_after_start(256, 300)
    assert soft == 300 and "server.maxConnections" in warning
