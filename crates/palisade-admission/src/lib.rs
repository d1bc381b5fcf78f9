//! Palisade's validating admission webhook.
//!
//! The webhook evaluates the same built-in rules (`palisade-k8s`) and user
//! policies (`palisade-policy`: Rego, ValidatingAdmissionPolicies) as
//! `palisade scan`, so what CI rejects the cluster rejects too; it adds
//! what only admission can see: image signatures in the registry, and who
//! execs into, attaches to or changes running pods.
//!
//! - [`review`]: `admission.k8s.io/v1` AdmissionReview in and out.
//! - [`config`]: `palisade-admission.yaml`; [`compiled`]: a configuration
//!   compiled for serving.
//! - [`handler`]: one review from body to answer (deadline, failure
//!   policy); [`pool`]: the threads that evaluate; [`immutability`],
//!   [`signature`] and [`registry`]: the admission-only checks; [`rules`]:
//!   their documentation.
//! - [`server`]: HTTPS (rustls, ring) and health listeners; [`tls`]:
//!   certificates and hot reload; [`reload`]: configuration reload.
//! - [`certs`]: a CA and serving certificate for first installs;
//!   [`manifests`]: the Kubernetes objects that install the webhook.

#![forbid(unsafe_code)]

pub mod certs;
pub mod compiled;
pub mod config;
pub mod handler;
pub mod image_ref;
pub mod immutability;
pub mod log;
pub mod manifests;
pub mod metrics;
pub mod object;
pub mod pool;
pub mod registry;
pub mod reload;
pub mod review;
pub mod rules;
pub mod server;
pub mod signature;
pub mod tls;

pub use compiled::Compiled;
pub use config::Config;
pub use handler::Admission;
pub use server::{ServeOptions, Server};
