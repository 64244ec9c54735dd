"""Dask worker processes for extraction (``homegallery worker``), one nanny each.

A nanny starts its worker process again when it dies (a decoder's crash on a hostile
file), and the scheduler hands that worker's tasks to another. Imported only where
the cluster is used (``dask[distributed]`` is an extra).
"""

from __future__ import annotations

import asyncio
import contextlib

from distributed import Nanny
from distributed.comm.addressing import get_address_host
from distributed.utils import get_ip

from homegallery.extract.cluster import MEMORY_RESOURCE

# One thread per library in each process, as the local pool keeps them: the processes
# already take the cores.
_ENVIRONMENT = {"VIPS_CONCURRENCY": "1", "OMP_NUM_THREADS": "1"}


def facing(address: str) -> str:
    """This machine's address on the way to ``address`` (its LAN address for a
    scheduler on the LAN): where the workers listen, instead of Dask's default of
    every interface."""
    return str(get_ip(get_address_host(address)))


async def _serve(
    address: str, processes: int, threads: int, memory: int, name: str, host: str | None
) -> None:
    host = host or facing(address)
    async with contextlib.AsyncExitStack() as stack:
        nannies = []
        for number in range(processes):
            nanny = Nanny(
                address,
                nthreads=threads,
                memory_limit=memory,
                resources={MEMORY_RESOURCE: memory},
                name=f"{name}-{number}" if processes > 1 else name,
                host=host,
                dashboard=False,  # one port less; the scheduler's dashboard shows them
                env=dict(_ENVIRONMENT),
            )
            nannies.append(await stack.enter_async_context(nanny))
        await asyncio.gather(*(nanny.finished() for nanny in nannies))


def serve(
    address: str, processes: int, threads: int, memory: int, name: str, host: str | None
) -> None:
    """Runs the workers until they are stopped (Ctrl-C, SIGTERM) or the scheduler ends."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(address, processes, threads, memory, name, host))
