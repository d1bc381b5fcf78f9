//! Cosign-compatible keyed signature verification.
//!
//! `cosign sign --key` stores a signature for image digest `sha256:H` as
//! the manifest tagged `sha256-H.sig` in the image's repository. Each layer
//! of that manifest is a simple-signing payload (media type
//! `application/vnd.dev.cosign.simplesigning.v1+json`) whose annotation
//! `dev.cosignproject.cosign/signature` holds the base64 DER ECDSA
//! signature (P-256, SHA-256) of the payload bytes. The payload names the
//! signed digest in `critical.image.docker-manifest-digest`.
//!
//! An image verifies when one layer's payload (fetched by its digest,
//! checked against it) carries a valid signature by the configured key
//! and names the image's digest. Results — verified or not — are cached
//! per repository and digest for the configured TTL; registry failures
//! are not cached and surface as [`Outcome::Unavailable`] so the caller
//! applies its failure policy.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::image_ref::{ImageRef, under_prefix};
use crate::registry::{MAX_PAYLOAD_BYTES, RegistryClient, RegistryError, hex};

pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The payload type cosign writes and checks.
pub const PAYLOAD_TYPE: &str = "cosign container image signature";

/// Most signature layers looked at per image (cosign appends one per
/// `cosign sign`; a repository with thousands is an attack on our time).
const MAX_SIGNATURE_LAYERS: usize = 32;
const MAX_CACHE_ENTRIES: usize = 10_000;

/// The verdict on one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Signed by the key; the digest that was verified.
    Verified { digest: String },
    /// Not signed by the key (no signature, or none that verifies): a
    /// violation of `unsigned-image`.
    Unsigned {
        digest: Option<String>,
        reason: String,
    },
    /// The registry could not answer: the failure policy decides.
    Unavailable(RegistryError),
}

/// Why a public key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid cosign public key: {0} (expected a PEM `PUBLIC KEY` holding an ECDSA P-256 key, as `cosign generate-key-pair` writes)"
)]
pub struct KeyError(pub String);

/// Parses a PEM public key.
pub fn parse_public_key(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| KeyError(e.to_string()))
}

/// Verifies images against one key, with a cache.
#[derive(Debug)]
pub struct Verifier {
    key: VerifyingKey,
    client: RegistryClient,
    ttl: Duration,
    /// Only images under these prefixes are checked (empty: all).
    scope: Vec<String>,
    cache: Mutex<HashMap<String, (Instant, Outcome)>>,
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

impl Verifier {
    pub fn new(
        key: VerifyingKey,
        insecure: &[String],
        ttl: Duration,
        scope: Vec<String>,
    ) -> Result<Verifier, String> {
        Ok(Verifier {
            key,
            client: RegistryClient::new(insecure)?,
            ttl,
            scope,
            cache: Mutex::new(HashMap::new()),
            hits: Default::default(),
            misses: Default::default(),
        })
    }

    /// Whether `image` must be signed.
    pub fn applies_to(&self, image: &ImageRef) -> bool {
        self.scope.is_empty()
            || self
                .scope
                .iter()
                .any(|p| under_prefix(&image.full_name(), p))
    }

    /// Cache hits and misses so far.
    pub fn cache_stats(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }

    /// Verifies one image reference before `deadline`.
    pub async fn verify(&self, image: &ImageRef, deadline: Instant) -> Outcome {
        use std::sync::atomic::Ordering::Relaxed;
        let digest = match &image.digest {
            Some(d) => d.clone(),
            None => match self
                .client
                .manifest(image, image.reference(), deadline)
                .await
            {
                Ok(Some(m)) => m.digest,
                Ok(None) => {
                    return Outcome::Unsigned {
                        digest: None,
                        reason: format!(
                            "{}:{} does not exist in the registry",
                            image.full_name(),
                            image.reference()
                        ),
                    };
                }
                Err(e) => return Outcome::Unavailable(e),
            },
        };
        let key = format!("{}@{digest}", image.full_name());
        if let Some(hit) = self.cached(&key) {
            self.hits.fetch_add(1, Relaxed);
            return hit;
        }
        self.misses.fetch_add(1, Relaxed);
        let outcome = self.verify_digest(image, &digest, deadline).await;
        if !matches!(outcome, Outcome::Unavailable(_)) {
            self.store(key, outcome.clone());
        }
        outcome
    }

    fn cached(&self, key: &str) -> Option<Outcome> {
        let cache = self.cache.lock().ok()?;
        let (at, outcome) = cache.get(key)?;
        (at.elapsed() < self.ttl).then(|| outcome.clone())
    }

