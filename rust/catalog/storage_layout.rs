//! Where extract keeps the files of a media id, and the kinds of those files.
//!
//! A stored file is `<root>/<id[0:2]>/<id[2:4]>/<id[4:]>-<kind>`: copies of a photo
//! share their files (the id is the content's checksum), and no folder grows past a
//! few hundred names. Names starting with a dot, and names with `.part` in their kind,
//! are files being written (`homegallery.atomic`), never finished ones.
//!
//! This module is the one definition of that layout and of the kinds: the build's
//! storage reader uses it directly, Python through `_core` (`homegallery.storage`,
//! `homegallery.extract.schema`), and the server's file routes build their patterns
//! from [`KINDS`].

/// The metadata of a media file (`homegallery.extract.schema.MediaMeta`).
pub const META: &str = "meta.json";
/// The place its position falls in (`homegallery.extract.schema.Place`).
pub const PLACE: &str = "place.json";

/// The id's record: every kind [`in_record`] says, in one file (`storage_record`).
pub const RECORD: &str = "record.bin";

/// Whether a kind is kept in the id's record rather than a file of its own: the small
/// data kinds, JSON and `.npy` (metadata, place, failure records, model outputs, and
/// any later step's), never previews, videos or posters, which are served as files.
/// A storage written before the record existed keeps such kinds as files of their
/// own; readers look in the record first, then for the file.
pub fn in_record(kind: &str) -> bool {
    // Kinds are lower case (Python's `Storage` refuses others).
    matches!(kind.rsplit_once('.'), Some((_, "json" | "npy")))
}

/// Kinds that differ in one number or word: `<prefix><parameter><suffix>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindFamily {
    pub prefix: &'static str,
    pub suffix: &'static str,
}

/// An image preview, longest side in pixels: `image-preview-320.jpg`.
pub const IMAGE_PREVIEW: KindFamily = KindFamily {
    prefix: "image-preview-",
    suffix: ".jpg",
};
/// A web video, height in pixels: `video-preview-720.mp4`.
pub const VIDEO_PREVIEW: KindFamily = KindFamily {
    prefix: "video-preview-",
    suffix: ".mp4",
};
/// A frame of a video (1: its poster): `video-frame-1.jpg`.
pub const VIDEO_FRAME: KindFamily = KindFamily {
    prefix: "video-frame-",
    suffix: ".jpg",
};
/// Why a step failed for the id: `failed-meta.json`.
pub const FAILURE: KindFamily = KindFamily {
    prefix: "failed-",
    suffix: ".json",
};

/// An image model's embedding, by model tag: `embedding-efficientnet-lite0-1.npy`.
pub const EMBEDDING: KindFamily = KindFamily {
    prefix: "embedding-",
    suffix: ".npy",
};
/// An image model's labels, by model tag: `labels-efficientnet-lite0-1.json`.
pub const LABELS: KindFamily = KindFamily {
    prefix: "labels-",
    suffix: ".json",
};

/// The faces found in an image, by the detector's and recogniser's tags:
/// `faces-yunet-1-sface-1.json`.
pub const FACES: KindFamily = KindFamily {
    prefix: "faces-",
    suffix: ".json",
};

/// The COCO objects found in an image, by the detector's tag: `objects-nanodet-m-1.json`.
pub const OBJECTS: KindFamily = KindFamily {
    prefix: "objects-",
    suffix: ".json",
};

/// Marks a file being written (in its kind); such a file is never read.
const TEMPORARY: &str = ".part";

impl KindFamily {
    /// The kind's text with `{}` where the parameter goes.
    pub fn template(self) -> String {
        format!("{}{{}}{}", self.prefix, self.suffix)
    }

    /// The parameter of a kind of this family (`320` of `image-preview-320.jpg`).
    pub fn parameter(self, kind: &str) -> Option<&str> {
        kind.strip_prefix(self.prefix)?.strip_suffix(self.suffix)
    }
}

