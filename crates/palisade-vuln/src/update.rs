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
        .max_redirects(5);
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
    let host = lower
        .strip_prefix("http://")
        .and_then(|r| r.split(['/', ':']).next())
        .unwrap_or("");
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Ok(());
    }
    Err(Error::Download {
        url: url.to_owned(),
        message: "only https:// URLs are allowed (http:// only to localhost)".into(),
    })
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
    check_url(url)?;
    let part = dest.with_extension("zip.part");
    let etag_file = dest.with_extension("zip.etag");
    let part_etag_file = dest.with_extension("zip.part.etag");
    let mut req = agent.get(url).header("Accept-Encoding", "identity");
    if dest.is_file()
        && let Ok(etag) = fs::read_to_string(&etag_file)
    {
        req = req.header("If-None-Match", etag.trim());
    }
    let have = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let part_etag = fs::read_to_string(&part_etag_file).ok();
    if have > 0
        && let Some(etag) = &part_etag
    {
        req = req
            .header("Range", &format!("bytes={have}-"))
            .header("If-Range", etag.trim());
    }
    let mut resp = req.call().map_err(|e| dl_err(url, e))?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(None);
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
    if let Some(expected) = sidecar_sha256(agent, url)?
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
    let mut resp = agent
        .get(&sidecar)
        .call()
        .map_err(|e| dl_err(&sidecar, e))?;
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
    let agent = agent(config)?;
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
            Ok(None) => results.push((eco.clone(), Outcome::Unchanged)),
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
    fs::rename(&next, &live).map_err(|e| Error::store(&live, e))?;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(results)
}