    fn store(&self, key: String, outcome: Outcome) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHE_ENTRIES {
            let ttl = self.ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= MAX_CACHE_ENTRIES {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), outcome));
    }

    async fn verify_digest(&self, image: &ImageRef, digest: &str, deadline: Instant) -> Outcome {
        let unsigned = |reason: String| Outcome::Unsigned {
            digest: Some(digest.to_string()),
            reason,
        };
        let Some(hex_digest) = digest.strip_prefix("sha256:") else {
            return unsigned(format!("unsupported digest algorithm in {digest}"));
        };
        let tag = format!("sha256-{hex_digest}.sig");
        let manifest = match self.client.manifest(image, &tag, deadline).await {
            Ok(Some(m)) => m,
            Ok(None) => {
                return unsigned(format!(
                    "no signature: {}:{tag} does not exist",
                    image.full_name()
                ));
            }
            Err(e) => return Outcome::Unavailable(e),
        };
        let layers = match signature_layers(&manifest.body) {
            Ok(l) => l,
            Err(reason) => return unsigned(reason),
        };
        let mut reasons = Vec::new();
        for layer in layers.iter().take(MAX_SIGNATURE_LAYERS) {
            let payload = match self
                .client
                .blob(image, &layer.digest, MAX_PAYLOAD_BYTES, deadline)
                .await
            {
                Ok(Some(p)) => p,
                Ok(None) => {
                    reasons.push(format!("payload {} is missing", layer.digest));
                    continue;
                }
                Err(e) => return Outcome::Unavailable(e),
            };
            match check_layer(&self.key, layer, &payload, digest) {
                Ok(()) => {
                    return Outcome::Verified {
                        digest: digest.to_string(),
                    };
                }
                Err(r) => reasons.push(r),
            }
        }
        if reasons.is_empty() {
            reasons.push("the signature manifest has no simple-signing layer".into());
        }
        unsigned(format!(
            "no valid signature by the configured key ({})",
            reasons.join("; ")
        ))
    }
}

/// One signature layer of a `.sig` manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    pub digest: String,
    pub signature: String,
}

/// The simple-signing layers of a signature manifest.
pub fn signature_layers(manifest: &[u8]) -> Result<Vec<SignatureLayer>, String> {
    let json: Value = serde_json::from_slice(manifest)
        .map_err(|e| format!("the signature manifest is not JSON: {e}"))?;
    let layers = json
        .get("layers")
        .and_then(Value::as_array)
        .ok_or("the signature manifest has no layers")?;
    Ok(layers
        .iter()
        .filter(|l| l.get("mediaType").and_then(Value::as_str) == Some(SIMPLE_SIGNING_MEDIA_TYPE))
        .filter_map(|l| {
            Some(SignatureLayer {
                digest: l.get("digest")?.as_str()?.to_string(),
                signature: l
                    .pointer("/annotations")?
                    .get(SIGNATURE_ANNOTATION)?
                    .as_str()?
                    .to_string(),
            })
        })
        .collect())
}

/// Checks one layer: payload digest, signature, payload type and the
/// digest it names.
pub fn check_layer(
    key: &VerifyingKey,
    layer: &SignatureLayer,
    payload: &[u8],
    image_digest: &str,
) -> Result<(), String> {
    let actual = format!("sha256:{}", hex(&Sha256::digest(payload)));
    if actual != layer.digest {
        return Err(format!("payload digest mismatch for {}", layer.digest));
    }
    let sig_bytes = STANDARD
        .decode(layer.signature.trim())
        .map_err(|_| "the signature annotation is not base64".to_string())?;
    let signature = Signature::from_der(&sig_bytes)
        .or_else(|_| Signature::from_slice(&sig_bytes))
        .map_err(|_| "the signature is not an ECDSA P-256 signature".to_string())?;
    key.verify(payload, &signature)
        .map_err(|_| "the signature does not verify with the configured key".to_string())?;
    let json: Value = serde_json::from_slice(payload)
        .map_err(|_| "the signed payload is not JSON".to_string())?;
    let kind = json.pointer("/critical/type").and_then(Value::as_str);
    if kind != Some(PAYLOAD_TYPE) {
        return Err(format!(
            "the signed payload's type is {kind:?}, not `{PAYLOAD_TYPE}`"
        ));
    }
    let named = json
        .pointer("/critical/image/docker-manifest-digest")
        .and_then(Value::as_str);
    if named != Some(image_digest) {
        return Err(format!(
            "the signed payload names digest {}, not {image_digest}",
            named.unwrap_or("<none>")
        ));
    }
    Ok(())
}

/// The simple-signing payload cosign signs for an image (tests and
/// tooling use it to make signatures).
pub fn simple_signing_payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn layer(key: &SigningKey, payload: &[u8]) -> SignatureLayer {
        let sig: Signature = key.sign(payload);
        SignatureLayer {
            digest: format!("sha256:{}", hex(&Sha256::digest(payload))),
            signature: STANDARD.encode(sig.to_der().as_bytes()),
        }
    }

    #[test]
    fn checks_signature_payload_and_digest() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let vk = VerifyingKey::from(&key);
        let payload = simple_signing_payload("reg/app", D);
        assert_eq!(
            check_layer(&vk, &layer(&key, &payload), &payload, D),
            Ok(())
        );
        let err = check_layer(&vk, &layer(&other, &payload), &payload, D).unwrap_err();
        assert!(err.contains("does not verify"), "{err}");
        let other_digest = D.replace("0123", "4567");
        let err = check_layer(&vk, &layer(&key, &payload), &payload, &other_digest).unwrap_err();
        assert!(err.contains("names digest"), "{err}");
        let mut l = layer(&key, &payload);
        l.digest = other_digest;
        assert!(
            check_layer(&vk, &l, &payload, D)
                .unwrap_err()
                .contains("mismatch")
        );
    }

    #[test]
    fn parses_pem_keys() {
        use p256::pkcs8::EncodePublicKey;
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let pem = VerifyingKey::from(&key)
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap();
        assert!(parse_public_key(&pem).is_ok());
        assert!(
            parse_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
        );
    }
}
