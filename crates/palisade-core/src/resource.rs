//! Which Kubernetes (or other) resource a finding is about.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `kind/namespace/name`, as kubectl users read it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(
        rename = "apiVersion",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub api_version: Option<String>,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

impl ResourceRef {
    pub fn new(kind: impl Into<String>, namespace: Option<String>, name: Option<String>) -> Self {
        ResourceRef {
            api_version: None,
            kind: kind.into(),
            namespace,
            name,
        }
    }
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "/{ns}")?;
        }
        write!(f, "/{}", self.name.as_deref().unwrap_or("<unnamed>"))
    }
}
