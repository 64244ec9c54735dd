//! What extract stored for media ids: their kinds, metadata, places and labels.
//!
//! The storage keeps its files as `storage_layout` says. A build asks for
//! ids in sorted order, so each folder is listed once and its names are split into
//! id and kind then; a few folders are kept because a RAW twin's id sends the reader
//! elsewhere for a moment. A stored file that cannot be read is a problem noted with
//! its path, never the end of the build: the entry is made from what is readable.
//! An id's small kinds are read from its record (`storage_record`), which is read
//! with its folder; a storage written before records keeps them as files, read as such.

use std::collections::HashMap;

use std::io::Read;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::catalog::{storage_layout, storage_record};

const FOLDERS_KEPT: usize = 8;

/// `meta.json` (Python: `homegallery.extract.schema.MediaMeta`), the fields a
/// catalog entry takes; unknown fields are ignored, as newer extracts add some.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredMeta {
    #[serde(rename = "type")]
    pub media_type: MediaType,
    pub mime: Option<String>,
    pub format: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    #[serde(default = "first_orientation")]
    pub orientation: i64,
    pub date: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub lens: Option<String>,
    pub iso: Option<i64>,
    pub aperture: Option<f64>,
    pub exposure_time: Option<f64>,
    pub focal_length: Option<f64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub altitude: Option<f64>,
    pub rating: Option<i64>,
    pub title: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub duration: Option<f64>,
}

fn first_orientation() -> i64 {
    1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MediaType {
    #[serde(rename = "image")]
    Image,
    #[serde(rename = "rawImage")]
    RawImage,
    #[serde(rename = "video")]
    Video,
}

impl MediaType {
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::RawImage => "rawImage",
            MediaType::Video => "video",
        }
    }
}

/// `place.json` (Python: `homegallery.extract.schema.Place`).
#[derive(Debug, Clone, Deserialize)]
pub struct StoredPlace {
    pub country: Option<String>,
    pub country_code: Option<String>,
    pub state: Option<String>,
    pub county: Option<String>,
    pub city: Option<String>,
    pub road: Option<String>,
}

/// `labels-<model>-<version>.json` (Python: `homegallery.extract.schema.Labels`): the
/// model's most probable classes, most probable first.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredLabels {
    #[serde(default)]
    pub labels: Vec<StoredLabel>,
}

/// `objects-<model>-<version>.json` (Python: `homegallery.extract.schema.Objects`): the
/// objects found, best first, boxes relative to the image.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredObjects {
    #[serde(default)]
    pub objects: Vec<StoredObject>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredObject {
    #[serde(rename = "class")]
    pub class_name: String,
    pub score: f64,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct StoredLabel {
    pub id: String,
    pub name: String,
    pub score: f64,
}

/// Kinds per id (the name after the prefix folders), each list sorted, with the
/// parts of the ids' records.
#[derive(Default)]
struct Folder {
    kinds: HashMap<String, Vec<String>>,
    parts: HashMap<String, HashMap<String, Vec<u8>>>,
}

pub struct StorageReader {
    root: String,
    folders: HashMap<String, Folder>,
    pub problems: Vec<String>,
}

/// The folder (`ab/cd`) and the name stem of an id, when it has a stem.
fn split_id(media_id: &str) -> Option<(String, &str)> {
    let (_, _, stem) = storage_layout::split_id(media_id);
    (!stem.is_empty()).then(|| (storage_layout::folder(media_id), stem))
}

impl StorageReader {
    pub fn new(root: &str) -> Self {
        StorageReader {
            root: root.trim_end_matches('/').to_string(),
            folders: HashMap::new(),
            problems: Vec::new(),
        }
    }

    /// Kinds stored for `media_id`, sorted (temporary and hidden files left out).
    pub fn kinds(&mut self, media_id: &str) -> &[String] {
        let Some((folder, stem)) = split_id(media_id) else {
            return &[];
        };
        if !self.folders.contains_key(&folder) {
            let listed = self.list(&folder);
            if self.folders.len() >= FOLDERS_KEPT {
                self.folders.clear();
            }
            self.folders.insert(folder.clone(), listed);
        }
        self.folders[&folder]
            .kinds
            .get(stem)
            .map_or(&[], Vec::as_slice)
    }

    /// The bytes of a kind kept in the record of `media_id`, when it has one.
    fn part(&mut self, media_id: &str, kind: &str) -> Option<Vec<u8>> {
        self.kinds(media_id);
        let (folder, stem) = split_id(media_id)?;
        self.folders
            .get(&folder)?
            .parts
            .get(stem)?
            .get(kind)
            .cloned()
    }

    fn list(&mut self, relative: &str) -> Folder {
        let mut folder = Folder::default();
        let path = format!("{}/{relative}", self.root);
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return folder
            }
            Err(error) => {
                self.problems
                    .push(format!("{path}: cannot list the folder: {error}"));
                return folder;
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .collect();
        names.sort_unstable();
        for name in &names {
            let Some((stem, kind)) = storage_layout::parse_name(name) else {
                continue;
            };
            let kinds = folder.kinds.entry(stem.to_string()).or_default();
            if kind != storage_layout::RECORD {
                kinds.push(kind.to_string());
                continue;
            }
            let record = format!("{path}/{name}");
            let parts = read_small(&record)
                .map_err(|error| error.to_string())
                .and_then(|data| storage_record::decode(&data));
            match parts {
                Ok(parts) => {
                    kinds.extend(parts.iter().map(|(kind, _)| kind.clone()));
                    folder
                        .parts
                        .insert(stem.to_string(), parts.into_iter().collect());
                }
                Err(message) => self
                    .problems
                    .push(format!("{record}: cannot read the record: {message}")),
            }
        }
        for kinds in folder.kinds.values_mut() {
            kinds.sort_unstable();
            kinds.dedup();
        }
        folder
    }

    /// The stored JSON file of one kind, when it is there and readable.
    pub fn read_json<T: DeserializeOwned>(&mut self, media_id: &str, kind: &str) -> Option<T> {
        if !self.kinds(media_id).iter().any(|stored| stored == kind) {
            return None;
        }
        let path = format!("{}/{}", self.root, storage_layout::relative(media_id, kind));
        let stored = match self.part(media_id, kind) {
            Some(data) => Ok(data),
            None => read_small(&path),
        };
        let result = stored
            .map_err(|error| error.to_string())
            .and_then(|data| serde_json::from_slice(&data).map_err(|error| error.to_string()));
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.problems
                    .push(format!("{path}: cannot read {kind}: {message}"));
                None
            }
        }
    }

    pub fn meta(&mut self, media_id: &str) -> Option<StoredMeta> {
        self.read_json(media_id, storage_layout::META)
    }

    pub fn place(&mut self, media_id: &str) -> Option<StoredPlace> {
        self.read_json(media_id, storage_layout::PLACE)
    }

    /// Whether `kind` is stored for `media_id`.
    pub fn has(&mut self, media_id: &str, kind: &str) -> bool {
        self.kinds(media_id).iter().any(|stored| stored == kind)
    }
}

