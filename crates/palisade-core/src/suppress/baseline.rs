//! Baselines: the fingerprints of findings accepted when adopting Palisade
//! on an existing codebase. Findings in the baseline are suppressed; new ones
//! are reported.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

use crate::Report;

const FORMAT: &str = "palisade-baseline";
const VERSION: u32 = 1;

/// A set of fingerprints, written with enough context to review by eye.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    location: String,
}

/// A baseline file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    // The causes are sources, not repeated in the messages (a report of
    // the error chain would print them twice).
    #[error("cannot read or write the baseline")]
    Io(#[from] io::Error),
    #[error("not a palisade baseline")]
    Format(#[from] serde_json::Error),
    #[error(
        "unsupported baseline (format `{format}`, version {version}; expected `{FORMAT}` version {VERSION})"
    )]
    Version { format: String, version: u32 },
}

impl Baseline {
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    pub fn read(reader: impl Read) -> Result<Self, BaselineError> {
        let file: File = serde_json::from_reader(reader)?;
        if file.format != FORMAT || file.version != VERSION {
            return Err(BaselineError::Version {
                format: file.format,
                version: file.version,
            });
        }
        Ok(Baseline {
            fingerprints: file.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// Writes every unsuppressed finding of the report, sorted, one per entry.
    pub fn write(report: &Report, mut writer: impl Write) -> Result<(), BaselineError> {
        let mut findings: Vec<Entry> = report
            .findings
            .iter()
            .filter(|f| !f.is_suppressed())
            .map(|f| Entry {
                fingerprint: f.fingerprint.clone(),
                code: f.code.to_string(),
                location: f.location.to_string(),
            })
            .collect();
        findings.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
        findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
        let file = File {
            format: FORMAT.into(),
            version: VERSION,
            findings,
        };
        serde_json::to_writer_pretty(&mut writer, &file)?;
        writer.write_all(b"\n")?;
        Ok(())
    }
}
