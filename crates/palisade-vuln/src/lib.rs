//! Palisade's offline advisory database and vulnerability matching.

#![forbid(unsafe_code)]

pub mod version;
