//! The record of a media id: its small stored kinds (metadata, place, failure
//! records, model outputs) in one file, `<id[4:]>-record.bin`.
//!
//! On ext4 every file takes at least a 4 KiB block, and the small kinds of a photo are
//! a few hundred bytes each (an embedding five KiB): six files took six or seven
//! blocks where their bytes fill two. Which kinds go into the record is
//! [`storage_layout::in_record`]; each part keeps the bytes its kind's file had (JSON,
//! `.npy`), so the formats of the parts are unchanged.
//!
//! Format: the magic `HGR1`, then per part, sorted by kind: the kind's length (u16,
//! little-endian), the kind (UTF-8), the part's length (u32, little-endian), its bytes.
//!
//! [`storage_layout::in_record`]: crate::catalog::storage_layout::in_record

pub const MAGIC: &[u8; 4] = b"HGR1";

/// A record's bytes from its parts (sorted by kind; a kind given twice keeps the last).
pub fn encode<D: AsRef<[u8]>>(parts: &[(String, D)]) -> Result<Vec<u8>, String> {
    let mut sorted: Vec<&(String, D)> = parts.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    let size: usize = sorted
        .iter()
        .map(|(k, d)| 6 + k.len() + d.as_ref().len())
        .sum();
    let mut out = Vec::with_capacity(MAGIC.len() + size);
    out.extend_from_slice(MAGIC);
    for (kind, data) in sorted {
        let data = data.as_ref();
        let kind_length = u16::try_from(kind.len())
            .map_err(|_| format!("a kind of {} bytes is too long", kind.len()))?;
        let data_length = u32::try_from(data.len())
            .map_err(|_| format!("{kind}: {} bytes are too many for a record", data.len()))?;
        out.extend_from_slice(&kind_length.to_le_bytes());
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(&data_length.to_le_bytes());
        out.extend_from_slice(data);
    }
    Ok(out)
}

/// The parts of a record, in the order stored; an error says what is wrong.
pub fn decode(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let rest = data
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| "not a storage record (no HGR1 at its start)".to_string())?;
    let mut parts = Vec::new();
    let mut at = 0;
    let take = |at: &mut usize, count: usize| -> Result<&[u8], String> {
        let end = at
            .checked_add(count)
            .filter(|end| *end <= rest.len())
            .ok_or_else(|| format!("the record ends inside a part (at byte {})", *at + 4))?;
        let slice = &rest[*at..end];
        *at = end;
        Ok(slice)
    };
    while at < rest.len() {
        let kind_length = u16::from_le_bytes(take(&mut at, 2)?.try_into().unwrap()) as usize;
        let kind = std::str::from_utf8(take(&mut at, kind_length)?)
            .map_err(|_| "a kind in the record is not UTF-8".to_string())?
            .to_string();
        let data_length = u32::from_le_bytes(take(&mut at, 4)?.try_into().unwrap()) as usize;
        parts.push((kind, take(&mut at, data_length)?.to_vec()));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(kind: &str, data: &[u8]) -> (String, Vec<u8>) {
        (kind.to_string(), data.to_vec())
    }

    #[test]
    fn parts_come_back_sorted_with_the_last_of_a_kind() {
        let parts = [
            part("place.json", b"{}"),
            part("meta.json", b"{\"type\":\"image\"}"),
            part("place.json", b"{\"city\":\"Tarifa\"}"),
            part("embedding-m-1.npy", &[0, 1, 2, 255]),
        ];
        let record = encode(&parts).unwrap();
        assert!(record.starts_with(MAGIC));
        assert_eq!(
            decode(&record).unwrap(),
            [
                part("embedding-m-1.npy", &[0, 1, 2, 255]),
                part("meta.json", b"{\"type\":\"image\"}"),
                part("place.json", b"{\"city\":\"Tarifa\"}"),
            ]
        );
        let empty: [(String, Vec<u8>); 0] = [];
        assert_eq!(decode(&encode(&empty).unwrap()).unwrap(), []);
    }

    #[test]
    fn a_cut_or_foreign_record_is_an_error() {
        let record = encode(&[part("meta.json", b"{\"type\":\"image\"}")]).unwrap();
        for end in 5..record.len() {
            assert!(decode(&record[..end]).is_err(), "cut at {end}");
        }
        assert!(decode(b"{\"type\":\"image\"}").is_err());
        assert!(decode(b"HGR1\x02\x00\xff\xfe\x00\x00\x00\x00").is_err());
    }
}
