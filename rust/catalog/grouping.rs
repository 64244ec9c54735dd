//! Index files → media groups, the unit that becomes one catalog entry.
//!
//! One entry per media id: copies of the same content (in one source or several) are
//! files of one entry. A RAW and a JPEG with the same base name in the same folder are
//! one photo taken once, so they become one entry whose main file is the JPEG (it shows
//! what the photographer kept); `.xmp` and other sidecars join the media of the same
//! base name (`IMG_1.xmp` and `IMG_1.CR2.xmp` both belong to `IMG_1.CR2`).
//!
//! Grouping runs here rather than in Python because a build does it for every indexed
//! file each time, and at a million files Python's objects alone cost seconds.

use std::sync::Arc;

use rustc_hash::{FxBuildHasher, FxHashMap};

use crate::catalog::entry_make::{Group, GroupFile};

/// Index kinds that make an entry (sidecars and other files only join one).
pub const MEDIA_KINDS: [&str; 3] = ["image", "raw", "video"];

/// The indexed files of one source folder, column by column (one row per file).
#[derive(Debug, Default, Clone)]
pub struct SourceColumns {
    pub source: String,
    pub paths: Vec<String>,
    pub sizes: Vec<i64>,
    pub mtimes_ns: Vec<i64>,
    pub ids: Vec<String>,
    pub kinds: Vec<String>,
}

impl SourceColumns {
    /// Whether every column has one value per path.
    pub fn is_consistent(&self) -> bool {
        let count = self.paths.len();
        [
            self.sizes.len(),
            self.mtimes_ns.len(),
            self.ids.len(),
            self.kinds.len(),
        ]
        .iter()
        .all(|&length| length == count)
    }
}

fn is_media(kind: &str) -> bool {
    MEDIA_KINDS.contains(&kind)
}

/// `a/b/IMG_1.JPG` → (`a/b`, `img_1`, `img_1.jpg`).
fn split(path: &str) -> (&str, String, String) {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let lowered = name.to_lowercase();
    (folder, stem_of(&lowered).to_string(), lowered)
}

/// `img_1.jpg` → `img_1`; a name without a dot, or with only a leading one, is its own stem.
fn stem_of(lowered: &str) -> &str {
    match lowered.rfind('.') {
        Some(dot) if dot > 0 => &lowered[..dot],
        _ => lowered,
    }
}

/// `a/b/IMG_1.JPG` → (`a/b`, `img_1`), with one allocation (this runs for every file).
fn folder_and_stem(path: &str) -> (&str, String) {
    let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
    let mut lowered = name.to_lowercase();
    let stem = stem_of(&lowered).len();
    lowered.truncate(stem);
    (folder, lowered)
}

/// (source number, folder, lower-case name without extension).
type StemKey<'a> = (usize, &'a str, String);

/// Media files by folder and base name, in the order each key was first seen (the
/// order decides which JPEG a RAW copied into two folders pairs with).
struct Stems<'a> {
    keys: FxHashMap<StemKey<'a>, usize>,
    members: Vec<Vec<(usize, usize)>>, // (source number, row) of each media file
}

impl<'a> Stems<'a> {
    fn add(&mut self, key: StemKey<'a>, file: (usize, usize)) {
        let next = self.members.len();
        let slot = *self.keys.entry(key).or_insert(next);
        if slot == next {
            self.members.push(Vec::new());
        }
        self.members[slot].push(file);
    }

    fn get(&self, key: &StemKey<'a>) -> &[(usize, usize)] {
        self.keys
            .get(key)
            .map_or(&[], |&slot| self.members[slot].as_slice())
    }
}

/// RAW id → id of the one JPEG of the same folder and base name it is paired with.
fn pairs<'a>(sources: &'a [SourceColumns], stems: &Stems<'_>) -> FxHashMap<&'a str, &'a str> {
    let mut absorbed: FxHashMap<&str, &str> = FxHashMap::default();
    for members in &stems.members {
        if members.len() < 2 {
            continue;
        }
        let of_kind = |wanted: &str| {
            let mut ids: Vec<&'a str> = members
                .iter()
                .filter(|&&(source, row)| sources[source].kinds[row] == wanted)
                .map(|&(source, row)| sources[source].ids[row].as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        };
        let (images, raws) = (of_kind("image"), of_kind("raw"));
        if let [main] = images.as_slice() {
            for raw in raws {
                absorbed.entry(raw).or_insert(main);
            }
        }
    }
    absorbed
}

