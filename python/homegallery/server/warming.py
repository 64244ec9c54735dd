"""Reading the column snapshot ahead of the first searches.

At a million entries every column a search needs for the first time takes a third
of a second to read, and a bare word needs twenty of them: the first search after a
start or a build would take seconds. The warmer reads them on a thread of its own
right after the server starts and after each change of the catalog, so a visitor's
first search finds them read. A search never waits for the whole of it: a column
the warmer has not reached yet the search reads itself, and only a search needing
the very column being read waits, for that read, instead of reading it twice.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from homegallery.catalog import CatalogError
from homegallery.gallery import Gallery

log = logging.getLogger(__name__)


class ColumnWarmer:
    """Runs ``Gallery.warm`` on its own thread, at most one run waiting at a time."""

    def __init__(self, gallery: Gallery) -> None:
        self._gallery = gallery
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="column-warmer")
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._waiting = False
        self.runs = 0  # runs finished

    def schedule(self) -> None:
        """Warms soon; a run already waiting to start covers this call too."""
        with self._lock:
            if self._waiting or self._stopping.is_set():
                return
            self._waiting = True
        self._thread.submit(self._run)

    def _run(self) -> None:
        with self._lock:
            self._waiting = False
        try:
            self._gallery.warm(self._stopping.is_set)
        except CatalogError:
            pass  # no catalog yet: the first build is a change, which warms again
        except Exception:  # the searches read what they need themselves
            log.warning("could not read the search columns ahead", exc_info=True)
        finally:
            self.runs += 1

    def close(self) -> None:
        """Stops a run under way at its next column and starts no other."""
        self._stopping.set()
        self._thread.shutdown(wait=False, cancel_futures=True)
