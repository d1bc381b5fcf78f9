//! The webhook's request body: an `admission.k8s.io/v1` AdmissionReview and
//! the object in it. Any panic is a bug (it would take the webhook down).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = palisade_admission::review::parse(data) {
        let _ = request.object_with_type();
        let _ = request.describe();
    }
});
