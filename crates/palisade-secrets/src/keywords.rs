//! The keyword prefilter: every occurrence of every rule keyword in a text
//! (ASCII case-insensitive, overlapping), found by one Aho-Corasick
//! automaton compiled to a dense DFA.
//!
//! Hand-written because it is the scanner's hot path (a third of a tree
//! scan's CPU with the `aho-corasick` crate). A DFA step is a load whose
//! address depends on the previous step's load, so one search runs at the
//! speed of L1 latency (~450 MB/s here) whatever the table. A keyword
//! without a newline never spans a line, so a text is cut at newlines into
//! [`LANES`] parts that are searched in the same loop: the parts' loads are
//! independent and overlap in the CPU, which measured 2.3× the single
//! search on Python sources. (A keyword set with a newline in it is
//! searched in one lane.) With the lanes overlapped, the loop is bound by
//! its instruction count, so a step is kept to five instructions: byte,
//! class, add, mask, load, with no bounds check (the table's length is a
//! power of two) and one test for a match in any lane (a flag bit in the
//! state id): 930 → 1,220 MB/s on 161 MB of Python sources.

#![deny(clippy::indexing_slicing)]

use std::collections::VecDeque;

/// Parts of a text searched together (4 measured best on x86-64: more
/// lanes spill their state out of registers).
const LANES: usize = 4;
/// Texts shorter than this are searched in one lane.
const MIN_SPLIT: usize = 1024;
/// Transition-table entries allowed (64 MB), so a huge user rule file
/// fails to load instead of exhausting memory.
const MAX_TABLE: usize = 16 << 20;
/// Set in the id of a state with output. Row offsets stay below
/// [`MAX_TABLE`], far under this bit, and a step's index mask drops it, so
/// "is a match" is a test of the bit and four lanes are tested at once.
const MATCH: u32 = 1 << 31;

/// The keywords ending in a state, as (keyword index, length).
type Endings = Box<[(u32, u32)]>;

/// The compiled keyword set.
#[derive(Debug)]
pub(crate) struct Keywords {
    /// Byte to equivalence class; ASCII letters share their case's class.
    class: [u16; 256],
    /// log2 of the row length (classes rounded up to a power of two).
    shift: u32,
    /// Row-major transitions; state ids are row offsets, with [`MATCH`]
    /// set for the states with output, which come last. Its length
    /// is a power of two (unused rows pad it), so a step indexes it with a
    /// mask that proves the index in range: no bounds check on the chain of
    /// dependent loads.
    table: Box<[u32]>,
    start: u32,
    /// The row offset of the first state with output.
    first_match: u32,
    /// For each state with output, in order from `first_match`.
    outputs: Box<[Endings]>,
    /// No keyword holds a newline, so texts may be cut at newlines.
    splittable: bool,
}

