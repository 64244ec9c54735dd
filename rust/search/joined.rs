//! Columns cross from SQLite as one joined string each (`group_concat`): a Python
//! object per value would cost ten times as much. These read such strings back.

use crate::errors::CoreError;

/// The numbers of a comma-joined column (`nan` where the value is unknown), checked
/// to be `count` of them.
pub fn parse_numbers(text: &str, count: usize) -> Result<Vec<f64>, CoreError> {
    if count == 0 {
        return if text.is_empty() {
            Ok(Vec::new())
        } else {
            Err(CoreError::Invalid(
                "numbers were given for a column of no rows".into(),
            ))
        };
    }
    let mut numbers = Vec::with_capacity(count);
    for (index, piece) in text.split(',').enumerate() {
        let number = piece.trim().parse::<f64>().map_err(|_| {
            CoreError::Invalid(format!(
                "value {index} of a number column is not a number: {piece:?}"
            ))
        })?;
        numbers.push(number);
    }
    if numbers.len() != count {
        return Err(CoreError::Invalid(format!(
            "a number column has {} values for {count} rows",
            numbers.len()
        )));
    }
    Ok(numbers)
}

/// The integers of a comma-joined column, checked to be `count` of them when given.
pub fn parse_integers(text: &str, count: Option<usize>) -> Result<Vec<i64>, CoreError> {
    if count.unwrap_or(0) == 0 && text.is_empty() {
        return Ok(Vec::new());
    }
    let numbers: Vec<i64> = text
        .split(',')
        .enumerate()
        .map(|(index, piece)| {
            piece.trim().parse::<i64>().map_err(|_| {
                CoreError::Invalid(format!(
                    "value {index} of an integer column is not an integer: {piece:?}"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if let Some(count) = count.filter(|&count| count != numbers.len()) {
        return Err(CoreError::Invalid(format!(
            "an integer column has {} values for {count} rows",
            numbers.len()
        )));
    }
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_unknowns_are_read() {
        let numbers = parse_numbers("2021,nan,1.5,-3,1e3", 5).unwrap();
        assert!(numbers[1].is_nan());
        for (found, expected) in numbers.iter().zip([2021.0, f64::NAN, 1.5, -3.0, 1000.0]) {
            assert!(expected.is_nan() || (found - expected).abs() < f64::EPSILON);
        }
    }

    #[test]
    fn a_column_of_no_rows_is_empty() {
        assert!(parse_numbers("", 0).unwrap().is_empty());
        assert!(parse_integers("", Some(0)).unwrap().is_empty());
        assert!(parse_integers("", None).unwrap().is_empty());
    }

    #[test]
    fn a_wrong_count_or_a_word_is_refused() {
        assert!(parse_numbers("1,2", 3).is_err());
        assert!(parse_numbers("1,x", 2).is_err());
        assert!(parse_numbers("1", 0).is_err());
        assert!(parse_integers("1,2.5", Some(2)).is_err());
        assert!(parse_integers("1,2", Some(1)).is_err());
    }

    #[test]
    fn integers_are_read() {
        assert_eq!(parse_integers("3,1,2", Some(3)).unwrap(), vec![3, 1, 2]);
        assert_eq!(parse_integers("3,1", None).unwrap(), vec![3, 1]);
    }
}
