//! Faces grouped into people: online centroid clustering under the user's constraints.
//!
//! Each face is compared with every person's centroid (the normalised sum of its
//! faces' descriptors) and joins the most similar one at or above the threshold, else
//! it starts a person of its own. Comparing with centroids instead of with every face
//! keeps the work at faces × people (not faces²) and lets new faces join the people
//! of the last build without grouping everything again: the build keeps each person's
//! sum and passes it back in.
//!
//! The constraints, in the order they win:
//! - must-link: a face the user put into a person (named it, merged it, moved it) is
//!   that person's, whatever its descriptor says (`anchors`);
//! - cannot-link: two faces of one photo are never one person (the same photo
//!   cannot show someone twice), and a face the user removed from a person never
//!   joins it again (`forbidden`).
//!
//! Faces are compared with the people in blocks: one pass over the centroids serves
//! a block of faces (the pass is shared among the pool's threads), and a person that
//! changed within the block is compared afresh, so the result is exactly that of one
//! face after the other, on any number of threads.

use std::collections::HashMap;
#[cfg(test)]
use std::collections::HashSet;

use rayon::prelude::*;

use crate::errors::CoreError;
use crate::pool;

/// Faces compared with the people in one pass over their centroids.
const BLOCK: usize = 32;
/// Centroids per tile of that pass (128 KiB of 128-value centroids: the core's cache).
const TILE: usize = 256;

/// What a grouping starts from and must respect.
pub struct Grouping<'a> {
    /// Descriptors, one row of `dims` values per face, L2-normalised.
    pub descriptors: &'a [f32],
    pub dims: usize,
    /// The photo of each face (any number that is equal for faces of one photo).
    pub photos: &'a [u64],
    /// Per face: the person it must belong to, or -1. People 0.. are the ones given in
    /// `sums` first, then those that only anchors name.
    pub anchors: &'a [i64],
    /// Faces that neither join a person nor let others join theirs (a side view, whose
    /// descriptor is alike to too many); an anchor still places them.
    pub alone: &'a [bool],
    /// (face, person) pairs: the face never joins that person.
    pub forbidden: &'a [(usize, usize)],
    /// Sums of the descriptors of the people kept from before, `dims` values each, and
    /// the photos each already holds (for the cannot-link of a photo seen again).
    pub sums: &'a [f32],
    pub counts: &'a [u64],
    pub known_photos: &'a [(usize, u64)],
    /// Cosine from which a face and a centroid are one person.
    pub threshold: f32,
}

/// The person of every face, and every person's sum of descriptors and face count.
#[derive(Debug, Clone, PartialEq)]
pub struct People {
    pub person_of: Vec<usize>,
    pub sums: Vec<f32>,
    pub counts: Vec<u64>,
}

#[allow(
    clippy::inline_always,
    reason = "inlined into the AVX2 kernel, which compiles it for AVX2"
)]
#[inline(always)]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight independent sums let the compiler keep the loop in vector registers.
    let mut lanes = [0.0f32; 8];
    let mut left = a.chunks_exact(8);
    let mut right = b.chunks_exact(8);
    for (x, y) in left.by_ref().zip(right.by_ref()) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = left
        .remainder()
        .iter()
        .zip(right.remainder())
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

fn normalised(sum: &[f32]) -> Vec<f32> {
    let length = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
    if length > 0.0 {
        sum.iter().map(|v| v / length).collect()
    } else {
        sum.to_vec()
    }
}

/// Cosines of each of `rows` with every centroid, row by row (rows × people).
///
/// The centroids are taken in tiles small enough to stay in the core's cache while
/// every row of the block meets them, so each is read from memory once per block
/// rather than once per face; the tiles are shared among the pool's threads.
fn cosines(rows: &[&[f32]], centroids: &[f32], dims: usize) -> Vec<f32> {
    let people = centroids.len() / dims;
    let mut all = vec![0.0f32; rows.len() * people];
    if rows.is_empty() || people == 0 {
        return all;
    }
    let tiles: Vec<Vec<f32>> = centroids
        .par_chunks(TILE * dims)
        .map(|tile| {
            let mut out = vec![0.0f32; rows.len() * (tile.len() / dims)];
            #[cfg(target_arch = "x86_64")]
            if crate::vectors::avx2::tile_cosines(rows, tile, dims, &mut out) {
                return out;
            }
            tile_cosines(rows, tile, dims, &mut out);
            out
        })
        .collect();
    for (number, tile) in tiles.iter().enumerate() {
        let first = number * TILE;
        let width = tile.len() / rows.len();
        for at in 0..rows.len() {
            all[at * people + first..at * people + first + width]
                .copy_from_slice(&tile[at * width..(at + 1) * width]);
        }
    }
    all
}

