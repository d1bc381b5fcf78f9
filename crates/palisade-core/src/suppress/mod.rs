//! Suppression: inline comments, `ignore:` entries of `palisade.yaml`, and
//! baselines. Suppressed findings stay in the report, marked, so JSON and
//! SARIF consumers see what was suppressed and why.

mod baseline;
mod ignore;
mod inline;

pub use baseline::{Baseline, BaselineError};
pub use ignore::{IgnoreEntry, IgnoreError, IgnoreList};
pub use inline::{InlineDirective, InlineDirectives, MARKER as INLINE_MARKER};

use crate::{Report, SuppressionKind};

/// Applies `palisade.yaml` ignores, then the baseline, to every finding not
/// already suppressed (inline comments and annotations are applied by the
/// analyzers, which know the objects).
pub fn apply(report: &mut Report, ignores: &IgnoreList, baseline: Option<&Baseline>) {
    let rules = &report.rules;
    for finding in report.findings.iter_mut().filter(|f| !f.is_suppressed()) {
        let name = rules.get(finding.code.as_ref()).map(|r| r.name.as_ref());
        if let Some(entry) = ignores.matching_named(finding, name) {
            finding.suppress(SuppressionKind::Config, entry.reason.clone());
        } else if let Some(b) = baseline
            && b.contains(&finding.fingerprint)
        {
            finding.suppress(SuppressionKind::Baseline, None);
        }
    }
}
