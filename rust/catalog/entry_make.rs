//! Media groups plus what extract stored for them → catalog entries (stored form).
//!
//! The build groups index files into media groups (`grouping.rs`);
//! this makes each group's entry: its metadata (a RAW twin fills in what the JPEG
//! lacks), place, labels, previews and files, and a signature of everything the
//! entry is made from, so an incremental build remakes only entries whose signature
//! changed. Which model's labels and embeddings count is the build's choice
//! ([`Options`]); a change of it changes how every signature must be read, so the
//! Python build makes the whole catalog anew then.

use std::collections::HashSet;
use std::sync::Arc;

use crate::catalog::entry_doc::{DetectedObject, Entry, EntryFile, Label};
use crate::catalog::storage_layout::{self, IMAGE_PREVIEW, VIDEO_FRAME, VIDEO_PREVIEW};
use crate::catalog::storage_read::{
    StorageReader, StoredLabels, StoredMeta, StoredObjects, StoredPlace,
};

/// One indexed file of a group, as `catalog.grouping.GroupFile`.
#[derive(Debug, Clone)]
pub struct GroupFile {
    /// Shared by every file of the source (a million files, one string).
    pub source: Arc<str>,
    pub path: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub id: String,
    /// Shared by every file of the kind.
    pub kind: Arc<str>,
}

/// A media group, as `catalog.grouping.MediaGroup`, and whether the catalog holds a
/// vector for it that no stored embedding accounts for (one written by other means).
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub kind: String,
    pub files: Vec<GroupFile>,
    pub twin_ids: Vec<String>,
    pub has_vector: bool,
}

/// What a build takes from the embedding model's stored results: its labels file
/// (`labels-<model>-<version>.json`) with the probability a label needs, and its
/// embedding file, whose presence gives the entry a similarity vector.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub labels_kind: Option<String>,
    pub label_threshold: f64,
    pub vector_kind: Option<String>,
    /// The object detector's file (`objects-<model>-<version>.json`) and the score an
    /// object needs to be kept.
    pub objects_kind: Option<String>,
    pub object_score: f64,
}

/// Whether the entry has a vector: one of its own or a twin's embedding, or another.
fn has_vector(group: &Group, reader: &mut StorageReader, options: &Options) -> bool {
    if group.has_vector {
        return true;
    }
    let Some(kind) = options.vector_kind.as_deref() else {
        return false;
    };
    reader.has(&group.id, kind) || group.twin_ids.iter().any(|twin| reader.has(twin, kind))
}

/// A stored JSON kind of the entry's own file or, when it has none, of its first twin
/// that has it (a RAW's JPEG twin carries the model outputs of the pair).
fn own_or_twins<T: serde::de::DeserializeOwned>(
    group: &Group,
    reader: &mut StorageReader,
    kind: &str,
) -> Option<T> {
    reader.read_json(&group.id, kind).or_else(|| {
        group
            .twin_ids
            .iter()
            .find_map(|twin| reader.read_json(twin, kind))
    })
}

/// The labels at least as probable as the threshold, from the entry's own file or,
/// when it has none, its twin's.
fn labels(group: &Group, reader: &mut StorageReader, options: &Options) -> Vec<Label> {
    let Some(kind) = options.labels_kind.as_deref() else {
        return Vec::new();
    };
    own_or_twins::<StoredLabels>(group, reader, kind)
        .map(|stored| stored.labels)
        .unwrap_or_default()
        .into_iter()
        .filter(|label| label.score >= options.label_threshold && label.score.is_finite())
        .map(|label| Label {
            id: label.id,
            name: label.name,
            score: label.score,
        })
        .collect()
}

