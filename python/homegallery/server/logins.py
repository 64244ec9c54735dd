"""Password checks away from catalog reads, and waits that grow with wrong logins.

A password check is an argon2 hash: tenths of a second of CPU on purpose. Run on the
threads that serve the catalog, a handful of clients guessing passwords would stall
every page. So checks run on their own small pool, a few at a time; a login beyond
that is answered at once with 429 and ``Retry-After`` instead of queueing.

Wrong logins are counted per client network (an IPv4 address, or an IPv6 /64, which
one household or one attacker holds whole) and per account name, known or not (a
throttle that treated unknown names differently would tell which names exist). After
:data:`FREE_FAILURES` a key waits before its next try, twice as long after each
further failure, up to :data:`MAX_WAIT`; a right password clears the counts of its
network and its account, and a quiet :data:`FORGET_AFTER` clears them too.

A guesser could keep an account waiting for its owner too; the owner's own network,
once it has logged in to that account, is spared the account's wait (its network's
own count still applies).
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from homegallery.errors import HomeGalleryError

T = TypeVar("T")

FREE_FAILURES = 10  # wrong logins per key before the first wait
FIRST_WAIT = 1.0  # seconds, doubled with each further failure
MAX_WAIT = 900.0
FORGET_AFTER = 3600.0  # seconds without a failure that clear a key's count
MAX_KEYS = 10_000  # remembered networks, and accounts: the oldest go first
BUSY_RETRY_SECONDS = 1


class LoginRefusedError(HomeGalleryError):
    """A login not even checked: the client should wait ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, math.ceil(retry_after))


def client_network(address: str) -> str:
    """The key of a client address: an IPv4 address, an IPv6 /64, else the text."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Failures:
    count: int
    last: float


def wait_after(failures: int) -> float:
    """Seconds to wait after the last of ``failures`` wrong logins."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_WAIT, FIRST_WAIT * 2.0 ** min(failures - FREE_FAILURES, 32))


class _Counter:
    """Wrong logins per key, the most recently failed last (bounded in size)."""

    def __init__(self) -> None:
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        failures = self._keys.get(key)
        if failures is None:
            return 0.0
        if now - failures.last > FORGET_AFTER:
            del self._keys[key]
            return 0.0
        return max(0.0, failures.last + wait_after(failures.count) - now)

    def failed(self, key: str, now: float) -> None:
        failures = self._keys.pop(key, None)
        if failures is None or now - failures.last > FORGET_AFTER:
            failures = _Failures(0, now)
        failures.count += 1
        failures.last = now
        self._keys[key] = failures
        while len(self._keys) > MAX_KEYS:
            self._keys.popitem(last=False)

    def clear(self, key: str) -> None:
        self._keys.pop(key, None)


class LoginThrottle:
    """Whether a login may be checked now, by the client's network and the account."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._networks = _Counter()
        self._accounts = _Counter()
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()  # (account, network)
        self._lock = threading.Lock()

    def check(self, address: str, username: str) -> None:
        """Raises :class:`LoginRefusedError` while the network or the account must wait."""
        network = client_network(address)
        now = self._clock()
        with self._lock:
            wait = self._networks.wait(network, now)
            if wait > 0:
                raise LoginRefusedError(
                    "too many wrong logins from your network; wait a while", wait
                )
            if (username, network) in self._known:
                return
            wait = self._accounts.wait(username, now)
            if wait > 0:
                raise LoginRefusedError(
                    "too many wrong logins for this account; wait a while", wait
                )

    def failed(self, address: str, username: str) -> None:
        now = self._clock()
        with self._lock:
            self._networks.failed(client_network(address), now)
            self._accounts.failed(username, now)

    def succeeded(self, address: str, username: str) -> None:
        network = client_network(address)
        with self._lock:
            self._networks.clear(network)
            self._accounts.clear(username)
            self._known[(username, network)] = None
            self._known.move_to_end((username, network))
            while len(self._known) > MAX_KEYS:
                self._known.popitem(last=False)


def check_threads() -> int:
    """One thread on a small machine, two where there are cores to spare."""
    return 2 if (os.cpu_count() or 1) >= 4 else 1


class PasswordChecks:
    """Runs password checks on their own threads, at most ``threads + waiting`` at once."""

    def __init__(self, threads: int | None = None, waiting: int = 6) -> None:
        threads = threads or check_threads()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="password-check")
        self._limit = threads + waiting
        self._in_flight = 0  # changed on the event loop only

    async def run(self, check: Callable[[], T]) -> T:
        """The check's result; :class:`LoginRefusedError` when too many are under way."""
        if self._in_flight >= self._limit:
            raise LoginRefusedError(
                "too many logins at once; try again in a moment", BUSY_RETRY_SECONDS
            )
        self._in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, check)
        finally:
            self._in_flight -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
