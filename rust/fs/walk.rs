//! Parallel walk of one source folder with exclude rules applied on the way down.
//!
//! Folders are read concurrently (rayon, one task per folder), so a tree on a slow
//! disk or a network share keeps several reads in flight. Excluded folders are pruned
//! before they are read, which is what makes a big `node_modules` or `@eaDir` free.
//!
//! Symbolic links are judged by where they really lead, since anyone who can write
//! into a source can make one point anywhere:
//! - a link to a file inside the source is listed (with its target's metadata);
//! - a link to a file or folder outside the source is left out and reported, unless
//!   its target lies in one of `link_roots` (the other sources, when the source allows
//!   following links);
//! - a link to a folder inside the source is not entered (its files are listed under
//!   their own path already); a link to a folder in `link_roots` is entered once per
//!   target folder and never when it leads back to a folder it lies in, so link loops
//!   end. Links are entered round by round in path order, so the walk lists the same
//!   paths every time.
//!
//! Per-entry problems (permission denied, a file vanishing mid-walk) are collected as
//! errors of that path; only a missing or unreadable source root fails the walk.

use crate::errors::CoreError;
use crate::fs::exclude::ExcludeRules;
use crate::fs::within::is_inside;
use rayon::prelude::*;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub struct WalkOptions {
    pub exclude: ExcludeRules,
    /// A folder holding a file of this name is skipped with everything below it.
    pub exclude_if_present: Option<String>,
    /// Files larger than this many bytes are left out.
    pub max_file_size: Option<u64>,
    /// Folders (without links in their path) outside the source that links may lead
    /// into; empty: links are followed only to files inside the source.
    pub link_roots: Vec<PathBuf>,
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

/// A link to a folder that may be entered: its path in the source and its target.
#[derive(Debug)]
struct FolderLink {
    relative: PathBuf,
    target: PathBuf,
    key: (u64, u64),
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
    links: Vec<FolderLink>,
}

impl WalkResult {
    fn merge(mut self, other: WalkResult) -> WalkResult {
        self.files.extend(other.files);
        self.errors.extend(other.errors);
        self.excluded += other.excluded;
        self.too_large += other.too_large;
        self.marked_folders += other.marked_folders;
        self.links.extend(other.links);
        self
    }
}

/// What one walk shares between its folder tasks.
struct Walk<'a> {
    /// The source folder, links resolved.
    real_root: PathBuf,
    options: &'a WalkOptions,
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

/// What a symbolic link in the walk stands for.
enum Link {
    /// A file that may be listed, with its target's metadata.
    File(fs::Metadata),
    /// A folder that may be entered.
    Folder(FolderLink),
    /// Nothing to list; an optional message says why.
    Skip(Option<String>),
}

impl Walk<'_> {
    /// Judges the link at `real` (whose own folder is `folder`, links resolved).
    fn judge_link(&self, real: &Path, folder: &Path, relative: &Path) -> Link {
        let target = match fs::canonicalize(real) {
            Ok(target) => target,
            Err(cause) if cause.kind() == io::ErrorKind::NotFound => {
                return Link::Skip(Some("broken symlink".into()))
            }
            Err(cause) => return Link::Skip(Some(format!("symbolic link not followed: {cause}"))),
        };
        let inside_source = target.starts_with(&self.real_root);
        if !inside_source && !is_inside(&target, &self.options.link_roots) {
            return Link::Skip(Some(
                "symbolic link leads outside the source; not followed".into(),
            ));
        }
        let metadata = match fs::metadata(&target) {
            Ok(metadata) => metadata,
            Err(cause) => return Link::Skip(Some(cause.to_string())),
        };
        if !metadata.is_dir() {
            return Link::File(metadata);
        }
        if inside_source {
            return Link::Skip(None); // its files are listed under their own path
        }
        if folder.starts_with(&target) {
            return Link::Skip(Some(
                "symbolic link to a folder it lies in (a loop); not followed".into(),
            ));
        }
        Link::Folder(FolderLink {
            relative: relative.to_path_buf(),
            target,
            key: (metadata.dev(), metadata.ino()),
        })
    }

    /// Lists the folder at `folder` (a real path, no links) as `relative`.
    fn walk_folder(&self, relative: &Path, folder: &Path) -> WalkResult {
        let options = self.options;
        let mut result = WalkResult::default();
        if has_marker(folder, options) {
            result.marked_folders += 1;
            return result;
        }
        let reader = match fs::read_dir(folder) {
            Ok(reader) => reader,
            Err(cause) => {
                result
                    .errors
                    .push(error(relative, format!("cannot read folder: {cause}")));
                return result;
            }
        };
        let mut subfolders: Vec<(PathBuf, PathBuf)> = Vec::new();
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
                    subfolders.push((child, folder.join(&name)));
                }
                continue;
            }
            let metadata = if file_type.is_symlink() {
                match self.judge_link(&folder.join(&name), folder, &child) {
                    Link::File(metadata) => metadata,
                    Link::Folder(link) => {
                        if options.exclude.is_excluded(&child, true) {
                            result.excluded += 1;
                        } else {
                            result.links.push(link);
                        }
                        continue;
                    }
                    Link::Skip(message) => {
                        if let Some(message) = message {
                            result.errors.push(error(&child, message));
                        }
                        continue;
                    }
                }
            } else {
                // The entry's own stat is relative to the open folder (fstatat),
                // which spares resolving the whole path again for every file.
                match entry.metadata() {
                    Ok(metadata) => metadata,
                    // The file vanished between listing and stat: it is gone.
                    Err(cause) if cause.kind() == io::ErrorKind::NotFound => continue,
                    Err(cause) => {
                        result.errors.push(error(&child, cause.to_string()));
                        continue;
                    }
                }
            };
            if !metadata.is_file() {
                continue; // sockets, FIFOs, devices
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
            .map(|(child, real)| self.walk_folder(child, real))
            .reduce(WalkResult::default, WalkResult::merge);
        result.merge(below)
    }
}

