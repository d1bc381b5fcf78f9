//! Kubernetes manifests for Palisade: YAML with spans, the object model,
//! pod-spec access across workload kinds, and the built-in rules.

pub mod object;
pub mod rules;
pub mod scan;
pub mod selector;
pub mod settings;
pub mod workload;
pub mod yaml;

pub use object::{Object, SourceFile};
pub use rules::{RuleSelection, catalog};
pub use scan::{Engine, ObjectAnalyzer, Outcome};
pub use settings::Settings;
