//! The catalog entry and its stored form (`entry_docs.doc`, MessagePack).
//!
//! Python decodes the doc into `homegallery.catalog.entry.Entry` (msgspec), so the
//! field names and the defaults left out here are that struct's; `doc.py` describes
//! the stored form (own previews as kinds, the main file's id left out). Docs made by
//! Python (an entry after a user's tag change) come back here to make its rows, so
//! every field Python may write is read, the detected objects, labels and faces included.

use serde::{Deserialize, Serialize};

use crate::errors::CoreError;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryFile {
    pub source: String,
    pub path: String,
    pub size: i64,
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "omit::is_zero")]
    pub mtime_ns: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectedObject {
    #[serde(rename = "class")]
    pub class_name: String,
    pub score: f64,
    #[serde(rename = "box", default, skip_serializing_if = "omit::is_no_box")]
    pub bounds: [f64; 4],
}

/// An `ImageNet` class the embedding model saw, named by its `WordNet` id (which finds its
/// search words, see `homegallery.catalog.query.labels`), with its display name and probability.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Label {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: String,
    pub score: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Face {
    #[serde(rename = "box", default, skip_serializing_if = "omit::is_no_box")]
    pub bounds: [f64; 4],
    #[serde(default, skip_serializing_if = "omit::is_no_score")]
    pub score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
}

/// Every optional field is left out of the doc when it has no value, as msgspec's
/// `omit_defaults` does, which keeps a typical doc under 400 bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(rename = "type")]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    #[serde(
        default = "first_orientation",
        skip_serializing_if = "omit::is_first_orientation"
    )]
    pub orientation: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lens: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iso: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aperture: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure_time: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focal_length: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub altitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub road: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<i64>,
    #[serde(default, skip_serializing_if = "omit::is_false")]
    pub favorite: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<DetectedObject>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faces: Vec<Face>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<EntryFile>,
    /// Storage-relative paths in an `Entry`; kinds where the stored form allows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previews: Vec<String>,
    #[serde(default, skip_serializing_if = "omit::is_false")]
    pub has_vector: bool,
}

fn first_orientation() -> i64 {
    1
}

/// Whether a field holds its default and is left out of the doc. serde's
/// `skip_serializing_if` hands these a reference, small values included.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
mod omit {
    pub fn is_first_orientation(value: &i64) -> bool {
        *value == 1
    }

    pub fn is_zero(value: &i64) -> bool {
        *value == 0
    }

    pub fn is_false(value: &bool) -> bool {
        !*value
    }

    pub fn is_no_score(value: &f64) -> bool {
        *value == 0.0
    }

    pub fn is_no_box(value: &[f64; 4]) -> bool {
        value.iter().all(|side| *side == 0.0)
    }
}

impl Entry {
    /// Bytes of the main file (the first one).
    pub fn size(&self) -> i64 {
        self.files.first().map_or(0, |file| file.size)
    }
}

/// The doc of an entry whose previews are already kinds or whole paths (stored form).
pub fn encode(entry: &Entry) -> Vec<u8> {
    rmp_serde::to_vec_named(entry).expect("an entry always encodes")
}

pub fn decode(doc: &[u8]) -> Result<Entry, CoreError> {
    rmp_serde::from_slice(doc)
        .map_err(|error| CoreError::Invalid(format!("not an entry doc: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doc_round_trips_and_leaves_defaults_out() {
        let entry = Entry {
            id: "ab".repeat(32),
            media_type: "image".into(),
            width: Some(4000),
            orientation: 1,
            aperture: Some(2.8),
            tags: vec!["sea".into()],
            objects: vec![DetectedObject {
                class_name: "dog".into(),
                score: 0.9,
                bounds: [0.1, 0.2, 0.3, 0.4],
            }],
            labels: vec![Label {
                id: "n02088364".into(),
                name: "beagle".into(),
                score: 0.75,
            }],
            files: vec![EntryFile {
                source: "/p".into(),
                path: "a.jpg".into(),
                size: 3,
                kind: "image".into(),
                ..EntryFile::default()
            }],
            ..Entry::default()
        };
        let doc = encode(&entry);
        let text = String::from_utf8_lossy(&doc);
        assert!(!text.contains("orientation") && !text.contains("mtime_ns"));
        assert!(text.contains("class"));
        assert_eq!(decode(&doc).unwrap(), entry);
        assert!(decode(b"\x01")
            .unwrap_err()
            .to_string()
            .starts_with("not an entry doc"));
    }
}
