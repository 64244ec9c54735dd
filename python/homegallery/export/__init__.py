"""What leaves the gallery in other programs' formats: the user's tags and ratings
as XMP sidecars (:mod:`.sidecars`, ``homegallery export meta``)."""
