//! Phase timings of the RBAC analysis for bench/rbac.sh: load (parse and
//! extract), resolve (Policy::new: aggregation and indexes), risk analysis,
//! and who-can queries. Prints one JSON object.

use std::sync::Arc;
use std::time::Instant;

use palisade_k8s::rbac::resources::resolve;
use palisade_k8s::rbac::risks::{self, RiskOptions};
use palisade_k8s::rbac::{Policy, RbacData, Request};
use palisade_k8s::yaml::Limits;
use palisade_k8s::{Engine, RuleSelection, Settings};

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let none = RuleSelection {
        enable: Vec::new(),
        disable: vec!["*".into()],
    };
    let Ok(engine) = Engine::new(&none, Settings::default(), Limits::default()) else {
        return;
    };
    let t0 = Instant::now();
    let mut data = RbacData::default();
    for p in &paths {
        let text = std::fs::read_to_string(p).unwrap_or_default();
        data.extend(
            engine
                .scan_text(Arc::from(p.as_str()), &text)
                .inventory
                .rbac,
        );
    }
    let load = t0.elapsed();
    let (roles, bindings, sas) = (
        data.roles.len(),
        data.bindings.len(),
        data.service_accounts.len(),
    );
    let t1 = Instant::now();
    let policy = Policy::new(data);
    let resolve_t = t1.elapsed();
    let t2 = Instant::now();
    let rules: Vec<_> = risks::RULES.to_vec();
    let findings = risks::analyze(&policy, &rules, RiskOptions::default());
    let analyze = t2.elapsed();
    let queries = [
        ("get", "secrets", "team-001"),
        ("create", "pods/exec", "team-042"),
        ("list", "deployments", ""),
        ("escalate", "clusterroles", ""),
    ];
    let t3 = Instant::now();
    let mut allowed = 0;
    for (verb, resource, ns) in queries {
        let r = resolve(resource);
        let full = if r.subresource.is_empty() {
            r.resource.clone()
        } else {
            format!("{}/{}", r.resource, r.subresource)
        };
        allowed += policy
            .who_can(&Request::resource(
                verb,
                r.group.as_deref().unwrap_or("*"),
                &full,
                ns,
            ))
            .len();
    }
    let who_can = t3.elapsed() / queries.len() as u32;
    println!(
        "{{\"roles\": {roles}, \"bindings\": {bindings}, \"service_accounts\": {sas}, \"load_s\": {:.4}, \"resolve_s\": {:.4}, \"analyze_s\": {:.4}, \"findings\": {}, \"who_can_s\": {:.5}, \"who_can_subjects\": {allowed}}}",
        load.as_secs_f64(),
        resolve_t.as_secs_f64(),
        analyze.as_secs_f64(),
        findings.len(),
        who_can.as_secs_f64()
    );
}