impl Keywords {
    /// Compiles `keywords` (lower-case; ASCII letters match either case).
    pub(crate) fn new<S: AsRef<[u8]>>(keywords: &[S]) -> Result<Keywords, String> {
        let mut class = [0u16; 256];
        let mut classes = 1usize;
        for k in keywords {
            for &b in k.as_ref() {
                let b = b.to_ascii_lowercase();
                if class_of(&class, b) == 0 {
                    let c = u16::try_from(classes).map_err(|_| "too many byte classes")?;
                    for b in [b, b.to_ascii_uppercase()] {
                        if let Some(slot) = class.get_mut(usize::from(b)) {
                            *slot = c;
                        }
                    }
                    classes += 1;
                }
            }
        }
        let stride = classes.next_power_of_two();
        let shift = stride.trailing_zeros();

        // The trie, then the DFA by breadth-first failure links.
        let mut trie: Vec<Vec<Option<u32>>> = vec![vec![None; stride]];
        let mut output: Vec<Vec<(u32, u32)>> = vec![Vec::new()];
        for (index, k) in keywords.iter().enumerate() {
            let k = k.as_ref();
            let mut state = 0usize;
            for &b in k {
                let c = usize::from(class_of(&class, b));
                let next = match trie
                    .get(state)
                    .and_then(|row| row.get(c))
                    .copied()
                    .flatten()
                {
                    Some(next) => next,
                    None => {
                        if (trie.len() + 1).saturating_mul(stride) > MAX_TABLE {
                            return Err(too_large(keywords.len()));
                        }
                        let next = u32::try_from(trie.len()).map_err(|_| "too many states")?;
                        trie.push(vec![None; stride]);
                        output.push(Vec::new());
                        if let Some(slot) = trie.get_mut(state).and_then(|row| row.get_mut(c)) {
                            *slot = Some(next);
                        }
                        next
                    }
                };
                state = next as usize;
            }
            let len = u32::try_from(k.len()).map_err(|_| "keyword too long")?;
            let index = u32::try_from(index).map_err(|_| "too many keywords")?;
            if let Some(out) = output.get_mut(state) {
                out.push((index, len));
            }
        }
        let states = trie.len();
        let mut delta = vec![0u32; states * stride];
        let mut fail = vec![0u32; states];
        let mut queue = VecDeque::new();
        for c in 0..stride {
            let child = trie.first().and_then(|row| row.get(c)).copied().flatten();
            if let Some(child) = child {
                set(&mut delta, c, child);
                queue.push_back(child);
            }
        }
        while let Some(state) = queue.pop_front() {
            let state = state as usize;
            let f = fail.get(state).copied().unwrap_or(0) as usize;
            // States are visited in depth order, so the failure state's
            // output is already complete.
            let inherited = output.get(f).cloned().unwrap_or_default();
            if let Some(out) = output.get_mut(state) {
                out.extend(inherited);
            }
            for c in 0..stride {
                let via_fail = delta.get(f * stride + c).copied().unwrap_or(0);
                match trie
                    .get(state)
                    .and_then(|row| row.get(c))
                    .copied()
                    .flatten()
                {
                    Some(child) => {
                        set(&mut delta, state * stride + c, child);
                        set(&mut fail, child as usize, via_fail);
                        queue.push_back(child);
                    }
                    None => set(&mut delta, state * stride + c, via_fail),
                }
            }
        }

        // Renumber: states without output first, ids premultiplied by the
        // row length so a step is `table[state + class]`.
        let mut order: Vec<usize> = (0..states).filter(|&s| is_empty(&output, s)).collect();
        let quiet = order.len();
        order.extend((0..states).filter(|&s| !is_empty(&output, s)));
        let mut id = vec![0u32; states];
        for (new, &old) in order.iter().enumerate() {
            let offset = u32::try_from(new << shift).map_err(|_| "too many states")?;
            let flag = if new >= quiet { MATCH } else { 0 };
            set(&mut id, old, offset | flag);
        }
        let mut table = vec![0u32; (states * stride).next_power_of_two()];
        for (new, &old) in order.iter().enumerate() {
            for c in 0..stride {
                let target = delta.get(old * stride + c).copied().unwrap_or(0) as usize;
                set(
                    &mut table,
                    (new << shift) + c,
                    id.get(target).copied().unwrap_or(0),
                );
            }
        }
        let outputs = order
            .get(quiet..)
            .unwrap_or(&[])
            .iter()
            .map(|&s| {
                output
                    .get(s)
                    .cloned()
                    .unwrap_or_default()
                    .into_boxed_slice()
            })
            .collect();
        Ok(Keywords {
            class,
            shift,
            table: table.into_boxed_slice(),
            start: id.first().copied().unwrap_or(0),
            first_match: u32::try_from(quiet << shift).map_err(|_| "too many states")?,
            outputs,
            splittable: keywords.iter().all(|k| !k.as_ref().contains(&b'\n')),
        })
    }

