//! Exclude rules with gitignore semantics, compiled once per source.
//!
//! The `ignore` crate's gitignore matcher implements the rules users already know
//! (last match wins, `!` re-includes, `dir/` for folders only, `**`, anchored `/x`), so
//! a pattern means here what it means in a `.gitignore`. This module only fixes the
//! root, feeds patterns in order and answers "excluded?" for relative paths.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::path::Path;

use crate::errors::CoreError;

/// A compiled, immutable rule set; cheap to share between walker threads.
pub struct ExcludeRules {
    matcher: Gitignore,
}

impl ExcludeRules {
    /// Compiles `patterns` in order. Blank lines and `#` comments are ignored as in
    /// a gitignore file; an invalid pattern is an error naming it.
    pub fn new(root: &Path, patterns: &[String]) -> Result<Self, CoreError> {
        let mut builder = GitignoreBuilder::new(root);
        for pattern in patterns {
            let line = pattern.trim_end_matches(['\r', '\n']);
            builder.add_line(None, line).map_err(|error| {
                CoreError::Invalid(format!("invalid exclude pattern {line:?}: {error}"))
            })?;
        }
        let matcher = builder
            .build()
            .map_err(|error| CoreError::Invalid(format!("invalid exclude patterns: {error}")))?;
        Ok(Self { matcher })
    }

    /// Whether `relative` (a path below the root) is excluded. Parents are not
    /// consulted: the walker never descends into an excluded folder, which is what
    /// makes re-including a file inside an excluded folder impossible, as in git.
    pub fn is_excluded(&self, relative: &Path, is_dir: bool) -> bool {
        matches!(self.matcher.matched(relative, is_dir), Match::Ignore(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(patterns: &[&str]) -> ExcludeRules {
        let owned: Vec<String> = patterns
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        ExcludeRules::new(Path::new("/gallery"), &owned).unwrap()
    }

    /// (patterns, path, `is_dir`, excluded)
    const TABLE: &[(&[&str], &str, bool, bool)] = &[
        (&["*.tmp"], "a.tmp", false, true),
        (&["*.tmp"], "deep/dir/a.tmp", false, true),
        (&["*.tmp"], "a.tmpx", false, false),
        (&["*.tmp", "!keep.tmp"], "keep.tmp", false, false),
        (&["!keep.tmp", "*.tmp"], "keep.tmp", false, true),
        (&["cache/"], "cache", true, true),
        (&["cache/"], "cache", false, false),
        (&["cache/"], "a/cache", true, true),
        (&["/cache"], "cache", true, true),
        (&["/cache"], "a/cache", true, false),
        (&["a/**/b.jpg"], "a/b.jpg", false, true),
        (&["a/**/b.jpg"], "a/x/y/b.jpg", false, true),
        (&["a/**/b.jpg"], "c/a/x/b.jpg", false, false),
        (&["**/thumbs"], "x/y/thumbs", true, true),
        (&["doc/*.txt"], "doc/a.txt", false, true),
        (&["doc/*.txt"], "doc/sub/a.txt", false, false),
        (&["# comment", ""], "# comment", false, false),
        (&["\\#hash"], "#hash", false, true),
        (&["IMG_00?.jpg"], "IMG_001.jpg", false, true),
        (&["IMG_00?.jpg"], "IMG_0011.jpg", false, false),
        (&["[abc].png"], "b.png", false, true),
        (&["[abc].png"], "d.png", false, false),
        (&[".Trash*/"], ".Trash-1000", true, true),
        (&["@eaDir/"], "2020/@eaDir", true, true),
        // The quick-start exclude file: everything with a dot is out, folders come
        // back in, and so do JPG and PNG files in either case.
        (QUICK_START, "IMG_1.jpg", false, false),
        (QUICK_START, "IMG_1.JPG", false, false),
        (QUICK_START, "a.png", false, false),
        (QUICK_START, "b.PNG", false, false),
        (QUICK_START, "movie.mp4", false, true),
        (QUICK_START, "IMG_1.jpg.xmp", false, true),
        (QUICK_START, "2019.summer", true, false),
        (QUICK_START, "2019.summer/x.jpg", false, false),
        (QUICK_START, "2019.summer/x.gif", false, true),
        (QUICK_START, "README", false, false),
    ];
    const QUICK_START: &[&str] = &["*.*", "!*.*/", "!*.jpg", "!*.JPG", "!*.png", "!*.PNG"];

    #[test]
    fn pattern_table() {
        for (patterns, path, is_dir, excluded) in TABLE {
            let got = rules(patterns).is_excluded(Path::new(path), *is_dir);
            assert_eq!(
                got, *excluded,
                "patterns {patterns:?} path {path:?} dir {is_dir}"
            );
        }
    }

    #[test]
    fn no_patterns_exclude_nothing() {
        let empty = rules(&[]);
        assert!(!empty.is_excluded(Path::new("anything.jpg"), false));
    }

    #[test]
    fn invalid_pattern_is_named() {
        let error = ExcludeRules::new(Path::new("/g"), &["[z-a]".to_string()])
            .err()
            .unwrap();
        assert!(error.to_string().contains("[z-a]"), "{error}");
    }
}