/// Cosines of `rows` with a tile of centroids into `out` (rows × the tile's people).
/// Inlined into the AVX2 kernel too, which the compiler then vectorises for AVX2 with
/// the same sums in the same order, so both give the same cosines.
#[allow(
    clippy::inline_always,
    reason = "inlined into the AVX2 kernel, which compiles it for AVX2"
)]
#[inline(always)]
pub(crate) fn tile_cosines(rows: &[&[f32]], tile: &[f32], dims: usize, out: &mut [f32]) {
    let width = tile.len() / dims;
    for (at, row) in rows.iter().enumerate() {
        for (column, centroid) in tile.chunks_exact(dims).enumerate() {
            out[at * width + column] = dot(row, centroid);
        }
    }
}

fn better(a: Option<(usize, f32)>, b: Option<(usize, f32)>) -> Option<(usize, f32)> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if y.1 > x.1 || (y.1.total_cmp(&x.1).is_eq() && y.0 < x.0) {
            y
        } else {
            x
        }),
        (x, None) => x,
        (None, y) => y,
    }
}

fn check(grouping: &Grouping<'_>) -> Result<usize, CoreError> {
    let dims = grouping.dims;
    if dims == 0 {
        return Err(CoreError::Invalid(
            "descriptors need at least one value".into(),
        ));
    }
    if grouping.descriptors.len() % dims != 0 || grouping.sums.len() % dims != 0 {
        return Err(CoreError::Invalid(format!(
            "descriptors and sums must be rows of {dims} values"
        )));
    }
    let faces = grouping.descriptors.len() / dims;
    if grouping.photos.len() != faces
        || grouping.anchors.len() != faces
        || grouping.alone.len() != faces
    {
        return Err(CoreError::Invalid(format!(
            "{faces} faces but {} photos, {} anchors and {} alone flags",
            grouping.photos.len(),
            grouping.anchors.len(),
            grouping.alone.len()
        )));
    }
    if grouping.counts.len() != grouping.sums.len() / dims {
        return Err(CoreError::Invalid(
            "one count for every person kept from before".into(),
        ));
    }
    if grouping.threshold.is_nan() {
        return Err(CoreError::Invalid("the threshold must be a number".into()));
    }
    if grouping.forbidden.iter().any(|&(face, _)| face >= faces) {
        return Err(CoreError::Invalid("a forbidden pair names no face".into()));
    }
    Ok(faces)
}

/// The people while they are being made: descriptor sums, centroids, counts, which
/// ones nobody may join, which changed in the current block, and who is in each photo.
struct State {
    dims: usize,
    sums: Vec<f32>,
    centroids: Vec<f32>,
    counts: Vec<u64>,
    closed: Vec<bool>,
    dirty: Vec<bool>,
    touched: Vec<usize>,
    in_photo: HashMap<u64, Vec<usize>>,
}

impl State {
    fn start(grouping: &Grouping<'_>) -> State {
        let dims = grouping.dims;
        let given = grouping.sums.len() / dims;
        let named = grouping
            .anchors
            .iter()
            .filter_map(|&anchor| usize::try_from(anchor).ok())
            .map(|anchor| anchor + 1)
            .max()
            .unwrap_or(0);
        let start = given.max(named);
        let mut sums = grouping.sums.to_vec();
        sums.resize(start * dims, 0.0);
        let mut counts = grouping.counts.to_vec();
        counts.resize(start, 0);
        let mut in_photo: HashMap<u64, Vec<usize>> = HashMap::new();
        for &(person, photo) in grouping.known_photos {
            if person < start {
                in_photo.entry(photo).or_default().push(person);
            }
        }
        State {
            dims,
            centroids: sums.chunks_exact(dims).flat_map(normalised).collect(),
            sums,
            counts,
            closed: vec![false; start],
            dirty: vec![false; start],
            touched: Vec::new(),
            in_photo,
        }
    }

