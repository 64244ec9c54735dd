//! The field names of a serde struct, read from its own `Deserialize` impl.
//!
//! serde's derive passes the names it accepts (after renames) to the deserializer's
//! `deserialize_struct`; a deserializer that only records them lists the fields of
//! `Entry`, `StoredMeta`, … without a second, hand-kept list. `_core` hands them to
//! Python, whose tests compare them with the msgspec structs the fields come from.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

/// The serialized names of `T`'s fields, in declaration order (empty when `T` is not a
/// struct).
pub fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut found: &'static [&'static str] = &[];
    // The recorder always ends the deserialization with an error, the fields noted.
    let _ = T::deserialize(FieldRecorder { found: &mut found });
    found
}

struct FieldRecorder<'a> {
    found: &'a mut &'static [&'static str],
}

#[derive(Debug)]
struct Recorded;

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("field names recorded")
    }
}

impl std::error::Error for Recorded {}

impl de::Error for Recorded {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Recorded
    }
}

impl<'de> Deserializer<'de> for FieldRecorder<'_> {
    type Error = Recorded;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Recorded> {
        Err(Recorded)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Recorded> {
        *self.found = fields;
        Err(Recorded)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entry_doc::{DetectedObject, Entry};

    #[test]
    fn names_are_the_serialized_ones_in_order() {
        assert_eq!(field_names::<DetectedObject>(), ["class", "score", "box"]);
        let entry = field_names::<Entry>();
        assert_eq!(&entry[..3], ["id", "type", "date"]);
        assert_eq!(entry.last(), Some(&"has_vector"));
        assert!(field_names::<String>().is_empty());
    }
}