/// The media of a sidecar: those of its base name (`IMG_1.xmp`), else those whose
/// whole name it extends (`IMG_1.jpg.xmp`), in the same folder.
fn sidecar_targets(
    sources: &[SourceColumns],
    stems: &Stems<'_>,
    (source, row): (usize, usize),
) -> Vec<(usize, usize)> {
    let (folder, stem, _) = split(&sources[source].paths[row]);
    let targets = stems.get(&(source, folder, stem.clone()));
    if !targets.is_empty() || !stem.contains('.') {
        return targets.to_vec();
    }
    let inner = stem.rsplit_once('.').map_or("", |(inner, _)| inner);
    stems
        .get(&(source, folder, inner.to_string()))
        .iter()
        .copied()
        .filter(|&(target_source, target_row)| {
            split(&sources[target_source].paths[target_row]).2 == stem
        })
        .collect()
}

const NO_GROUP: usize = usize::MAX;

/// Which group each file goes to, worked out on borrowed names before any is moved.
struct Assignment {
    /// The groups without their files yet.
    groups: Vec<Group>,
    /// Per source and row, the group of a media file (`NO_GROUP` for other files).
    media_slots: Vec<Vec<usize>>,
    /// Each sidecar and its groups, in order.
    sidecar_slots: Vec<((usize, usize), Vec<usize>)>,
}

fn assign(sources: &[SourceColumns]) -> Assignment {
    // Sized once for every file: growing tables of a million rows step by step
    // copies them over and over, and fresh memory is slow to touch on a small machine.
    let files: usize = sources.iter().map(|columns| columns.kinds.len()).sum();
    let mut stems = Stems {
        keys: FxHashMap::with_capacity_and_hasher(files, FxBuildHasher),
        members: Vec::with_capacity(files),
    };
    let mut sidecars = Vec::new();
    for (number, columns) in sources.iter().enumerate() {
        for (row, kind) in columns.kinds.iter().enumerate() {
            if is_media(kind) {
                let (folder, stem) = folder_and_stem(&columns.paths[row]);
                stems.add((number, folder, stem), (number, row));
            } else if kind == "sidecar" {
                sidecars.push((number, row));
            }
        }
    }
    let absorbed = pairs(sources, &stems);
    let mut slots: FxHashMap<&str, usize> =
        FxHashMap::with_capacity_and_hasher(stems.members.len(), FxBuildHasher);
    let mut groups: Vec<Group> = Vec::with_capacity(stems.members.len());
    let mut media_slots = Vec::with_capacity(sources.len());
    for columns in sources {
        let mut of_rows = vec![NO_GROUP; columns.kinds.len()];
        for (row, kind) in columns.kinds.iter().enumerate() {
            if !is_media(kind) {
                continue;
            }
            let file_id = columns.ids[row].as_str();
            let entry_id = absorbed.get(file_id).copied().unwrap_or(file_id);
            let slot = *slots.entry(entry_id).or_insert_with(|| {
                // A RAW is only ever absorbed into a JPEG, so a group it joins is an image.
                let group_kind = if file_id == entry_id { kind } else { "image" };
                groups.push(Group {
                    id: entry_id.to_string(),
                    kind: group_kind.to_string(),
                    files: Vec::new(),
                    twin_ids: Vec::new(),
                    has_vector: false,
                });
                groups.len() - 1
            });
            of_rows[row] = slot;
            let twins = &mut groups[slot].twin_ids;
            if file_id != entry_id && !twins.iter().any(|twin| twin == file_id) {
                twins.push(file_id.to_string());
            }
        }
        media_slots.push(of_rows);
    }
    let sidecar_slots = sidecars
        .into_iter()
        .map(|sidecar| {
            let mut attached: Vec<usize> = Vec::new();
            for (source, row) in sidecar_targets(sources, &stems, sidecar) {
                let target_id = sources[source].ids[row].as_str();
                let slot = slots[absorbed.get(target_id).copied().unwrap_or(target_id)];
                if !attached.contains(&slot) {
                    attached.push(slot);
                }
            }
            (sidecar, attached)
        })
        .collect();
    Assignment {
        groups,
        media_slots,
        sidecar_slots,
    }
}

/// Moves one file's names out of the columns (or copies them, for a sidecar's second
/// group), with its source and kind shared.
struct Taker {
    sources: Vec<SourceColumns>,
    names: Vec<Arc<str>>,
    kinds: FxHashMap<String, Arc<str>>,
}

impl Taker {
    fn take(&mut self, (number, row): (usize, usize), copy: bool) -> GroupFile {
        let columns = &mut self.sources[number];
        let kind = if let Some(shared) = self.kinds.get(columns.kinds[row].as_str()) {
            Arc::clone(shared)
        } else {
            let shared: Arc<str> = Arc::from(columns.kinds[row].as_str());
            self.kinds
                .insert(columns.kinds[row].clone(), Arc::clone(&shared));
            shared
        };
        let (path, id) = if copy {
            (columns.paths[row].clone(), columns.ids[row].clone())
        } else {
            (
                std::mem::take(&mut columns.paths[row]),
                std::mem::take(&mut columns.ids[row]),
            )
        };
        GroupFile {
            source: Arc::clone(&self.names[number]),
            path,
            size: columns.sizes[row],
            mtime_ns: columns.mtimes_ns[row],
            id,
            kind,
        }
    }
}