    fn centroid(&self, person: usize) -> &[f32] {
        &self.centroids[person * self.dims..(person + 1) * self.dims]
    }

    /// A new person, which nobody else may join when it is `closed`.
    fn open(&mut self, closed: bool) -> usize {
        self.sums.extend(std::iter::repeat_n(0.0, self.dims));
        self.centroids.extend(std::iter::repeat_n(0.0, self.dims));
        self.counts.push(0);
        self.closed.push(closed);
        self.dirty.push(false);
        self.counts.len() - 1
    }

    fn join(&mut self, person: usize, row: &[f32], photo: u64) {
        let dims = self.dims;
        let sum = &mut self.sums[person * dims..(person + 1) * dims];
        for (total, value) in sum.iter_mut().zip(row) {
            *total += value;
        }
        let centroid = normalised(sum);
        self.centroids[person * dims..(person + 1) * dims].copy_from_slice(&centroid);
        self.counts[person] += 1;
        self.in_photo.entry(photo).or_default().push(person);
        if !self.dirty[person] {
            self.dirty[person] = true;
            self.touched.push(person);
        }
    }

    fn end_block(&mut self) {
        for &person in &self.touched {
            self.dirty[person] = false;
        }
        self.touched.clear();
    }

    /// The best person for a face: from the block's cosines (`scores`, one per person
    /// known at the block's start) where the person did not change since, afresh where
    /// it did; never a closed or refused one.
    fn best(&self, row: &[f32], scores: &[f32], refused: &[usize]) -> Option<(usize, f32)> {
        let mut best: Option<(usize, f32)> = None;
        for (person, &score) in scores.iter().enumerate() {
            if best.is_none_or(|(_, top)| score > top)
                && !self.dirty[person]
                && !self.closed[person]
                && !refused.contains(&person)
            {
                best = Some((person, score));
            }
        }
        for &person in &self.touched {
            if !self.closed[person] && !refused.contains(&person) {
                best = better(best, Some((person, dot(row, self.centroid(person)))));
            }
        }
        best
    }
}

/// Groups the faces (see the module's description); `threads` 0 means every core.
pub fn group(grouping: &Grouping<'_>, threads: usize) -> Result<People, CoreError> {
    let faces = check(grouping)?;
    let dims = grouping.dims;
    let row_of = |face: usize| &grouping.descriptors[face * dims..(face + 1) * dims];
    let mut state = State::start(grouping);
    let mut forbidden: HashMap<usize, Vec<usize>> = HashMap::new();
    for &(face, person) in grouping.forbidden {
        forbidden.entry(face).or_default().push(person);
    }
    let mut person_of = vec![usize::MAX; faces];
    // Must-link first: the anchors' faces make their people's centroids.
    for (face, &anchor) in grouping.anchors.iter().enumerate() {
        if let Ok(person) = usize::try_from(anchor) {
            person_of[face] = person;
            state.join(person, row_of(face), grouping.photos[face]);
        }
    }
    state.end_block();
    let pending: Vec<usize> = (0..faces)
        .filter(|&face| person_of[face] == usize::MAX)
        .collect();
    pool::with_threads(threads, || {
        let mut refused: Vec<usize> = Vec::new();
        for block in pending.chunks(BLOCK) {
            // Cosines with the people as they stand at the block's start, in one pass
            // over their centroids.
            let known = state.counts.len();
            let rows: Vec<&[f32]> = block
                .iter()
                .filter(|&&face| !grouping.alone[face])
                .map(|&face| row_of(face))
                .collect();
            let scores = cosines(&rows, &state.centroids, dims);
            let mut seeker = 0;
            for &face in block {
                let photo = grouping.photos[face];
                refused.clear();
                refused.extend(state.in_photo.get(&photo).into_iter().flatten());
                refused.extend(forbidden.get(&face).into_iter().flatten());
                let alone = grouping.alone[face];
                let best = if alone {
                    None
                } else {
                    seeker += 1;
                    let mine = &scores[(seeker - 1) * known..seeker * known];
                    state.best(row_of(face), mine, &refused)
                };
                let person = match best {
                    Some((person, score)) if score >= grouping.threshold => person,
                    _ => state.open(alone),
                };
                person_of[face] = person;
                state.join(person, row_of(face), photo);
            }
            state.end_block();
        }
    });
    Ok(People {
        person_of,
        sums: state.sums,
        counts: state.counts,
    })
}