/// The objects at least as sure as the threshold, from the entry's own file or, when
/// it has none, its twin's; boxes as HomeGallery keeps them (x, y, width, height).
fn objects(group: &Group, reader: &mut StorageReader, options: &Options) -> Vec<DetectedObject> {
    let Some(kind) = options.objects_kind.as_deref() else {
        return Vec::new();
    };
    own_or_twins::<StoredObjects>(group, reader, kind)
        .map(|stored| stored.objects)
        .unwrap_or_default()
        .into_iter()
        .filter(|found| found.score >= options.object_score && found.score.is_finite())
        .map(|found| DetectedObject {
            class_name: found.class_name,
            score: found.score,
            bounds: [found.x, found.y, found.width, found.height],
        })
        .collect()
}

const FILE_KINDS: [&str; 4] = ["image", "raw", "video", "sidecar"];

/// Names how [`signature`] is made: change it with the signature, so a catalog whose
/// signatures were made another way is rebuilt in full once rather than entry by entry.
pub const SIGNATURE_FORMAT: &str = "blake3-1";

/// Changes whenever anything the entry is made from changes (files or storage).
pub fn signature(group: &Group, reader: &mut StorageReader, options: &Options) -> String {
    let mut hasher = blake3::Hasher::new();
    for file in &group.files {
        let line = format!(
            "{}\0{}\0{}\0{}\0{}\n",
            file.source, file.path, file.size, file.mtime_ns, file.id
        );
        hasher.update(line.as_bytes());
    }
    hasher.update(reader.kinds(&group.id).join("|").as_bytes());
    for twin in &group.twin_ids {
        hasher.update(b"\n");
        hasher.update(reader.kinds(twin).join("|").as_bytes());
    }
    let vector = has_vector(group, reader, options);
    hasher.update(if vector { b"\nv" } else { b"\n-" });
    hasher.finalize().to_hex()[..20].to_string()
}

/// The metadata of a group: the main file's, with a RAW twin's filling the gaps.
fn merged_meta(group: &Group, reader: &mut StorageReader) -> Option<StoredMeta> {
    let mut meta = reader.meta(&group.id);
    for twin in &group.twin_ids {
        let Some(other) = reader.meta(twin) else {
            continue;
        };
        let Some(main) = meta.as_mut() else {
            meta = Some(StoredMeta {
                media_type: crate::catalog::storage_read::MediaType::Image,
                ..other
            });
            continue;
        };
        fill(&mut main.date, other.date);
        fill(&mut main.make, other.make);
        fill(&mut main.model, other.model);
        fill(&mut main.lens, other.lens);
        fill(&mut main.iso, other.iso);
        fill(&mut main.aperture, other.aperture);
        fill(&mut main.exposure_time, other.exposure_time);
        fill(&mut main.focal_length, other.focal_length);
        fill(&mut main.latitude, other.latitude);
        fill(&mut main.longitude, other.longitude);
        fill(&mut main.altitude, other.altitude);
        fill(&mut main.title, other.title);
        fill(&mut main.description, other.description);
        fill(&mut main.rating, other.rating);
        for keyword in other.keywords {
            if !main.keywords.contains(&keyword) {
                main.keywords.push(keyword);
            }
        }
    }
    meta
}

fn fill<T>(field: &mut Option<T>, other: Option<T>) {
    if field.is_none() {
        *field = other;
    }
}

/// (year, month, day, hour, minute) of an ISO date; None where it does not say.
pub fn date_parts(date: Option<&str>) -> [Option<i64>; 5] {
    let mut parts = [None; 5];
    let Some(date) = date else { return parts };
    let chars: Vec<char> = date.chars().collect();
    let number = |from: usize, to: usize| -> Option<i64> {
        let digits = chars.get(from..to)?;
        if !digits.iter().all(char::is_ascii_digit) {
            return None;
        }
        digits.iter().collect::<String>().parse().ok()
    };
    let (Some(year), Some(month), Some(day)) = (number(0, 4), number(5, 7), number(8, 10)) else {
        return parts;
    };
    parts[0..3].copy_from_slice(&[Some(year), Some(month), Some(day)]);
    if let (Some(hour), Some(minute)) = (number(11, 13), number(14, 16)) {
        parts[3] = Some(hour);
        parts[4] = Some(minute);
    }
    parts
}

