"""The names of the extract steps, in the order a file goes through them.

Kept apart from the stored formats (``schema``) so that the command line can list the
steps in its help without loading msgspec and the storage layout.
"""

from __future__ import annotations

from typing import Literal

Step = Literal["meta", "preview", "embeddings", "faces", "objects", "video", "geo"]
STEPS: tuple[Step, ...] = ("meta", "preview", "embeddings", "faces", "objects", "video", "geo")