/// Every kind by the name Python knows it by, families as templates.
pub fn kinds() -> Vec<(&'static str, String)> {
    vec![
        ("meta", META.to_string()),
        ("place", PLACE.to_string()),
        ("image_preview", IMAGE_PREVIEW.template()),
        ("video_preview", VIDEO_PREVIEW.template()),
        ("video_frame", VIDEO_FRAME.template()),
        ("failure", FAILURE.template()),
        ("embedding", EMBEDDING.template()),
        ("labels", LABELS.template()),
        ("faces", FACES.template()),
        ("objects", OBJECTS.template()),
        ("record", RECORD.to_string()),
    ]
}

/// The two folder names and the name stem of an id, cut at characters 2, 4 (as
/// Python slices `id[0:2]`, `id[2:4]`, `id[4:]`; a short id leaves parts empty).
pub fn split_id(media_id: &str) -> (&str, &str, &str) {
    let cut = |count: usize| {
        media_id
            .char_indices()
            .nth(count)
            .map_or(media_id.len(), |(at, _)| at)
    };
    let (first, second) = (cut(2), cut(4));
    (
        &media_id[..first],
        &media_id[first..second],
        &media_id[second..],
    )
}

/// The folder of an id below the root (`ab/cd`).
pub fn folder(media_id: &str) -> String {
    let (first, second, _) = split_id(media_id);
    format!("{first}/{second}")
}

/// The path of one stored file below the root (`ab/cd/ef01…-meta.json`).
pub fn relative(media_id: &str, kind: &str) -> String {
    let (first, second, stem) = split_id(media_id);
    format!("{first}/{second}/{stem}-{kind}")
}

/// The stem and kind of a name in a storage folder; None for a name that is not a
/// finished stored file (hidden, being written, or without a kind).
pub fn parse_name(name: &str) -> Option<(&str, &str)> {
    if name.starts_with('.') {
        return None;
    }
    let (stem, kind) = name.split_once('-')?;
    (!kind.contains(TEMPORARY)).then_some((stem, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cut_the_id_as_python_slices_it() {
        let id = "abcdef0123";
        assert_eq!(relative(id, META), "ab/cd/ef0123-meta.json");
        assert_eq!(folder(id), "ab/cd");
        assert_eq!(split_id("ab"), ("ab", "", ""));
        assert_eq!(split_id("äöüß5"), ("äö", "üß", "5"));
    }

    #[test]
    fn names_of_files_being_written_are_not_kinds() {
        assert_eq!(
            parse_name("ef01-image-preview-320.jpg"),
            Some(("ef01", "image-preview-320.jpg"))
        );
        assert_eq!(parse_name(".ef01-meta.json"), None);
        assert_eq!(parse_name("ef01-image-preview-1920.jpg.part"), None);
        assert_eq!(parse_name("README"), None);
    }

    #[test]
    fn families_make_and_read_their_kinds() {
        assert_eq!(IMAGE_PREVIEW.template(), "image-preview-{}.jpg");
        assert_eq!(
            IMAGE_PREVIEW.parameter("image-preview-320.jpg"),
            Some("320")
        );
        assert_eq!(IMAGE_PREVIEW.parameter("video-preview-720.mp4"), None);
        assert_eq!(
            LABELS.parameter("labels-efficientnet-lite0-1.json"),
            Some("efficientnet-lite0-1")
        );
        let names: Vec<&str> = kinds().iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "meta",
                "place",
                "image_preview",
                "video_preview",
                "video_frame",
                "failure",
                "embedding",
                "labels",
                "faces",
                "objects",
                "record"
            ]
        );
        assert!(in_record(META) && in_record("embedding-m-1.npy") && in_record("objects-m-1.json"));
        assert!(!in_record(RECORD) && !in_record("image-preview-320.jpg"));
        assert!(!in_record("video-preview-720.mp4") && !in_record("video-frame-1.jpg"));
        assert_eq!(
            OBJECTS.parameter("objects-nanodet-m-1.json"),
            Some("nanodet-m-1")
        );
        assert_eq!(
            FACES.parameter("faces-yunet-1-sface-1.json"),
            Some("yunet-1-sface-1")
        );
    }
}
