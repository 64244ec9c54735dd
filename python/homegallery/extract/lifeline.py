"""Extract processes end when the run that started them ends, however it ends.

A run killed with ``kill -9`` can stop nothing, and multiprocessing stops nothing for
it: the pool's workers wait for their next task forever (they hold the task pipe
open themselves), the forkserver waits while any worker lives, and the resource
tracker while any of them holds its pipe. So each process ties its life to another's:

- the forkserver asks the kernel for SIGKILL when the run that started it ends, and
  each worker asks for it when the forkserver ends (Linux ``PR_SET_PDEATHSIG``);
- each worker also watches the run's own process (a pidfd where the system has one,
  else its parent's pid) and ends as soon as the run is gone, whatever its parent;
- ffmpeg and ffprobe ask for SIGKILL when their worker ends.

With the workers gone the resource tracker reads the end of its pipe and exits by
itself. ``PR_SET_PDEATHSIG`` fires when the *thread* that started a process ends, so
a run must start its pools from a thread that lives as long as they do (the main
thread, or the watch thread of ``run server``); a forkserver that ended is started
again by the next pool.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.5


def _find_prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, looked up once: a child between fork and exec must not load
    anything."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Any = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, *[ctypes.c_ulong] * 4]
    function.restype = ctypes.c_int
    prctl: Callable[..., int] = function
    return prctl


_PRCTL = _find_prctl()


def _ask_for_sigkill_when_parent_ends(parent: int) -> bool:
    """True when the kernel will kill this process as its parent ends; ends the
    process at once when the parent ``parent`` ended before the request took effect."""
    if _PRCTL is None or _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:
        os._exit(1)
    return True


def die_with_parent() -> bool:
    """Ends this process when its parent ends (Linux); False where the system cannot."""
    return _ask_for_sigkill_when_parent_ends(os.getppid())


def child_dies_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` for subprocesses that must not outlive this process (None
    where the system has no such request, or where nothing needs it)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()

    def tie() -> None:
        _ask_for_sigkill_when_parent_ends(parent)

    return tie


def _wait_for_end(descriptor: int | None, parent: int) -> None:
    if descriptor is not None:
        while True:  # a pidfd turns readable when its process ends
            readable, _, _ = select.select([descriptor], [], [])
            if readable:
                break
    else:
        while os.getppid() == parent:
            time.sleep(_POLL_SECONDS)
    os._exit(1)


def end_with(pid: int) -> None:
    """Ends this process (from a daemon thread) as soon as process ``pid`` ends.

    Where there is no pidfd, ``pid`` must be this process's parent and its change of
    parent is watched instead.
    """
    descriptor: int | None
    try:
        descriptor = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # already gone
    except (AttributeError, OSError):
        descriptor = None
    thread = threading.Thread(
        target=_wait_for_end,
        args=(descriptor, os.getppid()),
        name="homegallery-end-with-run",
        daemon=True,
    )
    thread.start()
