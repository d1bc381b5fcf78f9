//! Analyzers plugged into the Kubernetes engine from the binary, where the
//! scanners' libraries meet (palisade-k8s and palisade-secrets do not depend
//! on each other).

pub mod k8s_secrets;
