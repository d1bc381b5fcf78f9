//! Decompresses image layer blobs and discards the result: the floor under
//! `palisade sbom` on gzip-compressed images, since one deflate stream is
//! inflated by one core. Same decoder as image scans, nothing else.
//!
//! usage: cargo run --release -p palisade-sca --example inflate -- BLOB...

use std::io::Read;

use palisade_sca::source::layer::{self, TarStream};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut total = 0u64;
    for path in std::env::args().skip(1) {
        let file = std::fs::File::open(&path)?;
        let TarStream::Stream(mut tar) = layer::decompress(file, None, &path)? else {
            return Err(format!("{path}: not a stream").into());
        };
        // Large reads, as the image scan's decompression thread makes.
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match tar.read(&mut buf)? {
                0 => break,
                n => total += n as u64,
            }
        }
    }
    println!("{total} bytes");
    Ok(())
}