/// The source folder with links resolved, when it is a folder that can be read.
fn readable_root(root: &Path) -> io::Result<PathBuf> {
    let real_root = fs::canonicalize(root)?;
    if !fs::metadata(&real_root)?.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
    }
    fs::read_dir(&real_root)?;
    Ok(real_root)
}

/// Walks `root`; files come back sorted by relative path so the index is stable.
/// Only a root that cannot be read fails the walk (an I/O error naming it).
pub fn walk(root: &Path, options: &WalkOptions) -> Result<WalkResult, CoreError> {
    let real_root = readable_root(root).map_err(|cause| CoreError::io(root, cause))?;
    let walk = Walk { real_root, options };
    let mut result = walk.walk_folder(Path::new(""), &walk.real_root);
    let mut entered: HashSet<(u64, u64)> = HashSet::new();
    while !result.links.is_empty() {
        let mut links = std::mem::take(&mut result.links);
        links.sort_unstable_by(|a, b| a.relative.cmp(&b.relative));
        let mut round = Vec::with_capacity(links.len());
        for link in links {
            if entered.insert(link.key) {
                round.push(link);
            } else {
                result.errors.push(error(
                    &link.relative,
                    "symbolic link to a folder already listed through another link; not followed",
                ));
            }
        }
        let below = round
            .par_iter()
            .map(|link| walk.walk_folder(&link.relative, &link.target))
            .reduce(WalkResult::default, WalkResult::merge);
        result = result.merge(below);
    }
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
        let owned: Vec<String> = patterns
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        WalkOptions {
            exclude: ExcludeRules::new(root, &owned).unwrap(),
            exclude_if_present: Some(".galleryignore".into()),
            max_file_size: None,
            link_roots: Vec::new(),
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

    fn messages(result: &WalkResult) -> Vec<(String, String)> {
        result
            .errors
            .iter()
            .map(|e| (e.relative.to_string_lossy().into_owned(), e.message.clone()))
            .collect()
    }

    #[test]
    fn links_inside_the_source_are_listed_and_folder_loops_not_entered() {
        let root = temp_dir("loop");
        fs::create_dir_all(root.join("a")).unwrap();
        fs::write(root.join("a/p.jpg"), b"1").unwrap();
        symlink(&root, root.join("a/back")).unwrap();
        symlink(root.join("a/p.jpg"), root.join("link.jpg")).unwrap();
        symlink("a/p.jpg", root.join("relative.jpg")).unwrap();
        symlink(root.join("missing"), root.join("broken.jpg")).unwrap();
        symlink(root.join("l2"), root.join("l1")).unwrap();
        symlink(root.join("l1"), root.join("l2")).unwrap();
        let result = walk(&root, &options(&[], &root)).unwrap();
        assert_eq!(names(&result), ["a/p.jpg", "link.jpg", "relative.jpg"]);
        let errors = messages(&result);
        assert_eq!(errors[0], ("broken.jpg".into(), "broken symlink".into()));
        assert_eq!(errors[1].0, "l1");
        assert!(errors[1].1.contains("not followed"), "{errors:?}");
        assert_eq!(errors.len(), 3);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn links_leaving_the_source_are_reported_not_followed() {
        let base = temp_dir("outside");
        let root = base.join("source");
        let elsewhere = base.join("elsewhere");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&elsewhere).unwrap();
        fs::write(elsewhere.join("secret.jpg"), b"secret").unwrap();
        fs::write(root.join("own.jpg"), b"own").unwrap();
        symlink(elsewhere.join("secret.jpg"), root.join("file-link.jpg")).unwrap();
        symlink(&elsewhere, root.join("folder-link")).unwrap();
        symlink("../elsewhere/secret.jpg", root.join("relative-link.jpg")).unwrap();
        let result = walk(&root, &options(&[], &root)).unwrap();
        assert_eq!(names(&result), ["own.jpg"]);
        let errors = messages(&result);
        let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["file-link.jpg", "folder-link", "relative-link.jpg"]);
        for (_, message) in &errors {
            assert!(message.contains("outside the source"), "{message}");
        }
        fs::remove_dir_all(base).unwrap();
    }

    #[test]
    fn links_into_link_roots_are_followed_once_and_loops_end() {
        let base = temp_dir("roots");
        let root = base.join("source");
        let other = base.join("other");
        let private = base.join("private");
        for folder in [&root, &other.join("trip"), &private] {
            fs::create_dir_all(folder).unwrap();
        }
        fs::write(root.join("own.jpg"), b"own").unwrap();
        fs::write(other.join("trip/t.jpg"), b"trip").unwrap();
        fs::write(private.join("p.jpg"), b"private").unwrap();
        symlink(&other, root.join("other")).unwrap();
        symlink(&other, root.join("other-again")).unwrap();
        symlink(&other, other.join("trip/up")).unwrap(); // a loop inside the other root
        symlink(&root, other.join("back")).unwrap(); // back into the source: not entered
        symlink(&private, other.join("private")).unwrap(); // leaves every root
        let mut opts = options(&[], &root);
        opts.link_roots = vec![fs::canonicalize(&other).unwrap()];
        let result = walk(&root, &opts).unwrap();
        assert_eq!(names(&result), ["other/trip/t.jpg", "own.jpg"]);
        let errors = messages(&result);
        let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["other/private", "other/trip/up", "other-again"]);
        assert!(errors[0].1.contains("outside the source"), "{errors:?}");
        assert!(errors[1].1.contains("loop"), "{errors:?}");
        assert!(errors[2].1.contains("already listed"), "{errors:?}");
        fs::remove_dir_all(base).unwrap();
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
        assert_eq!(error.io_kind(), Some(io::ErrorKind::NotFound));
        assert!(error
            .to_string()
            .starts_with("/nonexistent/homegallery/source: "));
    }
}
