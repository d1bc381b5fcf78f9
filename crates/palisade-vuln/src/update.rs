//! `palisade db update`: downloads per-ecosystem OSV dumps
//! (`<base>/<ecosystem>/all.zip`, by default the public OSV bucket) over
//! HTTPS (rustls), resumes interrupted downloads with `Range`/`If-Range`,
//! skips unchanged ones with `If-None-Match`, checks the size against
//! `Content-Length`/`Content-Range`, the MD5 in Google Cloud Storage's
//! `x-goog-hash` header and a `<url>.sha256` file when the server has one,
//! then imports them into a copy of the store and swaps the copy in with
//! one rename — a failed update leaves the old database untouched.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::import::{Detected, Kind, import_one};
use crate::store::{STORE_FILE, SourceInfo, Store};

/// The public OSV bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// Ecosystems downloaded by default: those Palisade catalogues.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "Alpine",
    "crates.io",
    "Debian",
    "Go",
    "Maven",
    "npm",
    "NuGet",
    "Packagist",
    "PyPI",
    "RubyGems",
    "Ubuntu",
];

/// Largest dump downloaded.
pub const MAX_DUMP_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// What to download and how.
#[derive(Debug, Clone)]
pub struct Config {
    pub base_url: String,
    pub ecosystems: Vec<String>,
    /// Extra PEM root certificates (a private mirror's CA); when set, only
    /// these are trusted.
    pub ca_certs: Option<PathBuf>,
    pub timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.to_owned(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|s| (*s).to_owned()).collect(),
            ca_certs: None,
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// What happened to one ecosystem.
#[derive(Debug)]
pub enum Outcome {
    /// Downloaded (fully or resumed) and imported.
    Updated {
        info: SourceInfo,
        bytes: u64,
        resumed_from: u64,
    },
    /// The server said the dump has not changed.
    Unchanged,
    Failed(Error),
}

fn agent(config: &Config) -> Result<ureq::Agent> {
    let mut builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(config.timeout))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // Redirects are followed by `get`, which checks every hop's URL:
        // an HTTPS mirror must not send us to plain HTTP elsewhere.
        .max_redirects(0);
    if let Some(ca) = &config.ca_certs {
        let pem = fs::read(ca).map_err(|e| Error::input(ca.display(), e))?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
                Ok(_) => {}
                Err(e) => return Err(Error::input(ca.display(), e)),
            }
        }
        if certs.is_empty() {
            return Err(Error::input(ca.display(), "no PEM certificate in the file"));
        }
        builder = builder.tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
                .build(),
        );
    }
    Ok(builder.build().into())
}