/// Previews present, largest image preview first, then web video and poster.
pub fn preview_kinds(kinds: &[String]) -> Vec<&str> {
    let mut images: Vec<(u64, &str)> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for kind in kinds {
        if let Some(size) = IMAGE_PREVIEW.parameter(kind) {
            if !size.is_empty() && size.bytes().all(|byte| byte.is_ascii_digit()) {
                if let Ok(size) = size.parse() {
                    images.push((size, kind));
                }
            }
        } else if kind.starts_with(VIDEO_PREVIEW.prefix) || kind.starts_with(VIDEO_FRAME.prefix) {
            others.push(kind);
        }
    }
    images.sort_unstable_by(|a, b| b.cmp(a));
    others.sort_unstable_by(|a, b| b.cmp(a));
    images
        .into_iter()
        .map(|(_, kind)| kind)
        .chain(others)
        .collect()
}

/// Main file (and its copies) first, then RAW twins, then sidecars.
fn ordered_files(group: &Group) -> Vec<&GroupFile> {
    let mut files: Vec<&GroupFile> = group.files.iter().collect();
    if files.len() > 1 {
        let rank = |file: &GroupFile| {
            if file.id == group.id {
                0
            } else if &*file.kind == "sidecar" {
                2
            } else {
                1
            }
        };
        files.sort_by(|a, b| (rank(a), &a.source, &a.path).cmp(&(rank(b), &b.source, &b.path)));
    }
    files
}

