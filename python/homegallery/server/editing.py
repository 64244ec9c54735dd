"""Who may change tags, and which tags only users who see everything may change.

Tags are the one thing viewers change, and filters may read them: with a user
filter ``not tag:private`` or a public filter ``tag:public``, adding or removing
such a tag hides or shows entries to someone else. So, besides seeing an entry:

- A user may edit when their ``edit`` key says so; without the key, a user with no
  filter may and a user with a filter may not. Visitors who are not logged in never
  edit; a gallery without users lets everyone edit, as it shows everyone everything.
- A tag that any configured filter reads (the public one, any user's, or the set of
  a share link) may be added or removed only by editors without a filter. A filter reads a tag when it names it
  (``tag:x``, ``tag != x``, ``tags in (x, y)``), finds text inside it (``tag ~ x``, or
  a bare word, which searches tags among other text) or counts tags (``count(tags)``,
  ``exists tags``: then every tag is read).

Every other tag leaves every filter's answer as it was, so a filtered editor changes
nothing anyone else may see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homegallery.catalog.fold import fold
from homegallery.catalog.query import check_query, parse
from homegallery.catalog.query import checked as c
from homegallery.catalog.query.fields import FIELDS
from homegallery.config import Auth, User

_TAG = FIELDS["tag"]


@dataclass(frozen=True)
class FilterTags:
    """The tags some filter reads, in the casefolded form the catalog compares."""

    exact: frozenset[str]  # tags a filter names
    parts: tuple[str, ...]  # text a filter finds inside tags
    every: bool  # a filter counts tags: every tag decides

    def reads(self, tag: str) -> bool:
        """Whether adding or removing ``tag`` may change what some filter matches."""
        folded = fold(" ".join(tag.split()))
        return self.every or folded in self.exact or any(part in folded for part in self.parts)


def filter_tags(filters: Iterable[str]) -> FilterTags:
    """The tags the given filters read (each filter must be valid; the config checked it)."""
    exact: set[str] = set()
    parts: set[str] = set()
    every = False
    for text in filters:
        query = check_query(text)
        pending = [] if query.filter is None else [query.filter]
        while pending:
            node = pending.pop()
            if isinstance(node, (c.And, c.Or)):
                pending.extend(node.operands)
            elif isinstance(node, c.Not):
                pending.append(node.operand)
            elif isinstance(node, c.FreeText):
                parts.add(node.word)  # bare words search the text, tags included
            elif isinstance(node, c.ValueTest) and node.key == _TAG.column:
                (parts if node.contains else exact).add(node.text)
            elif isinstance(node, (c.NumberTest, c.NumberIn, c.NumberRange)):
                every = every or node.column == _TAG.count  # count(tags), exists tags
    return FilterTags(frozenset(exact), tuple(sorted(parts)), every)


@functools.lru_cache(maxsize=256)
def is_restricted(filter_text: str) -> bool:
    """Whether a filter leaves anything out (an empty one or ``order by`` alone does not)."""
    return parse(filter_text).filter is not None


def may_edit(user: User) -> bool:
    """The user's ``edit`` key, or by default: may edit when they see everything."""
    return user.edit if user.edit is not None else not is_restricted(user.filter)


def may_share(user: User) -> bool:
    """The user's ``share`` key, or by default as for editing: when they see everything."""
    return user.share if user.share is not None else not is_restricted(user.filter)


@functools.lru_cache(maxsize=8)
def _tags_of(filters: tuple[str, ...]) -> FilterTags:
    return filter_tags(filters)


class EditRights:
    """Answers which tag changes a viewer may make, from the configured filters and
    the sets of the current share links (``share_filters``)."""

    def __init__(self, auth: Auth, share_filters: Callable[[], list[str]] | None = None) -> None:
        # The public filter counts even while public access is off: turning it on
        # later must not publish what a filtered user tagged meanwhile.
        filters = [auth.public.filter, *(user.filter for user in auth.users)]
        self.filter_tags = filter_tags(filters)
        self._share_filters = share_filters

    def refused_tag(self, viewer_filter: str, tags: Iterable[str]) -> str | None:
        """The first of ``tags`` a viewer with this filter may not add or remove, or None."""
        if not is_restricted(viewer_filter):
            return None
        shared = _tags_of(tuple(sorted(self._share_filters()))) if self._share_filters else None
        return next(
            (
                tag
                for tag in tags
                if self.filter_tags.reads(tag) or (shared is not None and shared.reads(tag))
            ),
            None,
        )
