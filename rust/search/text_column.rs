//! One text column of the catalog, every row's value in one buffer.
//!
//! At a million rows a list of Python strings costs ~60 bytes of object header per
//! value and a pass of the interpreter per search; here a column is its UTF-8 text
//! plus one offset per row, and a search is one substring scan of that text. Each
//! value is followed by a NUL, which no value holds, so a match never spans two rows
//! and a value's ends are word boundaries.

use std::sync::OnceLock;

use memchr::memmem;
use rustc_hash::FxHashMap;

use crate::errors::CoreError;
use crate::search::words;

const END: char = '\0';

#[derive(Debug, Default)]
pub struct TextColumn {
    /// Every row's value, each followed by `END`.
    text: String,
    /// Where each row's value starts in `text`, and one past the last `END`.
    starts: Vec<usize>,
    /// Each row's place among the sorted distinct values (-1: none), made when asked.
    ranks: OnceLock<Vec<i64>>,
}

/// A row number as the Python side holds it.
fn row_number(row: usize) -> i64 {
    i64::try_from(row).expect("a row number fits in i64")
}

impl TextColumn {
    fn with_capacity(rows: usize, bytes: usize) -> Self {
        let mut starts = Vec::with_capacity(rows + 1);
        starts.push(0);
        TextColumn {
            text: String::with_capacity(bytes + rows),
            starts,
            ranks: OnceLock::new(),
        }
    }

    fn push(&mut self, value: &str) {
        if value.contains(END) {
            self.text.push_str(&value.replace(END, " "));
        } else {
            self.text.push_str(value);
        }
        self.text.push(END);
        self.starts.push(self.text.len());
    }

