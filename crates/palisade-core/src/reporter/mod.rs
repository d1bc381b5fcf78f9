//! Reporters: the same [`Report`] written as a terminal table, JSON, SARIF
//! 2.1.0 or JUnit XML. Every reporter is deterministic: the report is
//! already sorted, and nothing time- or machine-dependent is written.

mod json;
mod junit;
mod sarif;
mod table;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::Report;

pub use json::JSON_SCHEMA_VERSION;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Table,
    Json,
    Sarif,
    Junit,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Table, Format::Json, Format::Sarif, Format::Junit];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown format `{s}` (expected table, json, sarif or junit)"))
    }
}

/// Presentation choices that do not change a report's content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// ANSI colours (table only; the CLI enables them on a TTY).
    pub color: bool,
    /// Also list suppressed findings in the table.
    pub show_suppressed: bool,
}

/// Writes `report` in `format`.
pub fn write(
    format: Format,
    report: &Report,
    options: Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table => table::write(report, options, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Junit => junit::write(report, out),
    }
}