/// Whether a grouping keeps its constraints: what the tests check every result with.
#[cfg(test)]
fn violations(grouping: &Grouping<'_>, people: &People) -> Vec<String> {
    let mut found = Vec::new();
    let mut seen: HashSet<(usize, u64)> = HashSet::new();
    for &(person, photo) in grouping.known_photos {
        seen.insert((person, photo));
    }
    for (face, &person) in people.person_of.iter().enumerate() {
        if grouping.anchors[face] >= 0 {
            if usize::try_from(grouping.anchors[face]).ok() != Some(person) {
                found.push(format!("face {face} is not in its anchor's person"));
            }
        } else if !seen.insert((person, grouping.photos[face])) {
            found.push(format!("face {face} shares person {person} with its photo"));
        }
        if grouping.forbidden.contains(&(face, person)) {
            found.push(format!(
                "face {face} is in person {person} it was removed from"
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unit vectors near `centres` (one per identity) with a seeded jitter.
    fn faces_of(centres: &[Vec<f32>], per: usize, jitter: f32, seed: u64) -> Vec<f32> {
        let mut state = seed;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            #[allow(clippy::cast_precision_loss)] // a test's noise: the low bits do not matter
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
            unit - 0.5
        };
        let mut rows = Vec::new();
        for centre in centres {
            for _ in 0..per {
                let noisy: Vec<f32> = centre.iter().map(|v| v + jitter * next()).collect();
                rows.extend(normalised(&noisy));
            }
        }
        rows
    }

    fn axis(dims: usize, at: usize) -> Vec<f32> {
        let mut row = vec![0.0; dims];
        row[at] = 1.0;
        row
    }

    static NOBODY_ALONE: [bool; 8192] = [false; 8192];

    #[test]
    fn a_face_alone_starts_a_person_nobody_joins() {
        let rows = faces_of(&[axis(8, 0)], 3, 0.1, 6);
        let photos = [1, 2, 3];
        let anchors = [-1; 3];
        let mut given = grouping(&rows, &photos, &anchors, &[]);
        let alone = [false, true, false];
        given.alone = &alone;
        let people = group(&given, 1).unwrap();
        assert_eq!(people.person_of, vec![0, 1, 0]);
    }

    fn grouping<'a>(
        descriptors: &'a [f32],
        photos: &'a [u64],
        anchors: &'a [i64],
        forbidden: &'a [(usize, usize)],
    ) -> Grouping<'a> {
        Grouping {
            descriptors,
            dims: 8,
            photos,
            anchors,
            alone: &NOBODY_ALONE[..anchors.len()],
            forbidden,
            sums: &[],
            counts: &[],
            known_photos: &[],
            threshold: 0.5,
        }
    }

    #[test]
    fn faces_near_one_centre_are_one_person_and_far_ones_another() {
        let rows = faces_of(&[axis(8, 0), axis(8, 3)], 5, 0.4, 1);
        let photos: Vec<u64> = (0..10).collect();
        let anchors = vec![-1; 10];
        let people = group(&grouping(&rows, &photos, &anchors, &[]), 1).unwrap();
        assert_eq!(people.person_of, vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
        assert_eq!(people.counts, vec![5, 5]);
    }

    #[test]
    fn two_faces_of_one_photo_are_never_one_person() {
        let rows = faces_of(&[axis(8, 0)], 4, 0.1, 2);
        let photos = vec![7, 7, 8, 9];
        let anchors = vec![-1; 4];
        let given = grouping(&rows, &photos, &anchors, &[]);
        let people = group(&given, 1).unwrap();
        assert_ne!(people.person_of[0], people.person_of[1]);
        assert!(violations(&given, &people).is_empty());
    }

    #[test]
    fn anchors_win_over_descriptors_and_removed_faces_stay_out() {
        let rows = faces_of(&[axis(8, 0), axis(8, 3)], 3, 0.1, 3);
        let photos: Vec<u64> = (0..6).collect();
        // Face 5 (near centre 3) is anchored to person 0; face 1 was removed from it.
        let anchors = vec![0, -1, -1, -1, -1, 0];
        let forbidden = vec![(1, 0)];
        let given = grouping(&rows, &photos, &anchors, &forbidden);
        let people = group(&given, 1).unwrap();
        assert_eq!(people.person_of[5], 0);
        assert_eq!(people.person_of[0], 0);
        assert_ne!(people.person_of[1], 0);
        // Person 0's centroid lies between its two anchors now: face 2 (near centre
        // 0) is nearer to face 1's new person, and joins it.
        assert_eq!(people.person_of[2], people.person_of[1]);
        assert_eq!(people.person_of[3], people.person_of[4]);
        assert!(violations(&given, &people).is_empty());
    }

    #[test]
    fn new_faces_join_the_people_kept_from_before() {
        let rows = faces_of(&[axis(8, 0), axis(8, 3)], 4, 0.3, 4);
        let photos: Vec<u64> = (0..8).collect();
        let anchors = [-1; 8];
        let first = group(&grouping(&rows[..32], &photos[..4], &anchors[..4], &[]), 1).unwrap();
        // The second half (faces of centre 3) and a late face of centre 0.
        let mut later = rows[32..].to_vec();
        later.extend_from_slice(&rows[..8]);
        let later_photos = vec![10, 11, 12, 13, 14];
        let later_anchors = vec![-1; 5];
        let mut given = grouping(&later, &later_photos, &later_anchors, &[]);
        given.sums = &first.sums;
        given.counts = &first.counts;
        let known = [(0usize, 0u64)];
        given.known_photos = &known;
        let second = group(&given, 1).unwrap();
        assert_eq!(second.person_of, vec![1, 1, 1, 1, 0]);
        assert_eq!(second.counts, vec![5, 4]);
    }

    #[test]
    fn the_answer_is_the_same_on_any_number_of_threads() {
        let centres: Vec<Vec<f32>> = (0..3000).map(|n| axis(8, n % 8)).collect();
        let rows = faces_of(&centres[..8], 600, 2.0, 5);
        let faces = rows.len() / 8;
        let photos: Vec<u64> = (0..faces as u64).collect();
        let anchors = vec![-1; faces];
        let mut given = grouping(&rows, &photos, &anchors, &[]);
        given.threshold = 0.999;
        let one = group(&given, 1).unwrap();
        let two = group(&given, 2).unwrap();
        assert!(one.counts.len() > 4 * TILE, "{} people", one.counts.len());
        assert_eq!(one, two);
    }

    #[test]
    fn blocks_give_what_one_face_after_the_other_gives() {
        let centres: Vec<Vec<f32>> = (0..8).map(|n| axis(8, n)).collect();
        let rows = faces_of(&centres, 40, 1.2, 7);
        let faces = rows.len() / 8;
        let photos: Vec<u64> = (0..faces as u64).collect();
        let anchors = vec![-1; faces];
        let all = group(&grouping(&rows, &photos, &anchors, &[]), 2).unwrap();
        let mut sums: Vec<f32> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut one_by_one = Vec::new();
        for face in 0..faces {
            let row = &rows[face * 8..(face + 1) * 8];
            let mut given = grouping(row, &photos[face..=face], &anchors[..1], &[]);
            given.sums = &sums;
            given.counts = &counts;
            let step = group(&given, 1).unwrap();
            one_by_one.push(step.person_of[0]);
            sums = step.sums;
            counts = step.counts;
        }
        assert!(all.counts.len() > 8, "{} people", all.counts.len());
        assert_eq!(all.person_of, one_by_one);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx2_cosines_are_the_portable_ones() {
        let centres: Vec<Vec<f32>> = (0..5).map(|n| axis(128, n * 7)).collect();
        let rows = faces_of(&centres, 4, 1.5, 8);
        let tile = faces_of(&centres, 60, 1.5, 9);
        let views: Vec<&[f32]> = rows.chunks_exact(128).collect();
        let mut portable = vec![0.0f32; views.len() * (tile.len() / 128)];
        tile_cosines(&views, &tile, 128, &mut portable);
        let mut fast = vec![0.0f32; portable.len()];
        if crate::vectors::avx2::tile_cosines(&views, &tile, 128, &mut fast) {
            assert_eq!(portable, fast);
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        let rows = vec![0.0f32; 7];
        let given = grouping(&rows, &[1], &[-1], &[]);
        assert!(group(&given, 1).is_err());
    }
}
