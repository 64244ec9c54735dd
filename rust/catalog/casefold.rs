//! Casefolding that agrees with Python's `str.casefold`, character for character.
//!
//! Queries fold the user's words in Python; the build folds the stored text here.
//! Rust's `to_lowercase` is not the same function (`ß` stays `ß`, where a query
//! folds it to `ss`), so the fold comes from a table generated from Python itself.

#[path = "casefold_table.rs"]
mod table;

pub use table::UNICODE_VERSION;

/// The casefolded text (what Python's `text.casefold()` returns).
pub fn casefold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut folded = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_ascii() {
            folded.push(character.to_ascii_lowercase());
            continue;
        }
        match table::FOLDS.binary_search_by_key(&character, |&(from, _)| from) {
            Ok(found) => folded.push_str(table::FOLDS[found].1),
            Err(_) => folded.push(character),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_full_folds() {
        assert_eq!(casefold("IMG_1.JPG"), "img_1.jpg");
        assert_eq!(casefold("Straße"), "strasse");
        assert_eq!(casefold("ΣΊΣΥΦΟΣ"), "σίσυφοσ");
        assert_eq!(casefold("ﬁ"), "fi");
        assert_eq!(casefold("日本"), "日本");
    }

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(table::FOLDS.windows(2).all(|pair| pair[0].0 < pair[1].0));
    }
}
