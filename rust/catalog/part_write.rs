//! One part of a catalog build, made and written to a SQLite file of its own.
//!
//! A build cuts its media groups into parts (by id) and makes each part on a thread
//! of its own into a part file, which the Python build then copies into the catalog
//! inside its one transaction. Everything per media file happens here: storage
//! reads, the entry, its doc and its rows, and the inserts.
//!
//! This SQLite is the crate's own (bundled) copy, not the one Python's `sqlite3`
//! uses. Two copies of SQLite in one process must never have the same file open at
//! once (their POSIX locks would undo each other), so a part file is written and
//! closed here before Python opens it, and this copy never opens the catalog.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, ToSql};

use crate::catalog::build_plan::StoredSignatures;
use crate::catalog::entry_doc;
use crate::catalog::entry_make::{self, Group, Options};
use crate::catalog::entry_rows::{self, Value, ENTRY_COLUMNS};
use crate::catalog::storage_read::StorageReader;
use crate::errors::CoreError;

impl ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(number) => ValueRef::Integer(*number),
            Value::Real(number) => ValueRef::Real(*number),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
        }))
    }
}

/// What a part asks for: its groups, the catalog's signatures (empty for a full
/// build), the ids whose docs go back to Python instead of into the file (user events
/// change those entries before they are written), the ids with a vector in the
/// catalog that no stored embedding accounts for, and the build's options.
pub struct PartTask<'a> {
    pub groups: &'a [Group],
    pub stored: &'a StoredSignatures,
    pub held: &'a HashSet<String>,
    pub vector_ids: &'a HashSet<String>,
    pub options: &'a Options,
}

#[derive(Debug, Default)]
pub struct PartOutcome {
    /// Groups the catalog had no entry for, had one made otherwise, or had as they are.
    pub added: i64,
    pub changed_ids: Vec<String>,
    pub unchanged: i64,
    /// (id, signature, doc) of the held ids that were made anew, in group order.
    pub held_docs: Vec<(String, String, Vec<u8>)>,
    /// Entries written, with rowids 1..=written.
    pub written: i64,
    pub problems: Vec<String>,
}

/// A new empty file at `path`, in place of any file there. Made here rather than by
/// SQLite so that a path that cannot be written fails with its errno (SQLite says
/// only "unable to open database file").
fn new_file(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    std::fs::File::create_new(path).map(drop)
}