    /// A column of these values, one row each (a NUL inside one becomes a space).
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let values = values.into_iter();
        let mut column = TextColumn::with_capacity(values.size_hint().0, 0);
        for value in values {
            column.push(value);
        }
        column
    }

    /// A column of `size` rows from `count` values joined by `separator`; value `k`
    /// goes to row `placement[k]` (to row `k` without a placement), and a row no
    /// value goes to is empty.
    pub fn from_joined(
        joined: &str,
        separator: char,
        count: usize,
        placement: Option<&[i64]>,
        size: usize,
    ) -> Result<Self, CoreError> {
        let pieces: Vec<&str> = if count == 0 && joined.is_empty() {
            Vec::new()
        } else {
            joined.split(separator).collect()
        };
        if pieces.len() != count {
            return Err(CoreError::Invalid(format!(
                "a text column has {} values for {count} rows",
                pieces.len()
            )));
        }
        let Some(placement) = placement else {
            if size != count {
                return Err(CoreError::Invalid(format!(
                    "{count} values cannot fill {size} rows without a placement"
                )));
            }
            let mut column = TextColumn::with_capacity(size, joined.len());
            for piece in pieces {
                column.push(piece);
            }
            return Ok(column);
        };
        if placement.len() != count {
            return Err(CoreError::Invalid(format!(
                "{} places given for {count} values",
                placement.len()
            )));
        }
        let mut by_row: Vec<&str> = vec![""; size];
        for (&row, piece) in placement.iter().zip(pieces) {
            let slot = usize::try_from(row)
                .ok()
                .and_then(|row| by_row.get_mut(row))
                .ok_or_else(|| {
                    CoreError::Invalid(format!("row {row} is outside a column of {size} rows"))
                })?;
            *slot = piece;
        }
        let mut column = TextColumn::with_capacity(size, joined.len());
        for value in by_row {
            column.push(value);
        }
        Ok(column)
    }

    /// A column whose row `i` holds `distinct[codes[i]]` (empty where the code is -1).
    pub fn from_codes(distinct: &[String], codes: &[i64]) -> Result<Self, CoreError> {
        let mut column = TextColumn::with_capacity(codes.len(), 0);
        for &code in codes {
            let value = match usize::try_from(code) {
                Ok(index) => distinct.get(index).ok_or_else(|| {
                    CoreError::Invalid(format!("code {code} names no value of {}", distinct.len()))
                })?,
                Err(_) if code == -1 => "",
                Err(_) => return Err(CoreError::Invalid(format!("code {code} is below -1"))),
            };
            column.push(value);
        }
        Ok(column)
    }

    /// Each row's values of `columns` joined by `separator` (`camera`: make and model).
    pub fn concatenated(columns: &[&TextColumn], separator: &str) -> Result<Self, CoreError> {
        let rows = columns.first().map_or(0, |column| column.len());
        if columns.iter().any(|column| column.len() != rows) {
            return Err(CoreError::Invalid(
                "columns of different lengths cannot be joined".into(),
            ));
        }
        let bytes = columns.iter().map(|column| column.text.len()).sum();
        let mut column = TextColumn::with_capacity(rows, bytes);
        let mut value = String::new();
        for row in 0..rows {
            value.clear();
            for (index, part) in columns.iter().enumerate() {
                if index > 0 {
                    value.push_str(separator);
                }
                value.push_str(part.value(row));
            }
            column.push(&value);
        }
        Ok(column)
    }

    /// Each value up to its last `/` (the folder of a path; empty at the top).
    pub fn parents(&self) -> Self {
        TextColumn::from_values((0..self.len()).map(|row| {
            self.value(row)
                .rsplit_once('/')
                .map_or("", |(head, _)| head)
        }))
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the column holds (text and offsets).
    pub fn size_in_bytes(&self) -> usize {
        self.text.capacity() + self.starts.capacity() * std::mem::size_of::<usize>()
    }

    pub fn value(&self, row: usize) -> &str {
        &self.text[self.starts[row]..self.starts[row + 1] - 1]
    }

    /// The row holding byte `position` of the text.
    fn row_at(&self, position: usize) -> usize {
        self.starts.partition_point(|&start| start <= position) - 1
    }

    /// Rows whose value contains `needle`, ascending, each once; with an empty
    /// needle, the rows that have a value.
    pub fn rows_containing(&self, needle: &str) -> Vec<i64> {
        if self.is_empty() {
            return Vec::new();
        }
        if needle.is_empty() {
            return (0..self.len())
                .filter(|&row| !self.value(row).is_empty())
                .map(row_number)
                .collect();
        }
        if needle.contains(END) {
            return Vec::new();
        }
        let finder = memmem::Finder::new(needle.as_bytes());
        let bytes = self.text.as_bytes();
        let mut rows = Vec::new();
        let mut from = 0;
        while let Some(found) = finder.find(&bytes[from..]) {
            let row = self.row_at(from + found);
            rows.push(row_number(row));
            from = self.starts[row + 1]; // one match per row is enough
        }
        rows
    }

    /// Rows whose value holds `needle` as a word of its own (see `words`), ascending,
    /// each once; `within`: the only rows to look at (those containing it, say).
    pub fn rows_with_word(&self, needle: &str, within: Option<&[i64]>) -> Vec<i64> {
        if needle.is_empty() || needle.contains(END) {
            return Vec::new();
        }
        if let Some(within) = within {
            return self.rows_among(within, |value| words::has_word(value, needle));
        }
        let finder = memmem::Finder::new(needle.as_bytes());
        let bytes = self.text.as_bytes();
        let mut rows: Vec<i64> = Vec::new();
        let mut from = 0;
        while let Some(found) = finder.find(&bytes[from..]) {
            let start = from + found;
            if words::stands_alone(&self.text, start, needle.len()) {
                let row = self.row_at(start);
                rows.push(row_number(row));
                from = self.starts[row + 1];
            } else {
                // the next match may start inside this one (`aa` in `aaa`)
                from = start + self.text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        rows
    }

    /// Rows whose value is `needle`, ascending; `within`: the only rows to look at.
    /// A missing value equals nothing, so an empty needle finds no row.
    pub fn rows_equal(&self, needle: &str, within: Option<&[i64]>) -> Vec<i64> {
        if needle.is_empty() {
            return Vec::new();
        }
        match within {
            Some(within) => self.rows_among(within, |value| value == needle),
            None => (0..self.len())
                .filter(|&row| self.value(row) == needle)
                .map(row_number)
                .collect(),
        }
    }

    /// Rows whose value starts with `prefix`, ascending; `within`: the only rows to
    /// look at.
    pub fn rows_starting_with(&self, prefix: &str, within: Option<&[i64]>) -> Vec<i64> {
        match within {
            Some(within) => self.rows_among(within, |value| value.starts_with(prefix)),
            None => (0..self.len())
                .filter(|&row| self.value(row).starts_with(prefix))
                .map(row_number)
                .collect(),
        }
    }

    /// The rows of `within` (row numbers of this column) whose value passes `test`;
    /// a row number outside the column passes nothing.
    fn rows_among(&self, within: &[i64], test: impl Fn(&str) -> bool) -> Vec<i64> {
        within
            .iter()
            .copied()
            .filter(|&row| {
                usize::try_from(row)
                    .ok()
                    .filter(|&row| row < self.len())
                    .is_some_and(|row| test(self.value(row)))
            })
            .collect()
    }

    /// Whether each row has a value other than white space.
    pub fn present(&self) -> Vec<bool> {
        (0..self.len())
            .map(|row| !self.value(row).trim().is_empty())
            .collect()
    }

    /// The distinct values other than the empty one, sorted (by code point, as
    /// Python sorts strings), and each row's index among them (-1: empty).
    pub fn dictionary(&self) -> (Vec<&str>, Vec<i64>) {
        let mut index: FxHashMap<&str, i64> = FxHashMap::default();
        let mut distinct: Vec<&str> = Vec::new();
        let mut codes: Vec<i64> = (0..self.len())
            .map(|row| {
                let value = self.value(row);
                if value.is_empty() {
                    return -1;
                }
                *index.entry(value).or_insert_with(|| {
                    distinct.push(value);
                    row_number(distinct.len() - 1)
                })
            })
            .collect();
        let mut order: Vec<usize> = (0..distinct.len()).collect();
        order.sort_unstable_by(|&a, &b| distinct[a].cmp(distinct[b]));
        let mut rank_of = vec![0_i64; distinct.len()];
        for (rank, &code) in order.iter().enumerate() {
            rank_of[code] = row_number(rank);
        }
        for code in &mut codes {
            if *code >= 0 {
                *code = rank_of[usize::try_from(*code).expect("codes are indexes")];
            }
        }
        let sorted = order.into_iter().map(|code| distinct[code]).collect();
        (sorted, codes)
    }

    /// Each row's place in the sorted distinct values (-1 where it has none): what
    /// ordering by this column sorts by. Made once per column.
    pub fn ranks(&self) -> &[i64] {
        self.ranks.get_or_init(|| self.dictionary().1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(values: &[&str]) -> TextColumn {
        TextColumn::from_values(values.iter().copied())
    }

    #[test]
    fn values_come_back_as_given() {
        let made = column(&["new york", "", "café", "a\0b"]);
        assert_eq!(made.len(), 4);
        assert_eq!(made.value(0), "new york");
        assert_eq!(made.value(1), "");
        assert_eq!(made.value(2), "café");
        assert_eq!(made.value(3), "a b");
    }

    #[test]
    fn a_substring_is_found_once_per_row() {
        let made = column(&["seaside sea", "", "the sea", "ocean", "sea"]);
        assert_eq!(made.rows_containing("sea"), vec![0, 2, 4]);
        assert_eq!(made.rows_containing(""), vec![0, 2, 3, 4]);
        assert_eq!(made.rows_containing("a\0s"), Vec::<i64>::new());
        assert_eq!(made.rows_containing("aside sea\0the"), Vec::<i64>::new());
    }

    #[test]
    fn a_match_never_spans_two_rows() {
        let made = column(&["ab", "cd"]);
        assert!(made.rows_containing("bc").is_empty());
        assert!(made.rows_containing("b c").is_empty());
    }

    #[test]
    fn words_stand_alone_and_a_row_counts_once() {
        let made = column(&[
            "new york",
            "yorkshire",
            "york",
            "a/york.jpg",
            "",
            "ayork",
            "york york",
        ]);
        assert_eq!(made.rows_with_word("york", None), vec![0, 2, 3, 6]);
        let within = made.rows_containing("york");
        assert_eq!(made.rows_with_word("york", Some(&within)), vec![0, 2, 3, 6]);
        assert!(made.rows_with_word("yo", None).is_empty());
        assert_eq!(column(&["aaa a"]).rows_with_word("a", None), vec![0]);
        assert_eq!(column(&["xaa aa"]).rows_with_word("aa", None), vec![0]);
        let overlapping = column(&["ba-a-a", "ba-a"]);
        assert_eq!(overlapping.rows_with_word("a-a", None), vec![0]);
        assert_eq!(overlapping.rows_with_word("a-a", Some(&[0, 1])), vec![0]);
    }

    #[test]
    fn equality_and_prefixes() {
        let made = column(&["rome", "rome2", "", "rome"]);
        assert_eq!(made.rows_equal("rome", None), vec![0, 3]);
        assert_eq!(made.rows_equal("rome", Some(&[1, 3, 9, -1])), vec![3]);
        assert!(made.rows_equal("", None).is_empty());
        assert_eq!(
            made.rows_starting_with("rome", Some(&[0, 1, 2])),
            vec![0, 1]
        );
        assert_eq!(made.present(), vec![true, true, false, true]);
    }

    #[test]
    fn joined_values_are_placed_in_their_rows() {
        let made = TextColumn::from_joined("b\0\0a", '\0', 3, Some(&[2, 0, 1]), 4).unwrap();
        assert_eq!(
            (0..4).map(|row| made.value(row)).collect::<Vec<_>>(),
            vec!["", "a", "b", ""]
        );
        let plain = TextColumn::from_joined("x,y", ',', 2, None, 2).unwrap();
        assert_eq!(plain.value(1), "y");
        assert!(TextColumn::from_joined("", '\0', 0, None, 0)
            .unwrap()
            .is_empty());
        assert_eq!(
            TextColumn::from_joined("", '\0', 1, None, 1)
                .unwrap()
                .value(0),
            ""
        );
    }

    #[test]
    fn joined_values_that_do_not_fit_are_refused() {
        assert!(TextColumn::from_joined("a\0b", '\0', 3, None, 3).is_err());
        assert!(TextColumn::from_joined("a\0b", '\0', 2, None, 3).is_err());
        assert!(TextColumn::from_joined("a\0b", '\0', 2, Some(&[0]), 2).is_err());
        assert!(TextColumn::from_joined("a\0b", '\0', 2, Some(&[0, 5]), 2).is_err());
        assert!(TextColumn::from_joined("a\0b", '\0', 2, Some(&[0, -1]), 2).is_err());
    }

    #[test]
    fn the_dictionary_is_sorted_by_code_point() {
        let made = column(&["b", "", "é", "a", "b", "Z"]);
        let (distinct, codes) = made.dictionary();
        assert_eq!(distinct, vec!["Z", "a", "b", "é"]);
        assert_eq!(codes, vec![2, -1, 3, 1, 2, 0]);
        assert_eq!(made.ranks(), &[2, -1, 3, 1, 2, 0]);
        let distinct: Vec<String> = distinct.into_iter().map(str::to_owned).collect();
        let again = TextColumn::from_codes(&distinct, &codes).unwrap();
        assert_eq!(
            (0..6).map(|row| again.value(row)).collect::<Vec<_>>(),
            vec!["b", "", "é", "a", "b", "Z"]
        );
        assert!(TextColumn::from_codes(&distinct, &[4]).is_err());
        assert!(TextColumn::from_codes(&distinct, &[-2]).is_err());
    }

    #[test]
    fn concatenation_and_parents() {
        let make = column(&["canon", "", "nikon"]);
        let model = column(&["eos r", "x", ""]);
        let camera = TextColumn::concatenated(&[&make, &model], " ").unwrap();
        assert_eq!(
            (0..3).map(|row| camera.value(row)).collect::<Vec<_>>(),
            vec!["canon eos r", " x", "nikon "]
        );
        assert!(TextColumn::concatenated(&[&make, &column(&["a"])], " ").is_err());
        let paths = column(&["2020/a.jpg", "b.jpg", "x/y/z.jpg"]);
        let parents = paths.parents();
        assert_eq!(
            (0..3).map(|row| parents.value(row)).collect::<Vec<_>>(),
            vec!["2020", "", "x/y"]
        );
    }
}
