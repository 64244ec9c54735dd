"""Who is asking and what they may see: logins, per-user filters, the public filter.

- No users in the config: every request sees everything and may tag.
- Users: a logged-in user sees what their ``filter`` matches (everything when empty)
  and, with the right to edit, may tag what they see (:mod:`.editing` says which
  tags); a visitor who is not logged in sees what ``public.filter`` matches when
  ``public.enabled``, else must log in, and never tags.
- Logins are checked away from catalog reads and throttled (:mod:`.logins`).

Every read goes through :func:`~homegallery.server.scope.scope_query` with the
viewer's filter, and every single-entry access (an entry, its previews, its video,
its original) asks the catalog whether the entry matches that filter.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from homegallery.catalog.entry import Entry
from homegallery.catalog.query import QueryError, check_query
from homegallery.config import Auth, ConfigError, User
from homegallery.gallery import Gallery
from homegallery.server.editing import EditRights, may_edit, may_share
from homegallery.server.logins import LoginThrottle, PasswordChecks
from homegallery.server.passwords import PasswordHashError, decoy_hash, is_weak, verify_login
from homegallery.server.scope import ScopedQuery, scope_query
from homegallery.server.sessions import Sessions

log = logging.getLogger(__name__)

_MEDIA_ID_CHARS = frozenset("0123456789abcdef")
_VISIBLE_CACHE = 50_000


@dataclass(frozen=True)
class Viewer:
    username: str | None  # None: not logged in (a visitor, or one with a share link)
    filter: str  # a query; empty: everything
    can_edit: bool
    can_share: bool = False
    originals: bool = True  # False: no original, even of a downloadable source


def is_media_id(text: str) -> bool:
    return 8 <= len(text) <= 128 and all(char in _MEDIA_ID_CHARS for char in text)


def check_filters(auth: Auth) -> None:
    """Every configured filter is a valid query; a broken one stops the server with its key."""
    filters = [("server.auth.public.filter", auth.public.filter)] + [
        (f"server.auth.users[{number}].filter", user.filter)
        for number, user in enumerate(auth.users)
    ]
    for key, text in filters:
        try:
            check_query(text)
        except QueryError as error:
            raise ConfigError(f"`{key}`: {error}") from None


class Access:
    def __init__(
        self,
        auth: Auth,
        sessions: Sessions,
        gallery: Gallery,
        share_filters: Callable[[], list[str]] | None = None,
    ) -> None:
        check_filters(auth)
        self.auth = auth
        self.sessions = sessions
        self.gallery = gallery
        self.users: dict[str, User] = {user.username: user for user in auth.users}
        for user in auth.users:
            if is_weak(user.password):
                log.warning(
                    "user %s has a HomeGallery-style password hash; replace it with one from "
                    "`homegallery serve --hash-password` (argon2)",
                    user.username,
                )
        self.rights = EditRights(auth, share_filters)
        self.throttle = LoginThrottle()
        self.checks = PasswordChecks()
        self._decoy = decoy_hash(user.password for user in auth.users) if auth.users else ""
        self._visible: OrderedDict[tuple[str, str], Entry | None] = OrderedDict()
        self._visible_version = -1
        self._lock = threading.Lock()

    @property
    def login_enabled(self) -> bool:
        return bool(self.users)

    # --- who -----------------------------------------------------------------------------

    def viewer(self, token: str | None) -> Viewer | None:
        """The viewer of a request with this session cookie; None: must log in."""
        if not self.users:
            return Viewer(None, "", can_edit=True)
        if token:
            name = self.sessions.username(token)
            user = self.users.get(name) if name is not None else None
            if user is not None and self.sessions.verify(token, user.password):
                return Viewer(
                    user.username,
                    user.filter,
                    can_edit=may_edit(user),
                    can_share=may_share(user),
                )
        if self.auth.public.enabled:
            return Viewer(None, self.auth.public.filter, can_edit=False)
        return None

    async def login(self, username: str, password: str, address: str) -> str | None:
        """A session token for right credentials, else None (same time either way).

        Raises :class:`~homegallery.server.logins.LoginRefusedError` when the client's
        network or the account must wait, or too many checks are under way.
        """
        self.throttle.check(address, username)
        user = self.users.get(username)
        if not await self.checks.run(lambda: self._verify(user, password)):
            self.throttle.failed(address, username)
            return None
        assert user is not None
        self.throttle.succeeded(address, username)
        return self.sessions.issue(user.username, user.password)

    def _verify(self, user: User | None, password: str) -> bool:
        try:
            return verify_login(user.password if user else None, password, self._decoy)
        except PasswordHashError as error:
            assert user is not None
            log.error("user %s: the stored password hash is unusable: %s", user.username, error)
            return False

    def logout(self, token: str) -> None:
        """Ends the session of a genuine token for good (others are ignored)."""
        name = self.sessions.username(token)
        user = self.users.get(name) if name is not None else None
        if user is not None:
            self.sessions.revoke(token, user.password)

    def close(self) -> None:
        self.checks.close()

    # --- what ----------------------------------------------------------------------------

    def scoped(self, viewer: Viewer, query: str) -> ScopedQuery:
        return scope_query(viewer.filter, query)

    def visible_entry(self, viewer: Viewer, media_id: str, version: int) -> Entry | None:
        """The entry if it exists and the viewer's filter matches it, else None.

        Answers are kept per catalog ``version`` (a preview page asks for hundreds).
        """
        if not is_media_id(media_id):
            return None
        key = (viewer.filter, media_id)
        with self._lock:
            if version != self._visible_version:
                self._visible.clear()
                self._visible_version = version
            if key in self._visible:
                self._visible.move_to_end(key)
                return self._visible[key]
        entry = self.gallery.entry(media_id)
        if entry is not None and viewer.filter.strip():
            scoped = scope_query(viewer.filter, f"id:{entry.id}")
            if not self.gallery.search_ids(scoped.text, limit=1):
                entry = None
        with self._lock:
            self._visible[key] = entry
            while len(self._visible) > _VISIBLE_CACHE:
                self._visible.popitem(last=False)
        return entry
