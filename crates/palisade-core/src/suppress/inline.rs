//! `# palisade:ignore CODE[,CODE…] reason` comments.
//!
//! A comment at the end of a line applies to findings on that line. A comment
//! on a line of its own applies to the next line that holds content (blank,
//! comment and `---` lines are skipped); when that line is where an object
//! starts, it applies to every finding of the object.

#![deny(clippy::indexing_slicing)]

use memchr::memmem;

/// What starts a directive.
pub const MARKER: &str = "palisade:ignore";

/// One directive: the codes it names (or `*`), the line it targets, and the
/// free-text reason after the codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineDirective {
    /// Line of the comment itself (1-based).
    pub line: u32,
    /// Column of its `#` (1-based, in characters).
    pub column: u32,
    /// Line the directive applies to (1-based).
    pub target_line: u32,
    pub codes: Vec<String>,
    pub reason: Option<String>,
}

impl InlineDirective {
    /// Whether the directive names this rule (by code or name).
    pub fn names(&self, code: &str, name: &str) -> bool {
        self.codes
            .iter()
            .any(|c| c == "*" || c.eq_ignore_ascii_case(code) || c == name)
    }
}

/// All directives of one file, by target line.
#[derive(Debug, Clone, Default)]
pub struct InlineDirectives {
    directives: Vec<InlineDirective>,
}