/// Makes the part into a new file at `path`; `schema` creates the entry tables.
pub fn write_part(
    path: &Path,
    storage_root: &str,
    schema: &[String],
    task: &PartTask,
) -> Result<PartOutcome, CoreError> {
    let failed = |error: rusqlite::Error| CoreError::sqlite(path, error);
    new_file(path).map_err(|error| CoreError::io(path, error))?;
    let mut connection = Connection::open(path).map_err(failed)?;
    connection
        .execute_batch(
            // A part is a temporary file of this thread's alone: no journal, no syncs,
            // one lock for the whole run, and a 32 MiB page cache to spill less.
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; \
             PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -32768",
        )
        .map_err(failed)?;
    let transaction = connection.transaction().map_err(failed)?;
    for statement in schema {
        transaction.execute_batch(statement).map_err(failed)?;
    }
    let mut reader = StorageReader::new(storage_root);
    let mut outcome = PartOutcome::default();
    {
        let marks = vec!["?"; ENTRY_COLUMNS.len()].join(", ");
        let mut insert_entry = transaction
            .prepare(&format!(
                "INSERT INTO entries ({}) VALUES ({marks})",
                ENTRY_COLUMNS.join(", ")
            ))
            .map_err(failed)?;
        let mut insert_value = transaction
            .prepare("INSERT INTO entry_values (entry, key, value, score) VALUES (?, ?, ?, ?)")
            .map_err(failed)?;
        let mut insert_file = transaction
            .prepare(
                "INSERT INTO entry_files (entry, source, path, name, ext, kind) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .map_err(failed)?;
        let mut insert_doc = transaction
            .prepare("INSERT INTO entry_docs (entry, doc) VALUES (?, ?)")
            .map_err(failed)?;
        for group in task.groups {
            let marked;
            let group = if task.vector_ids.contains(&group.id) {
                marked = Group {
                    has_vector: true,
                    ..group.clone()
                };
                &marked
            } else {
                group
            };
            let signature = entry_make::signature(group, &mut reader, task.options);
            let stored = task.stored.get(&group.id);
            match stored {
                Some(known) if known == signature => outcome.unchanged += 1,
                Some(_) => outcome.changed_ids.push(group.id.clone()),
                None => outcome.added += 1,
            }
            if stored != Some(signature.as_str()) {
                let entry = entry_make::assemble(group, &mut reader, task.options);
                let doc = entry_doc::encode(&entry);
                if task.held.contains(&group.id) {
                    outcome.held_docs.push((group.id.clone(), signature, doc));
                } else {
                    let rowid = outcome.written + 1;
                    let rows = entry_rows::entry_rows(rowid, &entry, &signature);
                    insert_entry
                        .execute(rusqlite::params_from_iter(&rows.entry))
                        .map_err(failed)?;
                    for (entry, key, value, score) in &rows.values {
                        insert_value
                            .execute(params![entry, key, value, score])
                            .map_err(failed)?;
                    }
                    for (entry, source, path, name, ext, kind) in &rows.files {
                        insert_file
                            .execute(params![entry, source, path, name, ext, kind])
                            .map_err(failed)?;
                    }
                    insert_doc.execute(params![rowid, doc]).map_err(failed)?;
                    outcome.written = rowid;
                }
            }
        }
    }
    transaction.commit().map_err(failed)?;
    outcome.problems = reader.problems;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entry_make::GroupFile;

    fn group(id: &str) -> Group {
        Group {
            id: id.to_string(),
            kind: "image".into(),
            files: vec![GroupFile {
                source: "/p".into(),
                path: format!("{id}.jpg"),
                size: 9,
                mtime_ns: 1,
                id: id.to_string(),
                kind: "image".into(),
            }],
            twin_ids: vec![],
            has_vector: false,
        }
    }

    const SCHEMA: &str = "CREATE TABLE entries (id TEXT, type TEXT, date TEXT, year, month, \
        day, hour, minute, width, height, ratio, orientation, mime, format, make, model, lens, \
        iso, aperture, exposure_time, focal_length, latitude, longitude, altitude, country, \
        country_code, state, county, city, road, title, description, duration, rating, \
        favorite, size, tag_count, object_count, label_count, face_count, file_count, \
        preview_count, has_vector, text, signature); \
        CREATE TABLE entry_docs (entry INTEGER PRIMARY KEY, doc BLOB); \
        CREATE TABLE entry_values (entry, key, value, score); \
        CREATE TABLE entry_files (entry, source, path, name, ext, kind)";

    #[test]
    fn unchanged_entries_are_skipped_and_held_ones_come_back() {
        let root = tempfile::tempdir().unwrap();
        let storage = root.path().join("storage");
        std::fs::create_dir_all(storage.join("aa/aa")).unwrap();
        std::fs::write(
            storage.join("aa/aa/01-meta.json"),
            r#"{"type":"image","make":"Canon","keywords":["Sea"]}"#,
        )
        .unwrap();
        let groups = [group("aaaa01"), group("aaaa02"), group("aaaa03")];
        let mut reader = StorageReader::new(storage.to_str().unwrap());
        let signature = entry_make::signature(&groups[1], &mut reader, &Options::default());
        let stored = StoredSignatures::parse(&format!("aaaa02:{signature}\naaaa03:old")).unwrap();
        let held = HashSet::from(["aaaa03".to_string()]);
        let task = PartTask {
            groups: &groups,
            stored: &stored,
            held: &held,
            vector_ids: &HashSet::new(),
            options: &Options::default(),
        };
        let path = root.path().join("part.db");
        let outcome = write_part(
            &path,
            storage.to_str().unwrap(),
            &[SCHEMA.to_string()],
            &task,
        )
        .unwrap();
        assert_eq!(outcome.added, 1);
        assert_eq!(outcome.unchanged, 1);
        assert_eq!(outcome.changed_ids, ["aaaa03"]);
        assert_eq!(outcome.written, 1);
        assert_eq!(outcome.held_docs.len(), 1);
        assert_eq!(outcome.held_docs[0].0, "aaaa03");
        let connection = Connection::open(&path).unwrap();
        let (id, make, text): (String, String, String) = connection
            .query_row("SELECT id, make, text FROM entries", [], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .unwrap();
        assert_eq!((id.as_str(), make.as_str()), ("aaaa01", "canon"));
        assert_eq!(text, "image\0sea\0canon\0aaaa01.jpg");
        let value: String = connection
            .query_row(
                "SELECT value FROM entry_values WHERE entry = 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(value, "sea");
    }
}
