//! Helpers to build image layouts and layer tarballs in tests, including
//! malicious ones that the tar crate's safe API would refuse to write.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

pub enum Entry<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
}

fn raw_header(
    path: &str,
    ty: tar::EntryType,
    size: u64,
    mode: u32,
    link: Option<&str>,
) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    {
        let gnu = h.as_gnu_mut().unwrap();
        let b = path.as_bytes();
        gnu.name[..b.len()].copy_from_slice(b);
        if let Some(l) = link {
            let lb = l.as_bytes();
            gnu.linkname[..lb.len()].copy_from_slice(lb);
        }
    }
    h.set_entry_type(ty);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_cksum();
    h
}

/// A tar with entries written as given (paths unchecked).
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            Entry::File(p, data, mode) => {
                let h = raw_header(p, tar::EntryType::Regular, data.len() as u64, *mode, None);
                b.append(&h, *data).unwrap();
            }
            Entry::Dir(p) => {
                let h = raw_header(p, tar::EntryType::Directory, 0, 0o755, None);
                b.append(&h, &[][..]).unwrap();
            }
            Entry::Symlink(p, t) => {
                let h = raw_header(p, tar::EntryType::Symlink, 0, 0o777, Some(t));
                b.append(&h, &[][..]).unwrap();
            }
            Entry::HardLink(p, t) => {
                let h = raw_header(p, tar::EntryType::Link, 0, 0o644, Some(t));
                b.append(&h, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn digest(data: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(data))
}

pub fn put_blob(dir: &Path, data: &[u8]) -> String {
    let d = digest(data);
    let p = dir.join("blobs/sha256");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join(d.trim_start_matches("sha256:")), data).unwrap();
    d
}

/// A single-platform image manifest over `layers` (blob, media type, uncompressed tar).
pub fn image_manifest(dir: &Path, layers: &[(Vec<u8>, &str, Vec<u8>)]) -> (String, usize) {
    let diff_ids: Vec<String> = layers.iter().map(|(_, _, raw)| digest(raw)).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {}
    });
    let config = serde_json::to_vec(&config).unwrap();
    let cd = put_blob(dir, &config);
    let ls: Vec<serde_json::Value> = layers
        .iter()
        .map(|(blob, mt, _)| serde_json::json!({ "mediaType": mt, "digest": put_blob(dir, blob), "size": blob.len() }))
        .collect();
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len() },
        "layers": ls
    });
    let m = serde_json::to_vec(&m).unwrap();
    let n = m.len();
    (put_blob(dir, &m), n)
}

/// An OCI layout whose index points at one manifest.
pub fn layout(dir: &Path, layers: &[(Vec<u8>, &str, Vec<u8>)]) {
    let (md, size) = image_manifest(dir, layers);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{ "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": size,
                        "annotations": { "org.opencontainers.image.ref.name": "latest" } }]
    });
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A gzip layer from entries.
pub fn gz_layer(entries: &[Entry<'_>]) -> (Vec<u8>, &'static str, Vec<u8>) {
    let raw = tar(entries);
    (
        gzip(&raw),
        "application/vnd.oci.image.layer.v1.tar+gzip",
        raw,
    )
}

pub const OS_RELEASE: &[u8] = b"ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n";

pub fn dpkg_status(pkgs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = String::new();
    for (n, v) in pkgs {
        s.push_str(&format!(
            "Package: {n}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {v}\n\n"
        ));
    }
    s.into_bytes()
}
