"""One import at a time per gallery, with a lock a crashed process cannot leave stuck.

The lock is an advisory ``flock`` on a file beside the catalog: the kernel drops it
when the holding process ends, however it ends (kill -9 included), so there is no
stale lock to clean up. The file also records the holder's pid for the error message.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homegallery.errors import HomeGalleryError


class GalleryBusyError(HomeGalleryError):
    """Another process is importing into this gallery."""


@contextmanager
def import_lock(catalog_file: Path) -> Iterator[None]:
    lock_file = catalog_file.with_name(catalog_file.name + ".import.lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
            raise GalleryBusyError(
                f"another import is running for {catalog_file} (pid {holder}); "
                "wait for it to finish or stop it"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