/// The entry of one group in its stored form (see `entry_doc.rs`), before user events.
pub fn assemble(group: &Group, reader: &mut StorageReader, options: &Options) -> Entry {
    let meta = merged_meta(group, reader);
    let labels = labels(group, reader, options);
    let has_vector = has_vector(group, reader, options);
    let mut place: Option<StoredPlace> = reader.place(&group.id);
    for twin in &group.twin_ids {
        if place.is_some() {
            break;
        }
        place = reader.place(twin);
    }
    // The stored form: the entry's own previews as kinds, a twin's as whole paths.
    let mut previews: Vec<String> = preview_kinds(reader.kinds(&group.id))
        .into_iter()
        .map(String::from)
        .collect();
    for twin in &group.twin_ids {
        if !previews.is_empty() {
            break;
        }
        previews = preview_kinds(reader.kinds(twin))
            .into_iter()
            .map(|kind| storage_layout::relative(twin, kind))
            .collect();
    }
    let files = ordered_files(group)
        .into_iter()
        .map(|file| EntryFile {
            source: file.source.to_string(),
            path: file.path.clone(),
            size: file.size,
            kind: if FILE_KINDS.contains(&&*file.kind) {
                file.kind.to_string()
            } else {
                "other".to_string()
            },
            // The stored form leaves out the id that is the entry's own.
            id: if file.id == group.id {
                String::new()
            } else {
                file.id.clone()
            },
            mtime_ns: file.mtime_ns,
        })
        .collect();
    let fallback_type = match group.kind.as_str() {
        "raw" => "rawImage",
        "video" => "video",
        _ => "image",
    };
    let mut entry = Entry {
        id: group.id.clone(),
        media_type: fallback_type.to_string(),
        orientation: 1,
        files,
        previews,
        labels,
        objects: objects(group, reader, options),
        has_vector,
        ..Entry::default()
    };
    if let Some(meta) = meta {
        // A paired group is an image whatever its RAW twin's metadata says.
        if group.kind != "image" {
            entry.media_type = meta.media_type.name().to_string();
        }
        [entry.year, entry.month, entry.day, entry.hour, entry.minute] =
            date_parts(meta.date.as_deref());
        let mut seen = HashSet::new();
        entry.tags = meta
            .keywords
            .into_iter()
            .filter(|keyword| seen.insert(keyword.clone()))
            .collect();
        entry.date = meta.date;
        entry.width = meta.width;
        entry.height = meta.height;
        entry.orientation = meta.orientation;
        entry.mime = meta.mime;
        entry.format = meta.format;
        entry.make = meta.make;
        entry.model = meta.model;
        entry.lens = meta.lens;
        entry.iso = meta.iso;
        entry.aperture = meta.aperture;
        entry.exposure_time = meta.exposure_time;
        entry.focal_length = meta.focal_length;
        entry.latitude = meta.latitude;
        entry.longitude = meta.longitude;
        entry.altitude = meta.altitude;
        entry.title = meta.title;
        entry.description = meta.description;
        entry.duration = meta.duration;
        entry.rating = meta.rating;
    }
    if let Some(place) = place {
        entry.country = place.country;
        entry.country_code = place.country_code;
        entry.state = place.state;
        entry.county = place.county;
        entry.city = place.city;
        entry.road = place.road;
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_split_into_parts_where_they_say() {
        let some = |parts: [i64; 5]| parts.map(Some);
        assert_eq!(
            date_parts(Some("2018-01-10T11:39:53+01:00")),
            some([2018, 1, 10, 11, 39])
        );
        assert_eq!(
            date_parts(Some("2018-01-10")),
            [Some(2018), Some(1), Some(10), None, None]
        );
        assert_eq!(date_parts(Some("2018-1-10")), [None; 5]);
        assert_eq!(date_parts(None), [None; 5]);
    }

    fn file(id: &str, path: &str, kind: &str) -> GroupFile {
        GroupFile {
            source: "/p".into(),
            path: path.into(),
            size: 1,
            mtime_ns: 1,
            id: id.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn an_entry_comes_in_its_stored_form() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("aa/aa")).unwrap();
        std::fs::create_dir_all(root.path().join("bb/bb")).unwrap();
        std::fs::write(root.path().join("aa/aa/01-image-preview-320.jpg"), "").unwrap();
        std::fs::write(root.path().join("bb/bb/02-image-preview-128.jpg"), "").unwrap();
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        let own = Group {
            id: "aaaa01".into(),
            kind: "image".into(),
            files: vec![file("aaaa01", "a.jpg", "image")],
            twin_ids: vec![],
            has_vector: false,
        };
        let entry = assemble(&own, &mut reader, &Options::default());
        assert_eq!(entry.previews, ["image-preview-320.jpg"]);
        assert_eq!(entry.files[0].id, "");
        // A JPEG without previews of its own shows its RAW twin's, by whole path.
        let paired = Group {
            id: "cccc03".into(),
            kind: "image".into(),
            files: vec![
                file("bbbb02", "b.cr2", "raw"),
                file("cccc03", "b.jpg", "image"),
            ],
            twin_ids: vec!["bbbb02".into()],
            has_vector: false,
        };
        let entry = assemble(&paired, &mut reader, &Options::default());
        assert_eq!(entry.previews, ["bb/bb/02-image-preview-128.jpg"]);
        let ids: Vec<&str> = entry.files.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["", "bbbb02"]);
    }

    #[test]
    fn labels_above_the_threshold_and_the_vector_come_from_the_model_files() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("aa/aa")).unwrap();
        std::fs::create_dir_all(root.path().join("bb/bb")).unwrap();
        std::fs::write(
            root.path().join("aa/aa/01-labels-m-1.json"),
            r#"{"labels":[{"id":"n02088364","name":"beagle","score":0.6},
                {"id":"n02089973","name":"English foxhound","score":0.3},
                {"id":"n02099601","name":"golden retriever","score":0.05}]}"#,
        )
        .unwrap();
        std::fs::write(root.path().join("aa/aa/01-embedding-m-1.npy"), "").unwrap();
        // a RAW twin's labels and embedding serve the JPEG that has none of its own
        std::fs::write(
            root.path().join("bb/bb/02-labels-m-1.json"),
            r#"{"labels":[{"id":"n04285008","name":"sports car","score":0.9}]}"#,
        )
        .unwrap();
        std::fs::write(root.path().join("bb/bb/02-embedding-m-1.npy"), "").unwrap();
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        let options = Options {
            labels_kind: Some("labels-m-1.json".into()),
            label_threshold: 0.25,
            vector_kind: Some("embedding-m-1.npy".into()),
            ..Options::default()
        };
        let own = Group {
            id: "aaaa01".into(),
            kind: "image".into(),
            files: vec![file("aaaa01", "a.jpg", "image")],
            twin_ids: vec![],
            has_vector: false,
        };
        let entry = assemble(&own, &mut reader, &options);
        let names: Vec<&str> = entry.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["beagle", "English foxhound"]);
        assert!(entry.has_vector);
        let paired = Group {
            id: "cccc03".into(),
            kind: "image".into(),
            files: vec![file("cccc03", "b.jpg", "image")],
            twin_ids: vec!["bbbb02".into()],
            has_vector: false,
        };
        let entry = assemble(&paired, &mut reader, &options);
        assert_eq!(entry.labels[0].name, "sports car");
        assert!(entry.has_vector);
        // another model's files count for nothing, and neither do the labels or
        // vectors of a build without a model
        let other = Options {
            labels_kind: Some("labels-m-2.json".into()),
            label_threshold: 0.0,
            vector_kind: Some("embedding-m-2.npy".into()),
            ..Options::default()
        };
        let entry = assemble(&own, &mut reader, &other);
        assert!(entry.labels.is_empty() && !entry.has_vector);
        let entry = assemble(&own, &mut reader, &Options::default());
        assert!(entry.labels.is_empty() && !entry.has_vector);
        assert_ne!(
            signature(&own, &mut reader, &options),
            signature(&own, &mut reader, &other)
        );
        assert!(reader.problems.is_empty());
    }

    #[test]
    fn objects_at_least_as_sure_as_the_threshold_come_with_their_boxes() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("aa/aa")).unwrap();
        std::fs::write(
            root.path().join("aa/aa/01-objects-d-1.json"),
            r#"{"detector":"d-1","preview":800,"objects":[
                {"class":"dog","score":0.67,"x":0.17,"y":0.37,"width":0.26,"height":0.56},
                {"class":"bicycle","score":0.5,"x":0.12,"y":0.2,"width":0.62,"height":0.65},
                {"class":"cat","score":0.3,"x":0.17,"y":0.38,"width":0.26,"height":0.56}]}"#,
        )
        .unwrap();
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        let options = Options {
            objects_kind: Some("objects-d-1.json".into()),
            object_score: 0.4,
            ..Options::default()
        };
        let own = Group {
            id: "aaaa01".into(),
            kind: "image".into(),
            files: vec![file("aaaa01", "a.jpg", "image")],
            twin_ids: vec![],
            has_vector: false,
        };
        let entry = assemble(&own, &mut reader, &options);
        let names: Vec<&str> = entry
            .objects
            .iter()
            .map(|o| o.class_name.as_str())
            .collect();
        assert_eq!(names, ["dog", "bicycle"]);
        let expected = [0.17, 0.37, 0.26, 0.56];
        assert!(entry.objects[0]
            .bounds
            .iter()
            .zip(expected)
            .all(|(got, want)| (got - want).abs() < 1e-9));
        assert!((entry.objects[0].score - 0.67).abs() < 1e-9);
        let entry = assemble(&own, &mut reader, &Options::default());
        assert!(entry.objects.is_empty());
        assert!(reader.problems.is_empty());
    }

    #[test]
    fn previews_largest_first_then_video() {
        let kinds: Vec<String> = [
            "image-preview-128.jpg",
            "image-preview-1920.jpg",
            "image-preview-x.jpg",
            "meta.json",
            "video-frame-1.jpg",
            "video-preview-720.mp4",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            preview_kinds(&kinds),
            [
                "image-preview-1920.jpg",
                "image-preview-128.jpg",
                "video-preview-720.mp4",
                "video-frame-1.jpg"
            ]
        );
    }
}
