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
                Err(cause) if cause.kind() == ErrorKind::Interrupted => continue,
                Err(cause) => return Err(cause),
            }
        }
    })
}

/// Digest of one file, or a message saying why there is none.
///
/// With `roots`, the file is hashed only when what was opened lies inside one of
/// them (the opened file itself is checked, so a path swapped for a symlink after the
/// walk cannot make us read a file elsewhere).
pub fn hash_file(path: &Path, roots: Option<&[PathBuf]>) -> Result<Digest, String> {
    let mut file = open_nonblocking(path).map_err(|cause| cause.to_string())?;
    let before = file.metadata().map_err(|cause| cause.to_string())?;
    if before.is_dir() {
        return Err("is a folder".into());
    }
    if !before.is_file() {
        return Err("not a regular file".into());
    }
    if let Some(roots) = roots {
        within::check_open_file(&file, path, roots)?;
    }
    let mut hasher = blake3::Hasher::new();
    hash_open_file(&mut file, &mut hasher).map_err(|cause| format!("read error: {cause}"))?;
    let total = hasher.count();
    let after = file
        .metadata()
        .map_err(|cause| format!("read error: {cause}"))?;
    if stamp(&before) != stamp(&after) || total != after.len() {
        return Err("changed while reading; it is read again on the next run".into());
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
) -> Vec<Result<Digest, String>> {
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
        let fifo = std::ffi::CString::new(source.join("fifo.jpg").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let roots = [fs::canonicalize(&source).unwrap()];
        let paths: Vec<PathBuf> = ["photo.jpg", "inside.jpg", "outside.jpg", "fifo.jpg"]
            .iter()
            .map(|name| source.join(name))
            .collect();
        let results = hash_files(&paths, 2, Some(&roots));
        assert_eq!(results[0], results[1]);
        assert!(results[0].is_ok());
        assert!(
            results[2].as_ref().unwrap_err().contains("outside"),
            "{results:?}"
        );
        assert_eq!(results[3].as_ref().unwrap_err(), "not a regular file");
        // Without roots the link is read (the caller decides what may be read).
        assert!(hash_file(&source.join("outside.jpg"), None).is_ok());
        fs::remove_dir_all(dir).unwrap();
    }
}
