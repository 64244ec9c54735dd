//! Parallel walk of one source folder with exclude rules applied on the way down.
//!
//! Folders are read concurrently (rayon, one task per folder), so a tree on a slow
//! disk or a network share keeps several reads in flight. Excluded folders are pruned
//! before they are read, which is what makes a big `node_modules` or `@eaDir` free.
//! Symlinked folders are never entered, so a link cycle cannot make the walk loop;
//! symlinked files are listed with their target's metadata.
//! Per-entry problems (permission denied, a file vanishing mid-walk) are collected as
//! errors of that path; only a missing or unreadable source root fails the walk.

use crate::exclude::ExcludeRules;
use rayon::prelude::*;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct WalkOptions {
    pub exclude: ExcludeRules,
    /// A folder holding a file of this name is skipped with everything below it.
    pub exclude_if_present: Option<String>,
    /// Files larger than this many bytes are left out.
    pub max_file_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    pub relative: PathBuf,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub device: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub relative: PathBuf,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct WalkResult {
    pub files: Vec<FileRecord>,
    pub errors: Vec<WalkError>,
    /// Files and folders left out by the exclude rules.
    pub excluded: u64,
    /// Files left out for being larger than `max_file_size`.
    pub too_large: u64,
    /// Folders left out because they hold the `exclude_if_present` marker.
    pub marked_folders: u64,
}

impl WalkResult {
    fn merge(mut self, other: WalkResult) -> WalkResult {
        self.files.extend(other.files);
        self.errors.extend(other.errors);
        self.excluded += other.excluded;
        self.too_large += other.too_large;
        self.marked_folders += other.marked_folders;
        self
    }
}

fn nanoseconds(seconds: i64, nanos: i64) -> i64 {
    seconds.saturating_mul(1_000_000_000).saturating_add(nanos)
}

fn record(relative: PathBuf, metadata: &fs::Metadata) -> FileRecord {
    FileRecord {
        relative,
        size: metadata.len(),
        mtime_ns: nanoseconds(metadata.mtime(), metadata.mtime_nsec()),
        ctime_ns: nanoseconds(metadata.ctime(), metadata.ctime_nsec()),
        inode: metadata.ino(),
        device: metadata.dev(),
    }
}

fn error(relative: &Path, message: impl Into<String>) -> WalkError {
    WalkError {
        relative: relative.to_path_buf(),
        message: message.into(),
    }
}

fn has_marker(folder: &Path, options: &WalkOptions) -> bool {
    match &options.exclude_if_present {
        Some(name) if !name.is_empty() => folder.join(name).exists(),
        _ => false,
    }
}

fn walk_folder(root: &Path, relative: &Path, options: &WalkOptions) -> WalkResult {
    let mut result = WalkResult::default();
    let folder = root.join(relative);
    if has_marker(&folder, options) {
        result.marked_folders += 1;
        return result;
    }
    let reader = match fs::read_dir(&folder) {
        Ok(reader) => reader,
        Err(cause) => {
            result
                .errors
                .push(error(relative, format!("cannot read folder: {cause}")));
            return result;
        }
    };
    let mut subfolders: Vec<PathBuf> = Vec::new();
    for entry in reader {
        let entry = match entry {
            Ok(entry) => entry,
            Err(cause) => {
                result
                    .errors
                    .push(error(relative, format!("cannot list folder: {cause}")));
                continue;
            }
        };
        let name: OsString = entry.file_name();
        let child = relative.join(&name);
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            Err(cause) => {
                result.errors.push(error(&child, cause.to_string()));
                continue;
            }
        };
        if file_type.is_dir() {
            if options.exclude.is_excluded(&child, true) {
                result.excluded += 1;
            } else {
                subfolders.push(child);
            }
            continue;
        }
        // Regular files and symlinks; a symlink is followed for its metadata only.
        // For plain files the entry's own stat is relative to the open folder
        // (fstatat), which spares resolving the whole path again for every file.
        let metadata = if file_type.is_symlink() {
            fs::metadata(root.join(&child))
        } else {
            entry.metadata()
        };
        let metadata = match metadata {
            Ok(metadata) => metadata,
            Err(cause) if cause.kind() == std::io::ErrorKind::NotFound => {
                if file_type.is_symlink() {
                    result.errors.push(error(&child, "broken symlink"));
                }
                // Otherwise the file vanished between listing and stat: it is gone.
                continue;
            }
            Err(cause) => {
                result.errors.push(error(&child, cause.to_string()));
                continue;
            }
        };
        if metadata.is_dir() || !metadata.is_file() {
            // Symlinked folders (never entered: no loops) and special files.
            continue;
        }
        if options.exclude.is_excluded(&child, false) {
            result.excluded += 1;
            continue;
        }
        if options
            .max_file_size
            .is_some_and(|limit| metadata.len() > limit)
        {
            result.too_large += 1;
            continue;
        }
        result.files.push(record(child, &metadata));
    }
    let below = subfolders
        .par_iter()
        .map(|child| walk_folder(root, child, options))
        .reduce(WalkResult::default, WalkResult::merge);
    result.merge(below)
}