    /// Calls `found(keyword, start)` for every occurrence in `text`,
    /// overlapping ones included, in no particular order.
    pub(crate) fn for_each(&self, text: &[u8], mut found: impl FnMut(usize, usize)) {
        if !self.splittable || text.len() < MIN_SPLIT {
            self.search(self.start, text, 0, &mut found);
            return;
        }
        // Lane i starts at the first line start after i/LANES of the text.
        let mut starts = [0usize; LANES];
        let mut at = 0;
        for (i, start) in starts.iter_mut().enumerate().skip(1) {
            let from = (text.len() / LANES * i).max(at);
            at = text
                .get(from..)
                .and_then(|tail| memchr::memchr(b'\n', tail))
                .map_or(text.len(), |j| from + j + 1);
            *start = at;
        }
        let ends: [usize; LANES] =
            std::array::from_fn(|i| starts.get(i + 1).copied().unwrap_or(text.len()));
        let common = starts
            .iter()
            .zip(&ends)
            .map(|(s, e)| e - s)
            .min()
            .unwrap_or(0);
        let lane = |i: usize| {
            let start = starts.get(i).copied().unwrap_or(0);
            text.get(start..start + common).unwrap_or(&[])
        };
        // Four named lanes, zipped, and the table and classes in locals:
        // this shape keeps every lane's state in a register and leaves no
        // bounds check in the loop (an array of lanes indexed in an inner
        // loop spilled them and ran ~40 % slower).
        let (table, class) = (&*self.table, &self.class);
        let mut s = [self.start; LANES];
        let lanes = lane(0).iter().zip(lane(1)).zip(lane(2)).zip(lane(3));
        for (k, (((&b0, &b1), &b2), &b3)) in lanes.enumerate() {
            s[0] = step(table, class, s[0], b0);
            s[1] = step(table, class, s[1], b1);
            s[2] = step(table, class, s[2], b2);
            s[3] = step(table, class, s[3], b3);
            if (s[0] | s[1] | s[2] | s[3]) & MATCH != 0 {
                for (&state, &start) in s.iter().zip(&starts) {
                    if state & MATCH != 0 {
                        self.report(state, start + k, &mut found);
                    }
                }
            }
        }
        for ((&state, &start), &end) in s.iter().zip(&starts).zip(&ends) {
            let from = start + common;
            let rest = text.get(from..end).unwrap_or(&[]);
            self.search(state, rest, from, &mut found);
        }
    }

    /// One lane from `state` over `text`, which starts at `base`.
    fn search(
        &self,
        mut state: u32,
        text: &[u8],
        base: usize,
        found: &mut impl FnMut(usize, usize),
    ) {
        let (table, class) = (&*self.table, &self.class);
        for (i, &byte) in text.iter().enumerate() {
            state = step(table, class, state, byte);
            if state & MATCH != 0 {
                self.report(state, base + i, found);
            }
        }
    }

    /// The keywords ending at `last` (the offset of their last byte).
    #[cold]
    fn report(&self, state: u32, last: usize, found: &mut impl FnMut(usize, usize)) {
        let row = ((state & !MATCH).wrapping_sub(self.first_match) >> self.shift) as usize;
        for &(keyword, len) in self.outputs.get(row).map(|o| &o[..]).unwrap_or(&[]) {
            found(keyword as usize, last + 1 - len as usize);
        }
    }
}

/// The state after `byte`. Always in range: states are row offsets and
/// classes row indexes, and the mask (the table's length is a power of two)
/// lets the compiler see it.
#[inline(always)]
fn step(table: &[u32], class: &[u16; 256], state: u32, byte: u8) -> u32 {
    let at = state as usize + usize::from(class_of(class, byte));
    table
        .get(at & table.len().wrapping_sub(1))
        .copied()
        .unwrap_or(0)
}

fn class_of(class: &[u16; 256], byte: u8) -> u16 {
    class.get(usize::from(byte)).copied().unwrap_or(0)
}

fn too_large(keywords: usize) -> String {
    format!(
        "{keywords} keywords need an automaton over the {} MB limit",
        (MAX_TABLE * 4) >> 20
    )
}

