"""Named face regions of the Metadata Working Group (``mwg-rs:Regions`` in XMP).

digiKam, Lightroom, Picasa and others write a named face as a region: its centre
(``stArea:x``, ``stArea:y``) and size (``stArea:w``, ``stArea:h``), normalised to the
picture as stored, with ``mwg-rs:Type`` ``Face`` and the person in ``mwg-rs:Name``.
exiv2 gives them as flattened keys (``Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/
mwg-rs:Name``). They come out here as boxes (left, top, width, height) relative to the
picture as displayed, so they compare with the faces the detector finds on previews.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from homegallery.extract.schema import FaceRegion

PREFIX = "Xmp.mwg-rs.Regions/"
_ITEM = re.compile(r"^Xmp\.mwg-rs\.Regions/mwg-rs:RegionList\[(\d+)\]/(.+)$")
MAX_REGIONS = 200
MAX_NAME = 200


def _number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _oriented(
    x: float, y: float, width: float, height: float, orientation: int
) -> tuple[float, float, float, float]:
    """A centre and size on the stored picture, on the picture turned by ``orientation``."""
    turned = {
        1: (x, y), 2: (1 - x, y), 3: (1 - x, 1 - y), 4: (x, 1 - y),
        5: (y, x), 6: (1 - y, x), 7: (1 - y, 1 - x), 8: (y, 1 - x),
    }  # fmt: skip
    centre_x, centre_y = turned.get(orientation, (x, y))
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return centre_x, centre_y, width, height


def face_regions(xmp: Mapping[str, object], orientation: int = 1) -> list[FaceRegion]:
    """The named face regions of a photo's XMP, in the order written."""
    items: dict[int, dict[str, object]] = {}
    for key, value in xmp.items():
        match = _ITEM.match(key)
        if match and int(match.group(1)) <= MAX_REGIONS:
            items.setdefault(int(match.group(1)), {})[match.group(2)] = value
    regions = []
    for number in sorted(items):
        item = items[number]
        name = " ".join(str(item.get("mwg-rs:Name") or "").split())[:MAX_NAME]
        kind = str(item.get("mwg-rs:Type") or "Face")
        unit = str(item.get("mwg-rs:Area/stArea:unit") or "normalized")
        numbers = [_number(item.get(f"mwg-rs:Area/stArea:{part}")) for part in "xywh"]
        if not name or kind != "Face" or unit != "normalized" or None in numbers:
            continue
        x, y, width, height = (float(value or 0.0) for value in numbers)
        if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < width <= 1 and 0 < height <= 1):
            continue
        x, y, width, height = _oriented(x, y, width, height, orientation)
        regions.append(
            FaceRegion(
                name=name,
                x=round(max(0.0, x - width / 2), 5),
                y=round(max(0.0, y - height / 2), 5),
                width=round(width, 5),
                height=round(height, 5),
            )
        )
    return regions


def stored_area(
    box: tuple[float, float, float, float], orientation: int = 1
) -> tuple[float, float, float, float]:
    """A box (left, top, width, height) on the picture as displayed, as MWG writes it:
    centre and size on the picture as stored. The inverse of :func:`face_regions`'
    turn (orientations 6 and 8 undo each other; every other one undoes itself)."""
    left, top, width, height = box
    undo = {6: 8, 8: 6}.get(orientation, orientation)
    return _oriented(left + width / 2, top + height / 2, width, height, undo)
