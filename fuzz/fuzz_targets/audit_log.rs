//! Kubernetes audit logs (JSON lines, `EventList` documents) as
//! `palisade rbac minimize` reads them. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_k8s::rbac::audit::AuditLog;

fuzz_target!(|data: &[u8]| {
    AuditLog::default().read("fuzz.log", data);
});