fn set(v: &mut [u32], at: usize, value: u32) {
    if let Some(slot) = v.get_mut(at) {
        *slot = value;
    }
}

fn is_empty(output: &[Vec<(u32, u32)>], state: usize) -> bool {
    output.get(state).is_none_or(Vec::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;
    use proptest::prelude::*;

    fn ours(keywords: &[&str], text: &[u8]) -> Vec<(usize, usize)> {
        let k = Keywords::new(keywords).unwrap();
        let mut v = Vec::new();
        k.for_each(text, |p, s| v.push((s, p)));
        v.sort_unstable();
        v
    }

    fn oracle(keywords: &[&str], text: &[u8]) -> Vec<(usize, usize)> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(keywords)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(text)
            .map(|m| (m.start(), m.pattern().as_usize()))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn overlapping_and_case_insensitive() {
        let keywords = ["key", "apikey", "secret_key", "ke"];
        let text = b"API_KEY = x; apikey: y; SECRET_KEY";
        assert_eq!(ours(&keywords, text), oracle(&keywords, text));
        assert_eq!(ours(&keywords, text).len(), 8);
    }

    #[test]
    fn lanes_find_what_one_search_finds() {
        // Long enough to be split; keywords at every cut and at both ends.
        let mut text = Vec::new();
        for i in 0..400 {
            text.extend_from_slice(if i % 7 == 0 {
                b"token=ghp_x\n"
            } else {
                b"plain line\n"
            });
        }
        text.extend_from_slice(b"ghp_");
        let keywords = ["ghp_", "token", "n=g"];
        let found = ours(&keywords, &text);
        assert_eq!(found, oracle(&keywords, &text));
        assert_eq!(found.len(), 58 * 3 + 1);
    }

    #[test]
    fn newline_in_a_keyword_is_not_split() {
        let keywords = ["a\nb"];
        let text = "x\n".repeat(600) + "a\nb";
        assert_eq!(ours(&keywords, text.as_bytes()).len(), 1);
    }

    #[test]
    fn oversized_sets_are_refused() {
        // Every byte value in use makes rows of 256 entries, so 80,000
        // eight-digit keywords (~89,000 states) pass the 16 M entry limit.
        let mut many: Vec<Vec<u8>> = (0..80_000)
            .map(|i| format!("{i:08}").into_bytes())
            .collect();
        many.push((0..=255).collect());
        assert!(
            Keywords::new(&many)
                .unwrap_err()
                .contains("over the 64 MB limit")
        );
        many.truncate(1000);
        assert!(Keywords::new(&many).is_ok());
    }

    proptest! {
        #[test]
        fn same_as_aho_corasick(
            keywords in proptest::collection::vec("[a-cA-C_\n]{1,4}", 1..12),
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'B'), Just(b'c'), Just(b'_'), Just(b'\n'), any::<u8>()], 0..3000),
        ) {
            let keywords: Vec<String> = keywords.into_iter().map(|k| k.to_ascii_lowercase()).collect();
            let refs: Vec<&str> = keywords.iter().map(String::as_str).collect();
            prop_assert_eq!(ours(&refs, &text), oracle(&refs, &text));
        }

        /// Without newlines in the keywords, long texts are searched in
        /// four lanes, whose matches (several lanes at once too) must be
        /// those of one search.
        #[test]
        fn lanes_same_as_aho_corasick(
            keywords in proptest::collection::vec("[a-cA-C_]{1,4}", 1..12),
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'B'), Just(b'c'), Just(b'_'), Just(b'\n'), any::<u8>()], MIN_SPLIT..4 * MIN_SPLIT),
        ) {
            let keywords: Vec<String> = keywords.into_iter().map(|k| k.to_ascii_lowercase()).collect();
            let refs: Vec<&str> = keywords.iter().map(String::as_str).collect();
            prop_assert_eq!(ours(&refs, &text), oracle(&refs, &text));
        }
    }
}
