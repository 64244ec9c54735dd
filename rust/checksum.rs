//! blake3 checksums of many files in parallel: the media ids.
//!
//! Files are spread over a rayon pool; each file is memory-mapped and hashed by one
//! thread (blake3 already uses SIMD within a thread). A file whose size or mtime
//! differs after reading from before was written to while we read it: its digest would
//! describe no version of the file, so it comes back as an error for the next run.
//! Every problem is a result for that one file; a batch never aborts.

use rayon::prelude::*;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub hex: String,
    pub bytes: u64,
}

fn stamp(metadata: &fs::Metadata) -> (u64, i64, i64) {
    (metadata.len(), metadata.mtime(), metadata.mtime_nsec())
}

/// Digest of one file, or a message saying why there is none.
pub fn hash_file(path: &Path) -> Result<Digest, String> {
    let before = fs::metadata(path).map_err(|cause| cause.to_string())?;
    if before.is_dir() {
        return Err("is a folder".into());
    }
    let mut hasher = blake3::Hasher::new();
    // Memory-mapping spares the copy into a buffer, which is a third of the cost
    // at blake3's speed; blake3 falls back to reads for small and special files.
    hasher
        .update_mmap(path)
        .map_err(|cause| format!("read error: {cause}"))?;
    let total = hasher.count();
    let after = fs::metadata(path).map_err(|cause| format!("vanished while reading: {cause}"))?;
    if stamp(&before) != stamp(&after) || total != after.len() {
        return Err("changed while reading; it is read again on the next run".into());
    }
    Ok(Digest {
        hex: hasher.finalize().to_hex().to_string(),
        bytes: total,
    })
}

/// Digests of `paths` in order. `threads` 0 uses every core.
pub fn hash_files(paths: &[PathBuf], threads: usize) -> Vec<Result<Digest, String>> {
    let work = || paths.par_iter().map(|path| hash_file(path)).collect();
    if threads == 0 {
        return work();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        let dir = std::env::temp_dir().join(format!("hg-sum-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty");
        let abc = dir.join("abc");
        fs::write(&empty, b"").unwrap();
        fs::write(&abc, b"abc").unwrap();
        let results = hash_files(&[empty, abc, dir.join("missing")], 2);
        assert_eq!(
            results[0].as_ref().unwrap().hex,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            results[1].as_ref().unwrap().hex,
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(results[1].as_ref().unwrap().bytes, 3);
        assert!(results[2].as_ref().unwrap_err().contains("No such file"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn large_file_matches_one_shot_hash() {
        let dir = std::env::temp_dir().join(format!("hg-sum-big-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..3 * (1 << 20) + 17).map(|i| (i % 251) as u8).collect();
        let path = dir.join("big");
        fs::write(&path, &data).unwrap();
        let digest = hash_file(&path).unwrap();
        assert_eq!(digest.hex, blake3::hash(&data).to_hex().to_string());
        fs::remove_dir_all(dir).unwrap();
    }
}
