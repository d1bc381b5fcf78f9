//! Precision and recall of the built-in rules on the labelled set in
//! `tests/data/labelled.toml` (built by `tools/gen_labelled.py`): synthetic
//! secrets of every rule in varied contexts, and hard negatives
//! (placeholders, test fixtures, hashes, UUIDs, base64 images, public keys).
//!
//! Precision counts findings: a finding is right when its case is a
//! positive of that rule. Recall counts positive cases found by their rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use palisade_secrets::builtin;
use serde::Deserialize;

#[derive(Deserialize)]
struct Set {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    label: String,
    text: String,
    /// Other rules rightly firing on the same text (an AWS key pair holds
    /// an access key ID too): right when found, not required.
    #[serde(default)]
    also: Vec<String>,
}

const SET: &str = include_str!("data/labelled.toml");

#[test]
fn precision_and_recall_on_the_labelled_set() {
    let set: Set = toml::from_str(SET).unwrap();
    let rules = builtin().unwrap();
    let (mut positives, mut found, mut right, mut wrong) = (0u32, 0u32, 0u32, 0u32);
    let mut negatives = 0u32;
    let mut rules_covered = BTreeSet::new();
    let mut misses = Vec::new();
    let mut false_alarms = Vec::new();
    for case in &set.case {
        let detections = rules.detect("case.txt", case.text.as_bytes());
        let codes: Vec<&str> = detections
            .iter()
            .map(|d| rules.rule(d.rule).unwrap().code())
            .collect();
        if case.label == "none" {
            negatives += 1;
        } else {
            positives += 1;
            rules_covered.insert(case.label.clone());
            if codes.contains(&case.label.as_str()) {
                found += 1;
            } else {
                misses.push(format!(
                    "{} missed in {:?} (found {codes:?})",
                    case.label, case.text
                ));
            }
        }
        for code in codes {
            if code == case.label || case.also.iter().any(|a| a == code) {
                right += 1;
            } else {
                wrong += 1;
                false_alarms.push(format!(
                    "{code} on a `{}` case: {:?}",
                    case.label, case.text
                ));
            }
        }
    }
    let precision = f64::from(right) / f64::from((right + wrong).max(1));
    let recall = f64::from(found) / f64::from(positives.max(1));
    println!(
        "labelled set: {} cases ({positives} positives over {} rules, {negatives} negatives)",
        set.case.len(),
        rules_covered.len()
    );
    println!("findings: {right} right, {wrong} wrong; positives found: {found}/{positives}");
    println!("precision {precision:.3}, recall {recall:.3}");
    for m in &misses {
        println!("miss: {m}");
    }
    for f in &false_alarms {
        println!("false alarm: {f}");
    }
    assert!(set.case.len() >= 200);
    assert!(rules_covered.len() >= 60);
    assert!(negatives >= 100);
    assert!(precision >= 0.95, "precision {precision:.3} < 0.95");
    assert!(recall >= 0.90, "recall {recall:.3} < 0.90");
}
