//! `palisade guard manifests`: the DaemonSet (see docs/guard.md).