fn check_url(url: &str) -> Result<()> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    // Plain HTTP only to this machine (a local mirror); never over a network.
    let rest = lower.strip_prefix("http://").unwrap_or("");
    let host = match rest.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080/…`.
        Some(v6) => v6.split(']').next().map_or("", |h| h),
        None => rest.split(['/', ':']).next().unwrap_or(""),
    };
    if matches!(host, "127.0.0.1" | "localhost" | "::1") {
        return Ok(());
    }
    Err(Error::Download {
        url: url.to_owned(),
        message: "only https:// URLs are allowed (http:// only to localhost)".into(),
    })
}

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 5;

/// GET `url` with `headers`, following redirects; every URL on the way
/// must pass [`check_url`] (HTTPS, or HTTP to this machine).
fn get(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&str, String)],
) -> Result<ureq::http::Response<ureq::Body>> {
    let mut current = url.to_owned();
    for _ in 0..=MAX_REDIRECTS {
        check_url(&current)?;
        let mut req = agent.get(&current);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.call().map_err(|e| dl_err(&current, e))?;
        if !resp.status().is_redirection() || resp.status().as_u16() == 304 {
            return Ok(resp);
        }
        let location = header(&resp, "location")
            .ok_or_else(|| dl_err(&current, "redirect without a Location"))?;
        current = resolve_location(&current, &location);
    }
    Err(dl_err(url, format!("more than {MAX_REDIRECTS} redirects")))
}

/// An absolute `Location`, or one relative to `base`'s origin.
fn resolve_location(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| {
            base.get(i + 3..)
                .and_then(|r| r.find('/'))
                .map(|j| i + 3 + j)
        })
        .unwrap_or(base.len());
    let origin = base.get(..origin_end).unwrap_or(base);
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        let dir = base
            .rfind('/')
            .filter(|&i| i >= origin_end)
            .map_or(origin.len(), |i| i + 1);
        format!("{}{location}", base.get(..dir).unwrap_or(base))
    }
}

fn dl_err(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Download {
        url: url.to_owned(),
        message: e.to_string(),
    }
}

fn header(resp: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Downloads `url` to `dest` (resuming `dest.part`); returns `None` when
/// unchanged (the ETag of the current `dest` still matches), else the
/// size and the offset it resumed from.
pub fn download(agent: &ureq::Agent, url: &str, dest: &Path) -> Result<Option<(u64, u64)>> {
    download_once(agent, url, dest, true)
}

/// [`download`]; `may_restart`: an interrupted download the server cannot
/// continue (416, or a 206 of a dump that changed) is discarded and
/// fetched again from the start, once.
fn download_once(
    agent: &ureq::Agent,
    url: &str,
    dest: &Path,
    may_restart: bool,
) -> Result<Option<(u64, u64)>> {
    let part = dest.with_extension("zip.part");
    let etag_file = dest.with_extension("zip.etag");
    let part_etag_file = dest.with_extension("zip.part.etag");
    let mut headers = vec![("Accept-Encoding", "identity".to_string())];
    if dest.is_file()
        && let Ok(etag) = fs::read_to_string(&etag_file)
    {
        headers.push(("If-None-Match", etag.trim().to_string()));
    }
    let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let part_etag = fs::read_to_string(&part_etag_file).ok();
    if have > 0
        && let Some(etag) = &part_etag
    {
        headers.push(("Range", format!("bytes={have}-")));
        headers.push(("If-Range", etag.trim().to_string()));
    }
    let mut resp = get(agent, url, &headers)?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(None);
    }
    // A part the server cannot continue: the range is past its end (the
    // part is complete but was never verified), or the 206 is of another
    // version of the dump (a server that ignores If-Range).
    let changed = status == 206
        && header(&resp, "etag")
            .is_some_and(|e| Some(e.trim()) != part_etag.as_deref().map(str::trim));
    if status == 416 || changed {
        let _ = fs::remove_file(&part);
        let _ = fs::remove_file(&part_etag_file);
        if may_restart {
            return download_once(agent, url, dest, false);
        }
        return Err(dl_err(url, format!("HTTP {status} on a fresh download")));
    }
    let (mut file, start) = match status {
        206 => {
            // `Content-Range: bytes START-END/TOTAL` must continue our part.
            let range = header(&resp, "content-range").unwrap_or_default();
            let start: u64 = range
                .strip_prefix("bytes ")
                .and_then(|r| r.split('-').next())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| dl_err(url, format!("bad Content-Range `{range}`")))?;
            if start != have {
                return Err(dl_err(
                    url,
                    format!("server resumed at {start}, expected {have}"),
                ));
            }
            let f = fs::OpenOptions::new()
                .append(true)
                .open(&part)
                .map_err(|e| Error::input(part.display(), e))?;
            (f, have)
        }
        200 => {
            let f = fs::File::create(&part).map_err(|e| Error::input(part.display(), e))?;
            (f, 0)
        }
        s => return Err(dl_err(url, format!("HTTP {s}"))),
    };
    let total: Option<u64> = if status == 206 {
        header(&resp, "content-range")
            .and_then(|r| r.rsplit('/').next().and_then(|t| t.parse().ok()))
    } else {
        header(&resp, "content-length").and_then(|l| l.parse().ok())
    };
    if total.is_some_and(|t| t > MAX_DUMP_BYTES) {
        return Err(dl_err(url, format!("larger than {MAX_DUMP_BYTES} bytes")));
    }
    let etag = header(&resp, "etag");
    match &etag {
        Some(e) => {
            fs::write(&part_etag_file, e).map_err(|x| Error::input(part_etag_file.display(), x))?
        }
        None => {
            let _ = fs::remove_file(&part_etag_file);
        }
    }
    let goog_md5 = header(&resp, "x-goog-hash").and_then(|h| {
        h.split(',')
            .find_map(|p| p.trim().strip_prefix("md5=").map(str::to_owned))
    });
    let mut reader = resp.body_mut().with_config().limit(MAX_DUMP_BYTES).reader();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(|e| {
            dl_err(
                url,
                format!(
                    "interrupted after {} bytes: {e} (run again to resume)",
                    start + file_len(&part)
                ),
            )
        })?;
        if n == 0 {
            break;
        }
        file.write_all(buf.get(..n).unwrap_or(&[]))
            .map_err(|e| Error::input(part.display(), e))?;
    }
    file.sync_all()
        .map_err(|e| Error::input(part.display(), e))?;
    drop(file);
    let size = file_len(&part);
    if let Some(t) = total
        && size != t
    {
        return Err(dl_err(
            url,
            format!("size {size} differs from the announced {t} (run again to resume)"),
        ));
    }
    // Checksums over the whole file (a resumed download included).
    let (md5_b64, sha_hex) = digests(&part)?;
    if let Some(expected) = goog_md5
        && expected != md5_b64
    {
        let _ = fs::remove_file(&part);
        return Err(dl_err(
            url,
            format!("MD5 {md5_b64} differs from x-goog-hash {expected}; download discarded"),
        ));
    }
    let sidecar = sidecar_sha256(agent, url).inspect_err(|_| {
        // A sidecar that cannot be read: the dump cannot be verified,
        // and its complete part must not block the next run (416).
        let _ = fs::remove_file(&part);
        let _ = fs::remove_file(&part_etag_file);
    })?;
    if let Some(expected) = sidecar
        && !expected.eq_ignore_ascii_case(&sha_hex)
    {
        let _ = fs::remove_file(&part);
        return Err(dl_err(
            url,
            format!("SHA-256 {sha_hex} differs from {url}.sha256 ({expected}); download discarded"),
        ));
    }
    fs::rename(&part, dest).map_err(|e| Error::input(dest.display(), e))?;
    let _ = fs::remove_file(&part_etag_file);
    match etag {
        Some(e) => fs::write(&etag_file, e).map_err(|x| Error::input(etag_file.display(), x))?,
        None => {
            let _ = fs::remove_file(&etag_file);
        }
    }
    Ok(Some((size, start)))
}

fn file_len(p: &Path) -> u64 {
    fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn digests(path: &Path) -> Result<(String, String)> {
    let mut f = fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let mut md5 = Md5::new();
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::input(path.display(), e))?;
        if n == 0 {
            break;
        }
        let chunk = buf.get(..n).unwrap_or(&[]);
        md5.update(chunk);
        sha.update(chunk);
    }
    let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5.finalize());
    let sha_hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((md5_b64, sha_hex))
}

/// The hex SHA-256 published next to the dump, if the server has one.
fn sidecar_sha256(agent: &ureq::Agent, url: &str) -> Result<Option<String>> {
    let sidecar = format!("{url}.sha256");
    let mut resp = get(agent, &sidecar, &[])?;
    if resp.status().as_u16() != 200 {
        return Ok(None);
    }
    let text = resp
        .body_mut()
        .with_config()
        .limit(4096)
        .read_to_string()
        .map_err(|e| dl_err(&sidecar, e))?;
    let hex = text.split_whitespace().next().unwrap_or("").to_owned();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(dl_err(&sidecar, "not a SHA-256 hex digest"));
    }
    Ok(Some(hex))
}

/// Downloads every configured ecosystem and swaps in the updated store.
/// Returns per-ecosystem outcomes; the store is replaced only when at
/// least one dump was imported and nothing failed while importing.
pub fn update(db_dir: &Path, config: &Config) -> Result<Vec<(String, Outcome)>> {
    let downloads = db_dir.join("downloads");
    fs::create_dir_all(&downloads).map_err(|e| Error::store(&downloads, e))?;
    // One update at a time: two would import into copies of the same store
    // and the last rename would drop what the other imported.
    let lock_path = db_dir.join("update.lock");
    let lock = fs::File::create(&lock_path).map_err(|e| Error::store(&lock_path, e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            return Err(Error::store(
                &lock_path,
                "another `palisade db update` is running on this database",
            ));
        }
        Err(fs::TryLockError::Error(e)) => return Err(Error::store(&lock_path, e)),
    }
    let agent = agent(config)?;
    // What the store holds, by source (read at the first 304 only: a run
    // that changes nothing leaves the file alone): a dump the server calls
    // unchanged is imported again when the store does not hold it (a lost
    // update, a deleted store).
    let mut held: Option<std::collections::HashMap<String, Option<String>>> = None;
    let mut fetched: Vec<(String, PathBuf, String, u64, u64)> = Vec::new();
    let mut results: Vec<(String, Outcome)> = Vec::new();
    for eco in &config.ecosystems {
        let url = format!(
            "{}/{}/all.zip",
            config.base_url.trim_end_matches('/'),
            eco.replace(' ', "%20")
        );
        let dest = downloads.join(format!("{}.zip", eco.replace(['/', ' ', ':'], "_")));
        match download(&agent, &url, &dest) {
            Ok(Some((bytes, resumed))) => fetched.push((eco.clone(), dest, url, bytes, resumed)),
            Ok(None) => {
                let on_disk = digests(&dest).ok().map(|d| d.1);
                let held = held.get_or_insert_with(|| {
                    Store::open(db_dir)
                        .and_then(|s| s.sources())
                        .map(|sources| sources.into_iter().map(|i| (i.name, i.sha256)).collect())
                        .unwrap_or_default()
                });
                let stored = held.get(&format!("osv:{eco}")).cloned().flatten();
                if on_disk.is_some() && on_disk == stored {
                    results.push((eco.clone(), Outcome::Unchanged));
                } else {
                    let bytes = file_len(&dest);
                    fetched.push((eco.clone(), dest, url, bytes, 0));
                }
            }
            Err(e) => results.push((eco.clone(), Outcome::Failed(e))),
        }
    }
    if fetched.is_empty() {
        return Ok(results);
    }
    // Import into a copy, then swap it in atomically.
    let live = db_dir.join(STORE_FILE);
    let next = db_dir.join(format!("{STORE_FILE}.next"));
    let _ = fs::remove_file(&next);
    if live.is_file() {
        fs::copy(&live, &next).map_err(|e| Error::store(&next, e))?;
    }
    let mut import_failed = false;
    {
        let store = Store::create_file(&next)?;
        for (eco, dest, url, bytes, resumed) in fetched {
            let d = Detected {
                kind: Kind::OsvZip,
                path: dest.clone(),
            };
            let name = format!("osv:{eco}");
            match import_one(&store, &d, &name) {
                Ok(mut info) => {
                    info.url = Some(url);
                    info.sha256 = digests(&dest).ok().map(|d| d.1);
                    results.push((
                        eco,
                        Outcome::Updated {
                            info,
                            bytes,
                            resumed_from: resumed,
                        },
                    ));
                }
                Err(e) => {
                    // A dump that verified but does not import: keep the old
                    // store and forget the dump so the next run refetches.
                    let _ = fs::remove_file(&dest);
                    let _ = fs::remove_file(dest.with_extension("zip.etag"));
                    results.push((eco, Outcome::Failed(e)));
                    import_failed = true;
                }
            }
        }
        // Record url and checksum on the sources.
        for (_, o) in &results {
            if let Outcome::Updated { info, .. } = o {
                store.set_source_info(info)?;
            }
        }
    }
    if import_failed {
        // The copy lost the failed source's old advisories: keep the old
        // store whole. The dumps that did import are kept on disk and go
        // in on the next run (the store does not hold them yet).
        let _ = fs::remove_file(&next);
        for (_, outcome) in &mut results {
            if matches!(outcome, Outcome::Updated { .. }) {
                *outcome = Outcome::Failed(Error::store(
                    &live,
                    "downloaded, not applied: another dump failed to import (run again)",
                ));
            }
        }
    } else {
        fs::rename(&next, &live).map_err(|e| Error::store(&live, e))?;
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine() {
        for ok in [
            "https://osv.example/x",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://[::1]:8080/x",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://127.0.0.2/x",
            "http://[::2]/x",
            "http://localhost.evil.example/x",
            "ftp://localhost/x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            resolve_location("https://a.example/PyPI/all.zip", "/m/all.zip"),
            "https://a.example/m/all.zip"
        );
        assert_eq!(
            resolve_location("https://a.example/PyPI/all.zip", "b.zip"),
            "https://a.example/PyPI/b.zip"
        );
    }
}
