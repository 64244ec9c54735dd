"""The stages ``homegallery bench`` can run, apart from the machinery, so the CLI lists them
in its help without loading any of it."""

from __future__ import annotations

# Stage name → module in homegallery.bench with ``run(quick) -> Report``.
STAGES: dict[str, str] = {
    "index": "index",
    "previews": "preview",
    "workers": "workers",
    "metadata": "meta",
    "video": "video",
    "embeddings": "embeddings",
    "faces": "faces",
    "objects": "objects",
    "similarity": "similarity",
    "people": "people",
    "catalog": "catalog",
    "text": "text_columns",
    "relevance": "relevance",
    "cluster": "cluster",
}

# ``homegallery bench --scale``: the sizes bench.scale measures (each beside ten times fewer).
SCALE_SIZES = ("2k", "20k", "100k", "1m")
