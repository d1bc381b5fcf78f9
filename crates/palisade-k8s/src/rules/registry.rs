//! The registry of built-in rules: every rule is listed here once, and rule
//! selection (`rules: {enable, disable}` in `palisade.yaml`) resolves
//! against it.

use palisade_core::RuleMeta;

use crate::rbac::risks::RiskRule;

use super::{CrossRule, Rule, cluster, container, network, pod, rbac, workload};

/// Every per-object rule (each group lists its own).
pub fn rules() -> impl Iterator<Item = &'static dyn Rule> {
    [
        pod::RULES,
        container::RULES,
        workload::RULES,
        network::RULES,
        cluster::RULES,
        rbac::RULES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// Every cross-object rule.
pub fn cross_rules() -> impl Iterator<Item = &'static dyn CrossRule> {
    [workload::CROSS_RULES, network::CROSS_RULES]
        .into_iter()
        .flatten()
        .copied()
}

/// Every RBAC risk rule (subject-level analysis).
pub fn risk_rules() -> impl Iterator<Item = &'static dyn RiskRule> {
    crate::rbac::risks::RULES.iter().copied()
}

/// A rule as `palisade rules` lists it.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    pub meta: &'static RuleMeta,
    pub enabled_by_default: bool,
}

/// Every built-in rule, sorted by code.
pub fn catalog() -> Vec<CatalogEntry> {
    let mut all: Vec<CatalogEntry> = rules()
        .map(|r| CatalogEntry {
            meta: r.meta(),
            enabled_by_default: r.enabled_by_default(),
        })
        .chain(cross_rules().map(|r| CatalogEntry {
            meta: r.meta(),
            enabled_by_default: r.enabled_by_default(),
        }))
        .chain(risk_rules().map(|r| CatalogEntry {
            meta: r.meta(),
            enabled_by_default: true,
        }))
        .collect();
    all.sort_by(|a, b| a.meta.code.cmp(&b.meta.code));
    all
}

/// Which rules run: the defaults, plus `enable`, minus `disable`. Entries
/// are codes or names; `*` names every rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSelection {
    pub enable: Vec<String>,
    pub disable: Vec<String>,
}

/// A rule selection naming a rule that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rule `{0}` (see `palisade rules`)")]
pub struct UnknownRule(pub String);

fn names(list: &[String], meta: &RuleMeta) -> bool {
    list.iter()
        .any(|s| s == "*" || s.eq_ignore_ascii_case(&meta.code) || *s == meta.name)
}

impl RuleSelection {
    /// Checks that every entry names a rule.
    pub fn validate(&self) -> Result<(), UnknownRule> {
        let all = catalog();
        for entry in self.enable.iter().chain(&self.disable) {
            if entry != "*"
                && !all
                    .iter()
                    .any(|c| names(std::slice::from_ref(entry), c.meta))
            {
                return Err(UnknownRule(entry.clone()));
            }
        }
        Ok(())
    }

    fn on(&self, meta: &RuleMeta, default: bool) -> bool {
        if names(&self.disable, meta)
            && !self
                .enable
                .iter()
                .any(|e| e != "*" && names(std::slice::from_ref(e), meta))
        {
            return false;
        }
        default || names(&self.enable, meta)
    }

    pub fn rules(&self) -> Vec<&'static dyn Rule> {
        rules()
            .filter(|r| self.on(r.meta(), r.enabled_by_default()))
            .collect()
    }

    pub fn risk_rules(&self) -> Vec<&'static dyn RiskRule> {
        risk_rules().filter(|r| self.on(r.meta(), true)).collect()
    }

    pub fn cross_rules(&self) -> Vec<&'static dyn CrossRule> {
        cross_rules()
            .filter(|r| self.on(r.meta(), r.enabled_by_default()))
            .collect()
    }
}
