//! A table for people: one row per component.

use std::fmt::Write;

use palisade_core::text::printable;

use crate::bom::Sbom;

/// Renders NAME, VERSION, TYPE and WHERE (first location, `+N` more).
pub fn render(sbom: &Sbom) -> String {
    let mut rows: Vec<[String; 4]> = sbom
        .components
        .iter()
        .map(|c| {
            let loc = c
                .locations
                .first()
                .map_or(String::new(), |l| l.path.clone());
            let more = c.locations.len().saturating_sub(1);
            let loc = if more > 0 {
                format!("{loc} (+{more})")
            } else {
                loc
            };
            // Names and paths come from the scanned artifact.
            [
                printable(&c.osv_name()).into_owned(),
                printable(&c.version).into_owned(),
                c.ecosystem.label().to_owned(),
                printable(&loc).into_owned(),
            ]
        })
        .collect();
    rows.sort_by(|a, b| (&a[2], &a[0], &a[1]).cmp(&(&b[2], &b[0], &b[1])));
    let header = ["NAME", "VERSION", "TYPE", "WHERE"].map(str::to_owned);
    let mut widths = [0usize; 3];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (w, cell) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(cell.chars().count()).min(60);
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let [a, b, c, d] = r;
        let _ = writeln!(
            out,
            "{a:<w0$}  {b:<w1$}  {c:<w2$}  {d}",
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    let counts = sbom.counts();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = writeln!(
        out,
        "\n{} components{}{}",
        sbom.components.len(),
        if summary.is_empty() {
            String::new()
        } else {
            format!(": {}", summary.join(", "))
        },
        sbom.target
            .distro
            .as_ref()
            .map_or(String::new(), |d| format!(
                " (OS: {} {})",
                printable(&d.id),
                printable(&d.version_id)
            )),
    );
    out
}
