//! The terminal report: findings grouped by file, one line each, then a
//! summary. Colours only when the caller says the output is a terminal.

use std::io::{self, Write};

use anstyle::{AnsiColor, Effects, Style};

use super::Options;
use crate::text::printable;
use crate::{Finding, Report, Severity};

struct Paint {
    on: bool,
}

impl Paint {
    fn write(&self, out: &mut dyn Write, style: Style, text: &str) -> io::Result<()> {
        if self.on {
            write!(out, "{}{text}{}", style.render(), style.render_reset())
        } else {
            out.write_all(text.as_bytes())
        }
    }
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .fg_color(Some(AnsiColor::BrightRed.into()))
            .effects(Effects::BOLD),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Severity::Info => Style::new().fg_color(Some(AnsiColor::Blue.into())),
    }
}

pub(super) fn write(report: &Report, options: Options, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: options.color };
    let bold = Style::new().effects(Effects::BOLD);
    let dim = Style::new().effects(Effects::DIMMED);
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| options.show_suppressed || !f.is_suppressed())
        .collect();
    let width = shown.iter().map(|f| position(f).len()).max().unwrap_or(0);
    let mut current: Option<&str> = None;
    for f in &shown {
        if current != Some(f.location.path.as_ref()) {
            if current.is_some() {
                writeln!(out)?;
            }
            paint.write(
                out,
                bold.effects(Effects::BOLD | Effects::UNDERLINE),
                &printable(&f.location.path),
            )?;
            writeln!(out)?;
            current = Some(&f.location.path);
        }
        write!(out, "  {:>width$}  ", position(f))?;
        paint.write(
            out,
            severity_style(f.severity),
            &format!("{:<8}", f.severity.as_str()),
        )?;
        write!(out, " ")?;
        paint.write(out, bold, &format!("{:<8}", f.code))?;
        write!(out, " {}", printable(&f.message))?;
        if let Some(r) = &f.resource {
            write!(out, "  ")?;
            paint.write(out, dim, &format!("[{}]", printable(&r.to_string())))?;
        }
        if let Some(s) = &f.suppressed {
            write!(out, " ")?;
            let reason = s
                .reason
                .as_deref()
                .map(|r| format!(": {}", printable(r)))
                .unwrap_or_default();
            paint.write(
                out,
                dim,
                &format!("(suppressed, {}{reason})", s.kind.as_str()),
            )?;
        }
        writeln!(out)?;
    }
    if !shown.is_empty() {
        writeln!(out)?;
    }
    summary(report, &paint, out)
}

fn position(f: &Finding) -> String {
    match f.location.span {
        Some(s) => format!("{}:{}", s.start.line, s.start.column),
        None => "-".to_string(),
    }
}

fn summary(report: &Report, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let counts = report.counts();
    let total = counts.total();
    if total == 0 {
        paint.write(
            out,
            Style::new().fg_color(Some(AnsiColor::Green.into())),
            "No findings",
        )?;
    } else {
        write!(
            out,
            "{total} finding{} (",
            if total == 1 { "" } else { "s" }
        )?;
        let mut first = true;
        for s in Severity::ALL.iter().rev() {
            let n = counts.get(*s);
            if n == 0 {
                continue;
            }
            if !first {
                write!(out, ", ")?;
            }
            first = false;
            paint.write(
                out,
                severity_style(*s),
                &format!("{n} {}", s.as_str().to_ascii_lowercase()),
            )?;
        }
        write!(out, ")")?;
    }
    let suppressed = report.suppressed_count();
    if suppressed > 0 {
        write!(out, ", {suppressed} suppressed")?;
    }
    writeln!(out)?;
    let st = &report.stats;
    write!(
        out,
        "Scanned {} file{}, {} object{}",
        st.files,
        if st.files == 1 { "" } else { "s" },
        st.objects,
        if st.objects == 1 { "" } else { "s" },
    )?;
    if st.skipped_documents > 0 {
        write!(
            out,
            "; skipped {} non-Kubernetes document{}",
            st.skipped_documents,
            if st.skipped_documents == 1 { "" } else { "s" }
        )?;
    }
    if !report.errors.is_empty() {
        write!(
            out,
            "; {} input error{}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        )?;
    }
    writeln!(out)
}
