"""What every request passes before the app routes it, outermost first.

1. :class:`~homegallery.server.errors.RequestIds`: an id for the log and the answer;
2. :class:`~homegallery.server.proxies.ProxyHeaders`: the real client and scheme
   when a trusted proxy forwarded the request;
3. :class:`~homegallery.server.hosts.HostCheck`: only this server's host names;
4. :class:`~homegallery.server.heads.HeadLimits`: no huge URLs or headers.

They wrap the app's own handler rather than being route middleware, so they run for
every path, the static files and unknown paths included.
"""

from __future__ import annotations

from litestar import Litestar

from homegallery.config import Server
from homegallery.server.errors import RequestIds
from homegallery.server.heads import HeadLimits
from homegallery.server.hosts import HostCheck, HostNames
from homegallery.server.proxies import ProxyHeaders, TrustedProxies


def guard_entry(app: Litestar, server: Server) -> Litestar:
    names = HostNames.build(server.host, server.hosts)
    proxies = TrustedProxies(server.trusted_proxies)
    checked = HostCheck(HeadLimits(app.asgi_handler), names)
    app.asgi_handler = RequestIds(ProxyHeaders(checked, proxies))
    return app
