"""One import at a time per gallery, with a lock a crashed process cannot leave stuck.

The lock is an advisory ``flock`` on a file beside the catalog: the kernel drops it
when the holding process ends, however it ends (kill -9 included), so there is no
stale lock to clean up. The file also records the holder's pid for the error message,
and a finished import removes it (while still holding it), so no ``*.import.lock``
is left beside the catalog. A process that opened the file just before it was removed
sees that its lock is on a file no longer there and takes the lock anew.
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


def _is_current(descriptor: int, lock_file: Path) -> bool:
    """Whether the locked file is still the one at ``lock_file`` (not removed meanwhile)."""
    try:
        current = lock_file.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino)


def _acquire(catalog_file: Path, lock_file: Path) -> int:
    while True:
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
            os.close(descriptor)
            raise GalleryBusyError(
                f"another import is running for {catalog_file} (pid {holder}); "
                "wait for it to finish or stop it"
            ) from None
        if _is_current(descriptor, lock_file):
            return descriptor
        os.close(descriptor)  # the holder finished and removed it: try the new one


@contextmanager
def import_lock(catalog_file: Path) -> Iterator[None]:
    lock_file = catalog_file.with_name(catalog_file.name + ".import.lock")
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = _acquire(catalog_file, lock_file)
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        lock_file.unlink(missing_ok=True)  # still held: no one else took this file
        os.close(descriptor)  # closing releases the lock
