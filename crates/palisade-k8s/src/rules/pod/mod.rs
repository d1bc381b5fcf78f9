//! Rules on the pod spec as a whole: host namespaces, volumes, service
//! accounts and pod-level security settings.
