//! JUnit XML: one test suite per file, one failing test case per finding
//! (suppressed findings are skipped cases), as CI systems display it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::{Finding, Report};

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_file.entry(&f.location.path).or_default().push(f);
    }
    // The root's totals are the sums of its suites' (input errors are
    // test cases of their own suite).
    let errors = report.errors.len();
    let total = report.findings.len() + errors;
    let failures = report
        .findings
        .iter()
        .filter(|f| !f.is_suppressed())
        .count();
    let skipped = report.findings.len() - failures;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="palisade" tests="{total}" failures="{failures}" errors="{errors}" skipped="{skipped}">"#,
    )?;
    for (path, findings) in &by_file {
        let failed = findings.iter().filter(|f| !f.is_suppressed()).count();
        let skipped = findings.len() - failed;
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{failed}" skipped="{skipped}" errors="0">"#,
            escape(path),
            findings.len()
        )?;
        for f in findings {
            let rule = report.rules.get(f.code.as_ref());
            let mut name = format!("[{}] {}", f.code, rule.map_or("", |r| r.name.as_ref()));
            if let Some(r) = &f.resource {
                name.push_str(&format!(" {r}"));
            }
            if let Some(c) = &f.container {
                name.push_str(&format!(" container {c}"));
            }
            writeln!(
                out,
                r#"    <testcase classname="{}" name="{}">"#,
                escape(path),
                escape(name.trim())
            )?;
            if let Some(s) = &f.suppressed {
                let reason = s.reason.as_deref().unwrap_or("");
                writeln!(
                    out,
                    r#"      <skipped message="suppressed ({}){}{}"/>"#,
                    s.kind.as_str(),
                    if reason.is_empty() { "" } else { ": " },
                    escape(reason)
                )?;
            } else {
                let fix = rule.map_or("", |r| r.fix.as_ref());
                writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}&#10;{}</failure>"#,
                    escape(&f.message),
                    f.severity,
                    escape(&f.location.to_string()),
                    escape(fix)
                )?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    if !report.errors.is_empty() {
        writeln!(
            out,
            r#"  <testsuite name="input errors" tests="{n}" failures="0" errors="{n}" skipped="0">"#,
            n = report.errors.len()
        )?;
        for e in &report.errors {
            writeln!(
                out,
                r#"    <testcase classname="{}" name="input"><error message="{}" type="{:?}"/></testcase>"#,
                escape(&e.path),
                escape(&e.to_string()),
                e.kind
            )?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// Escapes text for XML attributes and content; control characters that XML
/// 1.0 forbids are dropped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            super::escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot;"
        );
    }
}
