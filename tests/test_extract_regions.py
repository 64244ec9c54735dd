"""Named face regions (MWG) from XMP: read by exiv2 from a real sidecar, turned upright."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from homegallery.extract.meta import Sidecar, read_image_meta
from homegallery.extract.regions import face_regions
from homegallery.extract.schema import FaceRegion

SIDECAR = """<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#">
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:RegionList>
     <rdf:Bag>
      {items}
     </rdf:Bag>
    </mwg-rs:RegionList>
   </mwg-rs:Regions>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
ITEM = """<rdf:li><rdf:Description mwg-rs:Name="{name}" mwg-rs:Type="{kind}">
 <mwg-rs:Area stArea:x="{x}" stArea:y="{y}" stArea:w="{w}" stArea:h="{h}" stArea:unit="normalized"/>
</rdf:Description></rdf:li>"""


def sidecar(path: Path, *items: tuple[str, str, float, float, float, float]) -> Path:
    text = "".join(
        ITEM.format(name=name, kind=kind, x=x, y=y, w=w, h=h) for name, kind, x, y, w, h in items
    )
    path.write_text(SIDECAR.format(items=text), encoding="utf-8")
    return path


def test_named_faces_of_a_sidecar_become_boxes(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (400, 300), (90, 90, 90)).save(photo)
    xmp = sidecar(
        tmp_path / "a.xmp",
        ("Eileen  Collins", "Face", 0.5, 0.3, 0.2, 0.25),
        ("a pet", "Pet", 0.2, 0.2, 0.1, 0.1),  # not a face
        ("", "Face", 0.2, 0.2, 0.1, 0.1),  # nobody named
        ("Broken", "Face", 2.0, 0.2, 0.1, 0.1),  # outside the picture
    )
    meta = read_image_meta(photo, sidecars=[Sidecar(xmp, "0" * 16)])
    assert meta.face_regions == [
        FaceRegion(name="Eileen Collins", x=0.4, y=0.175, width=0.2, height=0.25)
    ]


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (1, (0.1, 0.2, 0.2, 0.4)),  # centre (0.2, 0.4), size 0.2 × 0.4
        (3, (0.7, 0.4, 0.2, 0.4)),
        (6, (0.4, 0.1, 0.4, 0.2)),  # turned a quarter clockwise: centre (0.6, 0.2)
        (8, (0.2, 0.7, 0.4, 0.2)),
    ],
)
def test_regions_are_turned_with_the_photo(
    orientation: int, expected: tuple[float, float, float, float]
) -> None:
    prefix = "Xmp.mwg-rs.Regions/mwg-rs:RegionList[1]/"
    xmp = {
        prefix + "mwg-rs:Name": "Ann",
        prefix + "mwg-rs:Type": "Face",
        prefix + "mwg-rs:Area/stArea:x": "0.2",
        prefix + "mwg-rs:Area/stArea:y": "0.4",
        prefix + "mwg-rs:Area/stArea:w": "0.2",
        prefix + "mwg-rs:Area/stArea:h": "0.4",
    }
    (region,) = face_regions(xmp, orientation)
    assert (region.x, region.y, region.width, region.height) == pytest.approx(expected)