/// Walks `root`; files come back sorted by relative path so the index is stable.
pub fn walk(root: &Path, options: &WalkOptions) -> Result<WalkResult, String> {
    let metadata = fs::metadata(root).map_err(|cause| format!("{}: {cause}", root.display()))?;
    if !metadata.is_dir() {
        return Err(format!("{}: not a folder", root.display()));
    }
    fs::read_dir(root).map_err(|cause| format!("{}: {cause}", root.display()))?;
    let mut result = walk_folder(root, Path::new(""), options);
    result
        .files
        .par_sort_unstable_by(|a, b| a.relative.cmp(&b.relative));
    result
        .errors
        .sort_unstable_by(|a, b| a.relative.cmp(&b.relative));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hg-walk-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn options(patterns: &[&str], root: &Path) -> WalkOptions {
        let owned: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        WalkOptions {
            exclude: ExcludeRules::new(root, &owned).unwrap(),
            exclude_if_present: Some(".galleryignore".into()),
            max_file_size: None,
        }
    }

    fn names(result: &WalkResult) -> Vec<String> {
        result
            .files
            .iter()
            .map(|f| f.relative.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn walks_excludes_and_prunes() {
        let root = temp_dir("prune");
        for path in [
            "a.jpg",
            "b.mp4",
            "x/c.JPG",
            "x/d.txt",
            "y.z/e.png",
            "skip/f.jpg",
        ] {
            let full = root.join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, b"data").unwrap();
        }
        fs::write(root.join("skip/.galleryignore"), b"").unwrap();
        let quick = ["*.*", "!*.*/", "!*.jpg", "!*.JPG", "!*.png", "!*.PNG"];
        let result = walk(&root, &options(&quick, &root)).unwrap();
        assert_eq!(names(&result), ["a.jpg", "x/c.JPG", "y.z/e.png"]);
        assert_eq!(result.excluded, 2);
        assert_eq!(result.marked_folders, 1);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn symlink_loop_is_not_followed() {
        let root = temp_dir("loop");
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/p.jpg"), b"1").unwrap();
        symlink(&root, root.join("a/back")).unwrap();
        symlink(root.join("a/p.jpg"), root.join("link.jpg")).unwrap();
        symlink(root.join("missing"), root.join("broken.jpg")).unwrap();
        let result = walk(&root, &options(&[], &root)).unwrap();
        assert_eq!(names(&result), ["a/p.jpg", "link.jpg"]);
        assert_eq!(result.errors.len(), 1);
        assert_eq!(result.errors[0].message, "broken symlink");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn max_file_size_leaves_big_files_out() {
        let root = temp_dir("size");
        fs::write(root.join("small.jpg"), vec![0u8; 10]).unwrap();
        fs::write(root.join("big.jpg"), vec![0u8; 100]).unwrap();
        let mut opts = options(&[], &root);
        opts.max_file_size = Some(50);
        let result = walk(&root, &opts).unwrap();
        assert_eq!(names(&result), ["small.jpg"]);
        assert_eq!(result.too_large, 1);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn missing_root_is_an_error() {
        let root = Path::new("/nonexistent/homegallery/source");
        let error = walk(root, &options(&[], root)).err().unwrap();
        assert!(error.contains("/nonexistent/homegallery/source"), "{error}");
    }
}
