//! Kubernetes manifests for Palisade: YAML with spans, the object model,
//! pod-spec access across workload kinds, and the built-in rules.

pub mod object;
// Rules first: `declare_rule!` is textually scoped, and `rbac` uses it.
#[macro_use]
pub mod rules;
pub mod rbac;
pub mod scan;
pub mod selector;
pub mod settings;
pub mod workload;
pub mod yaml;

pub use object::{Object, SourceFile};
pub use rules::{RuleSelection, catalog};
pub use scan::{Engine, ObjectAnalyzer, Outcome};
pub use settings::Settings;