impl InlineDirectives {
    /// Finds the directives in a file's text. Files without the marker cost
    /// one `memmem` scan.
    pub fn parse(text: &str) -> Self {
        let finder = memmem::Finder::new(MARKER);
        if finder.find(text.as_bytes()).is_none() {
            return InlineDirectives::default();
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut directives = Vec::new();
        for (idx, line) in lines.iter().enumerate() {
            // Every marker that looks like a comment's start counts: an
            // earlier one may be text in a quoted string (dropped later by
            // the YAML scanner), the real comment after it.
            let hashes: Vec<(usize, usize)> = finder
                .find_iter(line.as_bytes())
                .filter_map(|at| comment_start(line, at).map(|hash| (hash, at)))
                .collect();
            let Some(&(first, _)) = hashes.first() else {
                continue;
            };
            let line_no = idx as u32 + 1;
            // A comment on a line of its own targets the next content line.
            let own_line = line.get(..first).unwrap_or("").trim().is_empty();
            let target_line = if own_line {
                next_content_line(&lines, idx + 1).unwrap_or(line_no)
            } else {
                line_no
            };
            for (k, &(hash, at)) in hashes.iter().enumerate() {
                // The reason ends where the next directive begins.
                let end = hashes.get(k + 1).map_or(line.len(), |&(next, _)| next);
                let after = line.get(at + MARKER.len()..end).unwrap_or("");
                let (codes, reason) = split_codes(after);
                if codes.is_empty() {
                    continue;
                }
                directives.push(InlineDirective {
                    line: line_no,
                    column: line.get(..hash).unwrap_or("").chars().count() as u32 + 1,
                    target_line,
                    codes,
                    reason,
                });
            }
        }
        InlineDirectives { directives }
    }

    pub fn is_empty(&self) -> bool {
        self.directives.is_empty()
    }

    /// Keeps the directives `keep` accepts (the YAML scanner drops those
    /// that are text inside a string, not comments).
    pub fn retain(&mut self, keep: impl FnMut(&InlineDirective) -> bool) {
        self.directives.retain(keep);
    }

    /// The directive that suppresses a finding of rule `code`/`name` located
    /// at `line` inside an object starting at `object_line`.
    pub fn find(
        &self,
        code: &str,
        name: &str,
        line: u32,
        object_line: u32,
    ) -> Option<&InlineDirective> {
        self.directives.iter().find(|d| {
            (d.target_line == line || d.target_line == object_line) && d.names(code, name)
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &InlineDirective> {
        self.directives.iter()
    }
}

/// The byte offset of the `#` that opens the comment holding the marker at
/// `at`: only whitespace may stand between them, and the `#` must start the
/// line or follow whitespace (as YAML requires of comments).
fn comment_start(line: &str, at: usize) -> Option<usize> {
    let head = line.get(..at)?;
    let trimmed = head.trim_end();
    let hash = trimmed.len().checked_sub(1)?;
    if trimmed.as_bytes().get(hash) != Some(&b'#') {
        return None;
    }
    match hash.checked_sub(1).and_then(|i| line.as_bytes().get(i)) {
        None => Some(hash),
        Some(b) if b.is_ascii_whitespace() => Some(hash),
        Some(_) => None,
    }
}

/// `K8S001,K8S002 reason text` → codes and reason. Codes are separated by
/// commas (with optional spaces after them); the reason is the rest.
fn split_codes(after: &str) -> (Vec<String>, Option<String>) {
    let rest = after.trim_start();
    let mut codes = Vec::new();
    let mut remaining = rest;
    loop {
        let end = remaining
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(remaining.len());
        let (code, tail) = remaining.split_at(end);
        if !code.is_empty() {
            codes.push(code.to_string());
        }
        let tail_trim = tail.trim_start();
        if let Some(next) = tail_trim.strip_prefix(',') {
            remaining = next.trim_start();
        } else {
            remaining = tail_trim;
            break;
        }
    }
    let reason = remaining.trim();
    (codes, (!reason.is_empty()).then(|| reason.to_string()))
}

fn next_content_line(lines: &[&str], from: usize) -> Option<u32> {
    lines
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, l)| {
            let t = l.trim();
            !(t.is_empty() || t.starts_with('#') || t == "---" || t.starts_with("--- "))
        })
        .map(|(i, _)| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# palisade:ignore K8S010 the whole object
apiVersion: v1
kind: Pod
spec:
  hostNetwork: true # palisade:ignore K8S003,K8S004 needs the node's network
  # palisade:ignore host-pid
  hostPID: true
  note: \"# palisade:ignore K8S099 not a comment\"
";

    #[test]
    fn finds_trailing_and_standalone_directives() {
        let d = InlineDirectives::parse(TEXT);
        let all: Vec<_> = d.iter().collect();
        assert_eq!(all.len(), 2 + 1, "{all:#?}");
        assert_eq!(all[0].target_line, 2);
        assert_eq!(all[1].target_line, 5);
        assert_eq!(all[1].codes, vec!["K8S003", "K8S004"]);
        assert_eq!(all[1].reason.as_deref(), Some("needs the node's network"));
        assert_eq!(all[2].target_line, 7);
    }

    #[test]
    fn matches_by_line_object_code_and_name() {
        let d = InlineDirectives::parse(TEXT);
        assert!(d.find("K8S004", "x", 5, 2).is_some());
        assert!(d.find("K8S004", "x", 6, 20).is_none());
        assert!(d.find("K8S010", "x", 40, 2).is_some());
        assert!(d.find("K8S011", "host-pid", 7, 20).is_some());
        assert!(d.find("K8S099", "x", 8, 20).is_none());
    }

    #[test]
    fn reads_every_directive_of_a_line() {
        // The first marker is text in a string; the comment after it counts.
        let text = "a:\n  cmd: \"x # palisade:ignore K8S001\" # palisade:ignore K8S002 why\n";
        let d = InlineDirectives::parse(text);
        let all: Vec<_> = d.iter().collect();
        assert_eq!(all.len(), 2, "{all:#?}");
        assert_eq!(
            (all[1].codes.clone(), all[1].target_line),
            (vec!["K8S002".to_string()], 2)
        );
        assert_eq!(all[1].column, 37);
        assert_eq!(all[1].reason.as_deref(), Some("why"));
        assert_eq!(all[0].reason, None, "ends before the next directive");
        // Two directives in one comment on a line of its own.
        let text = "# palisade:ignore K8S001 a # palisade:ignore K8S002 b\nkind: Pod\n";
        let d = InlineDirectives::parse(text);
        let all: Vec<_> = d.iter().collect();
        assert_eq!(all.len(), 2, "{all:#?}");
        assert!(all.iter().all(|d| d.target_line == 2), "{all:#?}");
        assert_eq!(all[0].reason.as_deref(), Some("a"));
    }

    #[test]
    fn ignores_text_without_marker_or_codes() {
        assert!(InlineDirectives::parse("a: b\n").is_empty());
        assert!(InlineDirectives::parse("a: b # palisade:ignore\n").is_empty());
        assert!(InlineDirectives::parse("a: b#palisade:ignore X\n").is_empty());
    }
}
