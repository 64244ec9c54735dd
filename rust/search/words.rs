//! What counts as a word of its own in a value: the one definition every search uses
//! (text columns here, tags and other values through the binding).
//!
//! `york` is a word of `new york` but not of `yorkshire`: a match is a word when no
//! letter or digit stands right before or right after it. Letters and digits are
//! Unicode's alphabetic and numeric characters, so an accent or a vowel sign belongs
//! to the word it is in.

/// Whether `character` continues a word.
pub fn is_word_character(character: char) -> bool {
    character.is_alphanumeric()
}

/// Whether the match of `length` bytes at `start` of `text` stands as a word: the
/// characters around it (if any) are not letters or digits.
pub fn stands_alone(text: &str, start: usize, length: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[start + length..].chars().next();
    !before.is_some_and(is_word_character) && !after.is_some_and(is_word_character)
}

/// Whether `word` occurs in `value` as a word of its own (an empty word never does).
/// Every match is tried, overlapping ones too (`a-a` in `ba-a-a` stands alone at 3).
pub fn has_word(value: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(found) = value[from..].find(word) {
        let start = from + found;
        if stands_alone(value, start, word.len()) {
            return true;
        }
        from = start + value[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_stands_between_non_letters() {
        assert!(has_word("new york", "york"));
        assert!(has_word("york", "york"));
        assert!(has_word("york-shire", "york"));
        assert!(has_word("img_1234.jpg", "1234"));
        assert!(!has_word("yorkshire", "york"));
        assert!(!has_word("newyork", "york"));
        assert!(!has_word("york2", "york"));
        assert!(!has_word("anything", ""));
    }

    #[test]
    fn letters_beyond_ascii_belong_to_their_word() {
        assert!(!has_word("münchen", "m"));
        assert!(!has_word("café", "caf"));
        assert!(has_word("über alles", "über"));
        assert!(has_word("東京 tower", "tower"));
    }

    #[test]
    fn a_later_match_can_stand_alone_when_the_first_does_not() {
        assert!(has_word("seaside sea", "sea"));
        assert!(has_word("ba-a-a", "a-a")); // overlapping the first match
    }
}
