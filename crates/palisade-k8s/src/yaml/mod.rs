//! YAML (and JSON) with positions: a span-carrying tree built from saphyr's
//! event stream, with limits for untrusted input.

mod loader;
mod node;
mod split;

pub use loader::{Document, Limits, YamlError, parse_stream, parse_stream_at};
pub use node::{Entry, Map, Node, NodeKind, Scalar, escape_pointer_token};
pub use split::{Chunk, split_documents};