/// The bytes of a small file. (`std::fs::read` asks for the file's size first, one
/// system call more per file; stored JSON is a few hundred bytes.)
fn read_small(path: &str) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::with_capacity(4096);
    std::fs::File::open(path)?
        .take(u64::MAX)
        .read_to_end(&mut data)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "abcd0123";

    fn storage(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("ab/cd")).unwrap();
        for (name, text) in files {
            std::fs::write(root.path().join("ab/cd").join(name), text).unwrap();
        }
        root
    }

    #[test]
    fn kinds_are_sorted_and_leave_temporary_files_out() {
        let root = storage(&[
            ("0123-meta.json", "{}"),
            ("0123-image-preview-320.jpg", ""),
            ("0123-image-preview-1920.jpg.part", ""),
            (".0123-place.json", ""),
            ("4567-meta.json", ""),
        ]);
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        assert_eq!(reader.kinds(ID), ["image-preview-320.jpg", "meta.json"]);
        assert!(reader.kinds("abcd9999").is_empty());
        assert!(reader.kinds("ffff0000").is_empty());
        std::fs::write(root.path().join("ab/ee"), "not a folder").unwrap();
        assert!(reader.kinds("abee0000").is_empty());
        assert!(reader.problems.is_empty());
    }

    #[test]
    fn a_broken_file_is_a_problem_with_its_path() {
        let root = storage(&[
            ("0123-meta.json", r#"{"type":"image","width":"wide"}"#),
            ("0123-place.json", r#"{"source":"offline","city":"Tarifa"}"#),
            (
                "0123-labels-m-1.json",
                r#"{"model":"m","version":"1","labels":[{"id":"n02088364","name":"beagle","score":0.8}]}"#,
            ),
            ("0123-labels-m-2.json", r#"{"labels":[{"name":"no id"}]}"#),
        ]);
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        assert!(reader.meta(ID).is_none());
        assert_eq!(reader.place(ID).unwrap().city.as_deref(), Some("Tarifa"));
        let labels: StoredLabels = reader.read_json(ID, "labels-m-1.json").unwrap();
        assert_eq!(labels.labels[0].name, "beagle");
        assert!(reader
            .read_json::<StoredLabels>(ID, "labels-m-2.json")
            .is_none());
        assert!(reader.has(ID, "labels-m-1.json") && !reader.has(ID, "labels-m-3.json"));
        assert_eq!(reader.problems.len(), 2);
        assert!(reader.problems[0].contains("ab/cd/0123-meta.json: cannot read meta.json"));
        assert!(reader.problems[1].contains("0123-labels-m-2.json: cannot read labels-m-2.json"));
    }

    #[test]
    fn kinds_in_a_record_are_read_from_it_and_old_files_still_count() {
        let root = storage(&[
            ("0123-image-preview-320.jpg", ""),
            ("0123-place.json", r#"{"source":"offline","city":"Tarifa"}"#),
            ("4567-meta.json", r#"{"type":"video"}"#),
            ("89ab-record.bin", "not a record"),
        ]);
        let record = storage_record::encode(&[
            ("meta.json".to_string(), br#"{"type":"rawImage"}"#.to_vec()),
            ("labels-m-1.json".to_string(), br#"{"labels":[]}"#.to_vec()),
        ])
        .unwrap();
        std::fs::write(root.path().join("ab/cd/0123-record.bin"), record).unwrap();
        let mut reader = StorageReader::new(root.path().to_str().unwrap());
        assert_eq!(
            reader.kinds(ID),
            [
                "image-preview-320.jpg",
                "labels-m-1.json",
                "meta.json",
                "place.json"
            ]
        );
        assert_eq!(reader.meta(ID).unwrap().media_type, MediaType::RawImage);
        assert_eq!(reader.place(ID).unwrap().city.as_deref(), Some("Tarifa"));
        assert_eq!(
            reader.meta("abcd4567").unwrap().media_type,
            MediaType::Video
        );
        assert!(reader.kinds("abcd89ab").is_empty());
        assert_eq!(reader.problems.len(), 1);
        assert!(reader.problems[0].contains("89ab-record.bin: cannot read the record"));
    }
}
