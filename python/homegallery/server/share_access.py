"""A share link's visitor as a viewer, and what a new share may show.

The visitor's filter is the share's set joined to its maker's current filter with
:func:`~homegallery.server.scope.scope_query` (the same checked join that scopes
every query), so every route holds a visitor to exactly that set. A password, when
the share has one, is checked like a login (argon2 off the reader threads, throttled
per network and per link) and then kept in a cookie signed like a session and valid
only under that link's address; changing nothing about the share, it lasts as long
as a login does.
"""

from __future__ import annotations

import logging
import time

from homegallery.catalog.query import QueryError, parse
from homegallery.errors import HomeGalleryError
from homegallery.server.access import Access, Viewer, is_media_id
from homegallery.server.editing import may_share
from homegallery.server.scope import scope_query, split_order
from homegallery.server.sessions import Sessions
from homegallery.server.shares import Share, ShareKind

log = logging.getLogger(__name__)

UNLOCK_COOKIE = "homegallery_share"
ALBUM_TAG_PREFIX = "album:"
MAX_TITLE = 200
MAX_QUERY = 2000
MAX_SHARES_PER_USER = 500
MAX_DAYS = 3650


class ShareRequestError(HomeGalleryError, ValueError):
    """A share that cannot be made as asked (phrased for the user)."""


def quote_value(text: str) -> str:
    """``text`` as one quoted value of the query language."""
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    raise ShareRequestError("a name may not hold both kinds of quotes")


def album_tag(name: str) -> str:
    """The tag that puts an entry in the hand-picked album ``name``."""
    return f"{ALBUM_TAG_PREFIX}{name}"


def set_filter(kind: ShareKind, target: str) -> str:
    """The query of the set a share of ``kind`` shows (ids are resolved by the caller).

    Raises :class:`ShareRequestError` for a target that cannot be shared.
    """
    text = target.strip()
    if not text:
        raise ShareRequestError(f"say which {kind} to share")
    if len(text) > MAX_QUERY:
        raise ShareRequestError(f"at most {MAX_QUERY} characters")
    if any(ord(char) < 32 for char in text):
        raise ShareRequestError("no control characters")
    if kind == "photo":
        if not is_media_id(text):
            raise ShareRequestError("not a media id")
        return f"id:{text}"
    if kind == "album":
        return f"tag:{quote_value(album_tag(text))}"
    try:
        body, _ = split_order(text)
        if parse(body).filter is None:
            raise ShareRequestError("a query that leaves nothing out shares everything: narrow it")
    except QueryError as error:
        raise ShareRequestError(f"the query is not valid: {error.message}") from None
    return body.strip()


def maker_filter(access: Access, share: Share) -> str | None:
    """The filter of the share's maker now; None when they may no longer share."""
    user = access.users.get(share.owner)
    if user is None or not may_share(user):
        return None
    return user.filter


def visitor(access: Access, share: Share) -> Viewer | None:
    """The viewer a visitor with this link is; None when the link shows nothing now."""
    own = maker_filter(access, share)
    if own is None:
        return None
    try:
        joined = scope_query(own, share.filter).text
        scope_query(joined, "")  # every route joins a query to it: that must hold too
    except QueryError as error:
        log.warning("share %d of %s no longer joins its maker's filter: %s",
                    share.id, share.owner, error.message)  # fmt: skip
        return None
    return Viewer(None, joined, can_edit=False, can_share=False, originals=share.originals)


def unlock_token(sessions: Sessions, share: Share) -> str:
    return sessions.issue(f"share:{share.id}", share.password)


def unlocked(sessions: Sessions, share: Share, cookie: str | None) -> bool:
    """Whether the share needs no password, or the cookie proves it was given."""
    if not share.password:
        return True
    if not cookie or sessions.username(cookie) != f"share:{share.id}":
        return False
    return sessions.verify(cookie, share.password)


def expiry(days: int | None, now: float | None = None) -> int | None:
    if days is None:
        return None
    if not 1 <= days <= MAX_DAYS:
        raise ShareRequestError(f"a link lasts 1 to {MAX_DAYS} days, or until revoked")
    return int((now if now is not None else time.time()) + days * 86400)
