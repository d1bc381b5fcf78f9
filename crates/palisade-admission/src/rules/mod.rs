//! The webhook's own rules: what only an admission controller can see
//! (who connects to a running pod, how a running pod is changed, whether
//! an image's signature verifies in its registry). One rule per file; the
//! doc comment is the rule's documentation. Built-in configuration rules
//! and user policies come from `palisade-k8s` and `palisade-policy`.

mod attach_to_pod;
mod ephemeral_container_added;
mod exec_into_pod;
mod in_place_image_change;
mod port_forward_to_pod;
mod unsigned_image;

use palisade_core::RuleMeta;
use palisade_k8s::rules::Described;

pub use attach_to_pod::AttachToPod;
pub use ephemeral_container_added::EphemeralContainerAdded;
pub use exec_into_pod::ExecIntoPod;
pub use in_place_image_change::InPlaceImageChange;
pub use port_forward_to_pod::PortForwardToPod;
pub use unsigned_image::UnsignedImage;

/// Every admission rule, by code.
pub fn all() -> [&'static RuleMeta; 6] {
    [
        ExecIntoPod.meta(),
        AttachToPod.meta(),
        PortForwardToPod.meta(),
        EphemeralContainerAdded.meta(),
        InPlaceImageChange.meta(),
        UnsignedImage.meta(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        let all = all();
        let mut codes: Vec<&str> = all.iter().map(|m| m.code.as_ref()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for m in all {
            assert!(m.code.starts_with("ADM"), "{}", m.code);
            for section in ["## What it does", "## Why is this bad?", "## Fix"] {
                assert!(m.doc.contains(section), "{} lacks {section}", m.code);
            }
            assert!(!m.fix.is_empty());
            assert!(
                palisade_k8s::catalog()
                    .iter()
                    .all(|c| c.meta.code != m.code && c.meta.name != m.name)
            );
        }
    }
}
