//! Entries → catalog rows: the searchable columns, tag/object/label values and files.
//!
//! One place makes rows, for the build and for user events alike (Python sends the
//! doc of a changed entry here), so the searchable columns always agree with the
//! stored entry. Searchable text is casefolded here once, which lets queries compare
//! with plain `=` and `instr` (SQLite's own `lower()` knows only ASCII).

use std::collections::HashMap;

use crate::catalog::casefold::casefold;
use crate::catalog::entry_doc::Entry;

/// Between the parts of the text cache: no query word can span two parts (a tag and
/// the next one), which lets the in-memory search test each part on its own.
pub const SEPARATOR: char = '\0';

/// The columns of `entries`, in the order of [`EntryRows::entry`].
pub const ENTRY_COLUMNS: [&str; 46] = [
    "rowid",
    "id",
    "type",
    "date",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "width",
    "height",
    "ratio",
    "orientation",
    "mime",
    "format",
    "make",
    "model",
    "lens",
    "iso",
    "aperture",
    "exposure_time",
    "focal_length",
    "latitude",
    "longitude",
    "altitude",
    "country",
    "country_code",
    "state",
    "county",
    "city",
    "road",
    "title",
    "description",
    "duration",
    "rating",
    "favorite",
    "size",
    "tag_count",
    "object_count",
    "label_count",
    "face_count",
    "file_count",
    "preview_count",
    "has_vector",
    "text",
    "signature",
];

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Value::Null, Value::Int)
    }
}

impl From<Option<f64>> for Value {
    fn from(value: Option<f64>) -> Self {
        value.map_or(Value::Null, Value::Real)
    }
}

impl From<Option<String>> for Value {
    fn from(value: Option<String>) -> Self {
        value.map_or(Value::Null, Value::Text)
    }
}

/// (entry rowid, key, casefolded value, score) of `entry_values`: the score is how sure
/// the model was (an object's detection score, a label's probability; the highest of an
/// object class seen twice), none for what a person wrote (tags). Word searches rank by it.
pub type ValueRow = (i64, &'static str, String, Option<f64>);
/// (entry rowid, source, path, name, extension, kind) of `entry_files`, casefolded.
pub type FileRow = (i64, String, String, String, String, String);

#[derive(Debug, Default)]
pub struct EntryRows {
    pub entry: Vec<Value>,
    pub values: Vec<ValueRow>,
    pub files: Vec<FileRow>,
}

/// The searchable form of a text: casefolded, never holding the separator.
pub fn fold(text: Option<&str>) -> Option<String> {
    let text = text.filter(|text| !text.is_empty())?;
    let folded = casefold(text);
    Some(if folded.contains(SEPARATOR) {
        folded.replace(SEPARATOR, " ")
    } else {
        folded
    })
}

/// What bare words search: type, day, tags, places, camera, titles, objects, files.
/// (Labels are searched by their words through their `entry_values`, see below.)
///
/// `homegallery.catalog.query.evaluate.Evaluator.text` searches the same parts from
/// the columns; the two must list the same ones.
fn text_cache(entry: &Entry, folded_fields: &[&Option<String>]) -> String {
    let mut parts: Vec<String> = vec![casefold(&entry.media_type)];
    if let Some(date) = entry.date.as_deref().filter(|date| !date.is_empty()) {
        parts.push(date.chars().take(10).collect());
    }
    parts.extend(entry.tags.iter().filter_map(|tag| fold(Some(tag))));
    parts.extend(folded_fields.iter().filter_map(|field| (*field).clone()));
    parts.extend(
        entry
            .objects
            .iter()
            .filter_map(|found| fold(Some(&found.class_name))),
    );
    parts.extend(entry.files.iter().filter_map(|file| fold(Some(&file.path))));
    parts.retain(|part| !part.is_empty());
    parts.join("\0")
}

/// `a/IMG_1.JPG` → `jpg` (the suffix of the file name, without the dot).
fn extension(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(dot) if dot > 0 => casefold(&name[dot + 1..]),
        _ => String::new(),
    }
}