/// Groups every source's files into media entries, ordered by id. The names move
/// from the columns into the groups: a million files are not copied.
pub fn group_files(sources: Vec<SourceColumns>) -> Vec<Group> {
    let Assignment {
        mut groups,
        media_slots,
        sidecar_slots,
    } = assign(&sources);
    let names = sources
        .iter()
        .map(|columns| Arc::from(columns.source.as_str()))
        .collect();
    let mut taker = Taker {
        sources,
        names,
        kinds: FxHashMap::default(),
    };
    for (number, of_rows) in media_slots.iter().enumerate() {
        for (row, &slot) in of_rows.iter().enumerate() {
            if slot != NO_GROUP {
                groups[slot].files.push(taker.take((number, row), false));
            }
        }
    }
    for (sidecar, slots) in sidecar_slots {
        for (nth, slot) in slots.into_iter().enumerate() {
            groups[slot].files.push(taker.take(sidecar, nth > 0));
        }
    }
    groups.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, files: &[(&str, &str, &str)]) -> SourceColumns {
        SourceColumns {
            source: name.to_string(),
            paths: files.iter().map(|(path, _, _)| path.to_string()).collect(),
            sizes: vec![1; files.len()],
            mtimes_ns: vec![2; files.len()],
            ids: files.iter().map(|(_, id, _)| id.to_string()).collect(),
            kinds: files.iter().map(|(_, _, kind)| kind.to_string()).collect(),
        }
    }

    fn paths(group: &Group) -> Vec<&str> {
        group.files.iter().map(|file| file.path.as_str()).collect()
    }

    #[test]
    fn a_raw_joins_its_jpeg_and_sidecars_join_their_media() {
        let photos = source(
            "/p",
            &[
                ("a/IMG_1.CR2", "r1", "raw"),
                ("a/IMG_1.JPG", "j1", "image"),
                ("a/IMG_1.xmp", "x1", "sidecar"),
                ("a/IMG_1.CR2.xmp", "x2", "sidecar"),
                ("b/IMG_1.CR2", "r1", "raw"),
                ("b/clip.mp4", "v1", "video"),
                ("b/notes.txt", "t1", "other"),
            ],
        );
        let groups = group_files(vec![photos]);
        let ids: Vec<&str> = groups.iter().map(|group| group.id.as_str()).collect();
        assert_eq!(ids, ["j1", "v1"]);
        assert_eq!(groups[0].kind, "image");
        assert_eq!(groups[0].twin_ids, ["r1"]);
        assert_eq!(
            paths(&groups[0]),
            [
                "a/IMG_1.CR2",
                "a/IMG_1.JPG",
                "b/IMG_1.CR2",
                "a/IMG_1.xmp",
                "a/IMG_1.CR2.xmp"
            ]
        );
        assert_eq!(paths(&groups[1]), ["b/clip.mp4"]);
    }

    #[test]
    fn two_jpegs_of_one_name_leave_the_raw_on_its_own() {
        let photos = source(
            "/p",
            &[
                ("IMG_2.CR2", "r2", "raw"),
                ("IMG_2.JPG", "j2", "image"),
                ("IMG_2.jpeg", "j3", "image"),
            ],
        );
        let groups = group_files(vec![photos]);
        let kinds: Vec<(&str, &str)> = groups
            .iter()
            .map(|group| (group.id.as_str(), group.kind.as_str()))
            .collect();
        assert_eq!(kinds, [("j2", "image"), ("j3", "image"), ("r2", "raw")]);
    }

    #[test]
    fn copies_in_two_sources_are_one_entry_but_pair_only_within_a_source() {
        let first = source("/p", &[("x/IMG_3.JPG", "j3", "image")]);
        let second = source(
            "/q",
            &[("x/IMG_3.JPG", "j3", "image"), ("x/IMG_3.NEF", "r3", "raw")],
        );
        let groups = group_files(vec![first, second]);
        assert_eq!(groups.len(), 1);
        let sources: Vec<&str> = groups[0].files.iter().map(|file| &*file.source).collect();
        assert_eq!(sources, ["/p", "/q", "/q"]);
        assert_eq!(groups[0].twin_ids, ["r3"]);
    }

    #[test]
    fn names_without_an_extension_or_with_a_leading_dot_keep_their_whole_name() {
        assert_eq!(split("a/.JPG").1, ".jpg");
        assert_eq!(split("README").1, "readme");
        assert_eq!(
            split("x/y/Img.Tar.GZ"),
            ("x/y", "img.tar".into(), "img.tar.gz".into())
        );
        for path in ["a/.JPG", "README", "x/y/Img.Tar.GZ", "Straße/ÉTÉ.JPG"] {
            let (folder, stem, _) = split(path);
            assert_eq!(folder_and_stem(path), (folder, stem));
        }
    }
}
