//! `palisade rules`: list the built-in rules, or print one rule's
//! documentation.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Result, bail};
use palisade_core::{Framework, RuleMeta};
use palisade_k8s::rules::CatalogEntry;
use serde::Serialize;

use crate::cli::{RulesArgs, RulesFormat};

pub fn run(args: &RulesArgs) -> Result<ExitCode> {
    let mut catalog = palisade_k8s::catalog();
    catalog.extend(admission_rules());
    catalog.extend(secret_rules()?);
    let mut out = io::stdout().lock();
    if let Some(wanted) = &args.rule {
        let Some(entry) = catalog
            .iter()
            .find(|c| c.meta.code.eq_ignore_ascii_case(wanted) || c.meta.name == *wanted)
        else {
            bail!("unknown rule `{wanted}` (run `palisade rules` for the list)");
        };
        write!(out, "{}", explain(entry))?;
        return Ok(ExitCode::SUCCESS);
    }
    match args.format {
        RulesFormat::Table => table(&catalog, &mut out)?,
        RulesFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &catalog.iter().map(JsonRule::from).collect::<Vec<_>>(),
            )?;
            writeln!(out)?;
        }
        RulesFormat::Markdown => {
            for entry in &catalog {
                writeln!(out, "{}", explain(entry))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn frameworks(meta: &RuleMeta) -> String {
    meta.references
        .iter()
        .filter(|r| {
            matches!(
                r.framework,
                Framework::Pss | Framework::Cis | Framework::Nsa
            )
        })
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(catalog: &[CatalogEntry], out: &mut dyn Write) -> io::Result<()> {
    let name_w = catalog.iter().map(|c| c.meta.name.len()).max().unwrap_or(4);
    writeln!(
        out,
        "{:<8} {:<8} {:<name_w$}  FRAMEWORKS",
        "CODE", "SEVERITY", "NAME"
    )?;
    for c in catalog {
        let name = if c.enabled_by_default {
            c.meta.name.to_string()
        } else {
            format!("{} (opt-in)", c.meta.name)
        };
        writeln!(
            out,
            "{:<8} {:<8} {:<name_w$}  {}",
            c.meta.code,
            c.meta.severity.as_str(),
            name,
            frameworks(c.meta)
        )?;
    }
    writeln!(
        out,
        "\n{} rules. `palisade rules CODE` explains one.",
        catalog.len()
    )
}

/// The admission webhook's own rules (`ADM001`…), applied only by
/// `palisade admission serve`: its configuration turns them on and off
/// (`immutability`, `images.signatures`), not `--enable`, so none is
/// listed as opt-in.
fn admission_rules() -> impl Iterator<Item = CatalogEntry> {
    palisade_admission::rules::all()
        .into_iter()
        .map(|meta| CatalogEntry {
            meta,
            enabled_by_default: true,
        })
}

/// The built-in secret rules (`SEC001`…), after the Kubernetes rules.
fn secret_rules() -> Result<Vec<CatalogEntry>> {
    Ok(palisade_secrets::builtin()?
        .rules()
        .map(|r| CatalogEntry {
            meta: r.meta,
            enabled_by_default: true,
        })
        .collect())
}

/// A rule's documentation page.
pub fn explain(entry: &CatalogEntry) -> String {
    entry.meta.to_markdown(entry.enabled_by_default)
}

#[derive(Serialize)]
struct JsonRule<'a> {
    code: &'a str,
    name: &'a str,
    title: &'a str,
    severity: palisade_core::Severity,
    scanner: palisade_core::Scanner,
    enabled_by_default: bool,
    references: Vec<String>,
    fix: &'a str,
}

impl<'a> From<&'a CatalogEntry> for JsonRule<'a> {
    fn from(c: &'a CatalogEntry) -> Self {
        JsonRule {
            code: &c.meta.code,
            name: &c.meta.name,
            title: &c.meta.title,
            severity: c.meta.severity,
            scanner: c.meta.scanner,
            enabled_by_default: c.enabled_by_default,
            references: c.meta.references.iter().map(ToString::to_string).collect(),
            fix: &c.meta.fix,
        }
    }
}
