//! What a build works through: every media group of the indexes, and the signatures
//! the catalog holds, both by id.
//!
//! The Python build makes one plan per build and hands slices of its groups to the
//! parts (`part_write.rs`); only ids, twins and counts ever cross back into Python, so
//! a build of a million files makes a million Python objects nowhere.

use crate::catalog::entry_make::Group;
use crate::catalog::grouping::{self, SourceColumns};
use crate::errors::CoreError;

/// The signature of every entry in the catalog, sorted by id.
#[derive(Debug, Default)]
pub struct StoredSignatures {
    sorted: Vec<(String, String)>,
}

impl StoredSignatures {
    /// Reads `id:signature` lines (as the Python build selects them from the catalog).
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let mut sorted = Vec::new();
        for line in text.split('\n').filter(|line| !line.is_empty()) {
            let Some((id, signature)) = line.split_once(':') else {
                return Err(CoreError::Invalid(format!(
                    "a stored signature line is `id:signature`, not {line:?}"
                )));
            };
            sorted.push((id.to_string(), signature.to_string()));
        }
        sorted.sort_unstable();
        Ok(StoredSignatures { sorted })
    }

    pub fn get(&self, media_id: &str) -> Option<&str> {
        self.sorted
            .binary_search_by(|(id, _)| id.as_str().cmp(media_id))
            .ok()
            .map(|at| self.sorted[at].1.as_str())
    }

    /// Stored ids no group has any more, except those whose signature starts with
    /// `kept_prefix` (entries that no index holds by design).
    pub fn gone(&self, groups: &[Group], kept_prefix: &str) -> Vec<String> {
        let mut gone = Vec::new();
        let mut next = groups.iter().map(|group| group.id.as_str()).peekable();
        for (id, signature) in &self.sorted {
            while next.next_if(|group_id| *group_id < id.as_str()).is_some() {}
            if next.peek() != Some(&id.as_str()) && !signature.starts_with(kept_prefix) {
                gone.push(id.clone());
            }
        }
        gone
    }
}

/// The groups of a build (sorted by id) and the catalog's signatures.
#[derive(Debug, Default)]
pub struct BuildPlan {
    pub groups: Vec<Group>,
    pub stored: StoredSignatures,
}

impl BuildPlan {
    pub fn new(sources: Vec<SourceColumns>, stored: &str) -> Result<Self, CoreError> {
        if let Some(bad) = sources.iter().find(|columns| !columns.is_consistent()) {
            return Err(CoreError::Invalid(format!(
                "the files of source {:?} have columns of different lengths",
                bad.source
            )));
        }
        Ok(BuildPlan {
            groups: grouping::group_files(sources),
            stored: StoredSignatures::parse(stored)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str) -> Group {
        Group {
            id: id.into(),
            kind: "image".into(),
            files: vec![],
            twin_ids: vec![],
            has_vector: false,
        }
    }

    #[test]
    fn signatures_are_found_by_id_and_gone_ids_skip_kept_ones() {
        let stored = StoredSignatures::parse("c:3\na:1\nb:fetched:https://x\nd:4\n").unwrap();
        assert_eq!(stored.get("a"), Some("1"));
        assert_eq!(stored.get("b"), Some("fetched:https://x"));
        assert_eq!(stored.get("e"), None);
        let groups = [group("a"), group("bb"), group("d")];
        assert_eq!(stored.gone(&groups, "fetched:"), ["c"]);
        assert_eq!(stored.gone(&[], "fetched:"), ["a", "c", "d"]);
    }

    #[test]
    fn a_line_without_a_signature_is_refused() {
        let error = StoredSignatures::parse("abc\n").unwrap_err();
        assert!(error.to_string().contains("id:signature"), "{error}");
    }
}
