//! blake3 checksums of many files in parallel: the media ids.
//!
//! Files are spread over a rayon pool; each file is read by one thread with plain
//! reads into a block buffer (blake3 already uses SIMD within a thread). Files are not
//! memory-mapped: a mapped file that shrinks while it is hashed, or a disk that goes
//! away, raises SIGBUS and kills the whole process, where a read just fails for that
//! one file. A file whose size or mtime differs after reading from before was written
//! to while we read it: its digest would describe no version of the file, so it comes
//! back as an error for the next run. Every problem is a result for that one file; a
//! batch never aborts.

use crate::fs::within;
use crate::pool::with_threads;
use rayon::prelude::*;
use std::cell::RefCell;
use std::fs;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Bytes per read: large enough that the system calls cost nothing beside hashing,
/// small enough to stay in the core's L2 cache between the copy and the hash.
const BLOCK: usize = 256 * 1024;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(vec![0; BLOCK]);
}

/// Why one file has no digest. It travels as its message: a file's problem is noted
/// with the file and the batch goes on.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Opening the file or reading its metadata failed.
    #[error("{0}")]
    Open(std::io::Error),
    #[error("read error: {0}")]
    Read(std::io::Error),
    #[error("is a folder")]
    Folder,
    #[error("not a regular file")]
    NotRegular,
    #[error("leads outside the sources (symbolic link); not read")]
    Outside,
    #[error("changed while reading; it is read again on the next run")]
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub hex: String,
    pub bytes: u64,
}

fn stamp(metadata: &fs::Metadata) -> (u64, i64, i64) {
    (metadata.len(), metadata.mtime(), metadata.mtime_nsec())
}

/// Opens a file for reading without ever blocking on the open itself: a path swapped
/// for a FIFO would otherwise wait for a writer forever.
fn open_nonblocking(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

fn hash_open_file(file: &mut fs::File, hasher: &mut blake3::Hasher) -> std::io::Result<()> {
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        loop {
            match file.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(count) => {
                    hasher.update(&buffer[..count]);
                }
                Err(cause) if cause.kind() == ErrorKind::Interrupted => {}
                Err(cause) => return Err(cause),
            }
        }
    })
}

/// Digest of one file, or why there is none.
///
/// With `roots`, the file is hashed only when what was opened lies inside one of
/// them (the opened file itself is checked, so a path swapped for a symlink after the
/// walk cannot make us read a file elsewhere).
pub fn hash_file(path: &Path, roots: Option<&[PathBuf]>) -> Result<Digest, HashError> {
    let mut file = open_nonblocking(path).map_err(HashError::Open)?;
    let before = file.metadata().map_err(HashError::Open)?;
    if before.is_dir() {
        return Err(HashError::Folder);
    }
    if !before.is_file() {
        return Err(HashError::NotRegular);
    }
    if let Some(roots) = roots {
        if !within::opened_inside(&file, path, roots).map_err(HashError::Open)? {
            return Err(HashError::Outside);
        }
    }
    let mut hasher = blake3::Hasher::new();
    hash_open_file(&mut file, &mut hasher).map_err(HashError::Read)?;
    let total = hasher.count();
    let after = file.metadata().map_err(HashError::Read)?;
    if stamp(&before) != stamp(&after) || total != after.len() {
        return Err(HashError::Changed);
    }
    Ok(Digest {
        hex: hasher.finalize().to_hex().to_string(),
        bytes: total,
    })
}

/// Digests of `paths` in order. `threads` 0 uses every core.
pub fn hash_files(
    paths: &[PathBuf],
    threads: usize,
    roots: Option<&[PathBuf]>,
) -> Vec<Result<Digest, HashError>> {
    with_threads(threads, || {
        paths
            .par_iter()
            .map(|path| hash_file(path, roots))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn known_digests() {
        let dir = std::env::temp_dir().join(format!("hg-sum-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty");
        let abc = dir.join("abc");
        fs::write(&empty, b"").unwrap();
        fs::write(&abc, b"abc").unwrap();
        let results = hash_files(&[empty, abc, dir.join("missing")], 2, None);
        assert_eq!(
            results[0].as_ref().unwrap().hex,
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            results[1].as_ref().unwrap().hex,
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        assert_eq!(results[1].as_ref().unwrap().bytes, 3);
        let missing = results[2].as_ref().unwrap_err();
        assert!(matches!(missing, HashError::Open(cause) if cause.kind() == ErrorKind::NotFound));
        assert!(missing.to_string().contains("No such file"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn large_file_matches_one_shot_hash() {
        let dir = std::env::temp_dir().join(format!("hg-sum-big-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..3 * (1 << 20) + 17u32)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let path = dir.join("big");
        fs::write(&path, &data).unwrap();
        let digest = hash_file(&path, None).unwrap();
        assert_eq!(digest.hex, blake3::hash(&data).to_hex().to_string());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn special_files_and_links_outside_the_roots_are_not_read() {
        let dir = std::env::temp_dir().join(format!("hg-sum-roots-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let source = dir.join("source");
        fs::create_dir_all(&source).unwrap();
        fs::write(dir.join("secret"), b"secret").unwrap();
        fs::write(source.join("photo.jpg"), b"photo").unwrap();
        symlink(dir.join("secret"), source.join("outside.jpg")).unwrap();
        symlink(source.join("photo.jpg"), source.join("inside.jpg")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(source.join("fifo.jpg"))
            .status()
            .unwrap();
        assert!(made.success());
        let roots = [fs::canonicalize(&source).unwrap()];
        let paths: Vec<PathBuf> = ["photo.jpg", "inside.jpg", "outside.jpg", "fifo.jpg"]
            .iter()
            .map(|name| source.join(name))
            .collect();
        let results = hash_files(&paths, 2, Some(&roots));
        assert_eq!(results[0].as_ref().ok(), results[1].as_ref().ok());
        assert!(results[0].is_ok());
        assert!(matches!(results[2], Err(HashError::Outside)), "{results:?}");
        assert_eq!(
            results[3].as_ref().unwrap_err().to_string(),
            "not a regular file"
        );
        // Without roots the link is read (the caller decides what may be read).
        assert!(hash_file(&source.join("outside.jpg"), None).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }
}