/// Width over height, when both are known and not zero.
#[allow(
    clippy::cast_precision_loss,
    reason = "pixel counts are far below 2^52, where f64 holds every integer"
)]
fn ratio(width: Option<i64>, height: Option<i64>) -> Option<f64> {
    match (width, height) {
        (Some(width), Some(height)) if width != 0 && height != 0 => {
            Some(width as f64 / height as f64)
        }
        _ => None,
    }
}

/// The rows of one entry, with the catalog rowid it gets.
#[allow(
    clippy::too_many_lines,
    clippy::similar_names,
    reason = "one line per column, named as the columns (county, country)"
)]
pub fn entry_rows(rowid: i64, entry: &Entry, signature: &str) -> EntryRows {
    let ratio = ratio(entry.width, entry.height);
    let folded = |text: &Option<String>| fold(text.as_deref());
    let (country, state, county, city, road) = (
        folded(&entry.country),
        folded(&entry.state),
        folded(&entry.county),
        folded(&entry.city),
        folded(&entry.road),
    );
    let (make, model, lens, title, description) = (
        folded(&entry.make),
        folded(&entry.model),
        folded(&entry.lens),
        folded(&entry.title),
        folded(&entry.description),
    );
    let text = text_cache(
        entry,
        &[
            &country,
            &state,
            &county,
            &city,
            &road,
            &make,
            &model,
            &lens,
            &title,
            &description,
        ],
    );
    let count = |items: usize| Value::Int(i64::try_from(items).expect("a count fits in i64"));
    let flag = |on: bool| Value::Int(i64::from(on));
    let row = vec![
        Value::Int(rowid),
        Value::Text(entry.id.clone()),
        Value::Text(entry.media_type.clone()),
        entry.date.clone().into(),
        entry.year.into(),
        entry.month.into(),
        entry.day.into(),
        entry.hour.into(),
        entry.minute.into(),
        entry.width.into(),
        entry.height.into(),
        ratio.into(),
        Value::Int(entry.orientation),
        folded(&entry.mime).into(),
        folded(&entry.format).into(),
        make.into(),
        model.into(),
        lens.into(),
        entry.iso.into(),
        entry.aperture.into(),
        entry.exposure_time.into(),
        entry.focal_length.into(),
        entry.latitude.into(),
        entry.longitude.into(),
        entry.altitude.into(),
        country.into(),
        folded(&entry.country_code).into(),
        state.into(),
        county.into(),
        city.into(),
        road.into(),
        title.into(),
        description.into(),
        entry.duration.into(),
        entry.rating.into(),
        flag(entry.favorite),
        Value::Int(entry.size()),
        count(entry.tags.len()),
        count(entry.objects.len()),
        count(entry.labels.len()),
        count(entry.faces.len()),
        count(entry.files.len()),
        count(entry.previews.len()),
        flag(entry.has_vector),
        Value::Text(text),
        Value::Text(signature.to_string()),
    ];
    debug_assert_eq!(row.len(), ENTRY_COLUMNS.len());
    let mut seen: HashMap<(&'static str, String), usize> = HashMap::new();
    let mut values: Vec<ValueRow> = Vec::new();
    let mut add = |key: &'static str, value: String, score: Option<f64>| {
        let score = score.filter(|score| score.is_finite());
        if let Some(&at) = seen.get(&(key, value.clone())) {
            if let (Some(new), Some(old)) = (score, values[at].3) {
                values[at].3 = Some(new.max(old));
            }
        } else {
            seen.insert((key, value.clone()), values.len());
            values.push((rowid, key, value, score));
        }
    };
    for tag in &entry.tags {
        add("tag", fold(Some(tag)).unwrap_or_default(), None);
    }
    for found in &entry.objects {
        let class = fold(Some(&found.class_name)).unwrap_or_default();
        add("object", class, Some(found.score));
    }
    // A label is its class's WordNet id: the query finds the ids whose words match
    // (`dog` → every dog breed), which keeps one row per label rather than one per word.
    for label in &entry.labels {
        let id = casefold(&label.id);
        if !id.is_empty() {
            add("label", id, Some(label.score));
        }
    }
    let files = entry
        .files
        .iter()
        .map(|file| {
            let name = file.path.rsplit('/').next().unwrap_or(&file.path);
            (
                rowid,
                fold(Some(&file.source)).unwrap_or_default(),
                fold(Some(&file.path)).unwrap_or_default(),
                fold(Some(name)).unwrap_or_default(),
                extension(&file.path),
                file.kind.clone(),
            )
        })
        .collect();
    EntryRows {
        entry: row,
        values,
        files,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entry_doc::EntryFile;

    #[test]
    fn text_is_casefolded_and_a_stray_separator_becomes_a_space() {
        let entry = Entry {
            id: "ab".repeat(32),
            media_type: "rawImage".into(),
            date: Some("2020-05-01T10:00:00".into()),
            city: Some("Straße\0Mitte".into()),
            make: Some("NIKON".into()),
            tags: vec!["Sea".into(), "sea".into()],
            files: vec![EntryFile {
                source: "/P".into(),
                path: "A/IMG_1.JPG".into(),
                size: 5,
                kind: "image".into(),
                ..EntryFile::default()
            }],
            width: Some(4000),
            height: Some(0),
            ..Entry::default()
        };
        let rows = entry_rows(7, &entry, "sig");
        let text = rows.entry[44].clone();
        assert_eq!(
            text,
            Value::Text("rawimage\u{0}2020-05-01\u{0}sea\u{0}sea\u{0}strasse mitte\u{0}nikon\u{0}a/img_1.jpg".into())
        );
        assert_eq!(rows.entry[11], Value::Null); // no ratio with a zero height
        assert_eq!(rows.entry[36], Value::Int(5));
        assert_eq!(rows.values, vec![(7, "tag", "sea".to_string(), None)]);
        assert_eq!(
            rows.files,
            vec![(
                7,
                "/p".into(),
                "a/img_1.jpg".into(),
                "img_1.jpg".into(),
                "jpg".into(),
                "image".into()
            )]
        );
    }

    #[test]
    fn labels_are_values_by_their_class_id_and_stay_out_of_the_text() {
        let label = |id: &str, name: &str, score: f64| crate::catalog::entry_doc::Label {
            id: id.into(),
            name: name.into(),
            score,
        };
        let entry = Entry {
            id: "ab".repeat(32),
            media_type: "image".into(),
            labels: vec![
                label("n02088364", "beagle", 0.5),
                label("n02089973", "English foxhound", 0.25),
                label("n02088364", "beagle", 0.75),
                label("", "no class id", 0.5),
            ],
            ..Entry::default()
        };
        let rows = entry_rows(3, &entry, "sig");
        assert_eq!(rows.entry[44], Value::Text("image".into()));
        assert_eq!(rows.entry[39], Value::Int(4)); // label_count: every label
        assert_eq!(
            rows.values,
            vec![
                (3, "label", "n02088364".to_string(), Some(0.75)),
                (3, "label", "n02089973".to_string(), Some(0.25))
            ]
        );
    }

    #[test]
    fn an_object_class_seen_twice_is_one_value_with_the_higher_score() {
        let object = |class: &str, score: f64| crate::catalog::entry_doc::DetectedObject {
            class_name: class.into(),
            score,
            bounds: [0.0; 4],
        };
        let entry = Entry {
            id: "ab".repeat(32),
            media_type: "image".into(),
            tags: vec!["Dog".into()],
            objects: vec![
                object("Dog", 0.4),
                object("dog", 0.9),
                object("cat", f64::NAN),
            ],
            ..Entry::default()
        };
        let rows = entry_rows(2, &entry, "sig");
        assert_eq!(
            rows.values,
            vec![
                (2, "tag", "dog".to_string(), None),
                (2, "object", "dog".to_string(), Some(0.9)),
                (2, "object", "cat".to_string(), None)
            ]
        );
    }

    #[test]
    fn hidden_files_have_no_extension() {
        assert_eq!(extension("a/.hidden"), "");
        assert_eq!(extension("a.b/noext"), "");
        assert_eq!(extension("x.TAR.GZ"), "gz");
    }
}
