//! `db update` against a real HTTPS server on 127.0.0.1 (rustls, a CA made
//! by the test) serving OSV dumps built here from the committed advisory
//! fixtures: full download, 304, resume after a cut connection, checksum
//! mismatch, corrupt dump, untrusted certificate. The live store is only
//! ever replaced by a complete, verified, imported update.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use palisade_vuln::matcher::AdvisorySource;
use palisade_vuln::store::{STORE_FILE, Store};
use palisade_vuln::update::{self, Config, Outcome};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/advisories")
}

/// An OSV dump as osv.dev publishes it: one `<ID>.json` per advisory.
fn dump(dir: &Path) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            zip.start_file(f.file_name().unwrap().to_string_lossy(), opts)
                .unwrap();
            zip.write_all(&std::fs::read(&f).unwrap()).unwrap();
        }
        zip.finish().unwrap();
    }
    buf.into_inner()
}

#[derive(Default)]
struct State {
    files: BTreeMap<String, Vec<u8>>,
    /// Cut the next full response of this path after so many bytes.
    cut: Option<(String, usize)>,
    /// Request lines and their Range / If-None-Match headers.
    log: Vec<String>,
    /// Paths answered with a 302 to this Location.
    redirects: BTreeMap<String, String>,
}

struct Server {
    port: u16,
    ca_pem: PathBuf,
    state: Arc<Mutex<State>>,
    _dir: tempfile::TempDir,
}

fn respond(stream: &mut dyn Write, state: &Arc<Mutex<State>>, head: &str) {
    let mut lines = head.lines();
    let path = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut st = state.lock().unwrap();
    st.log.push(format!(
        "{path} range={} inm={}",
        headers.get("range").map_or("-", String::as_str),
        headers.get("if-none-match").map_or("-", String::as_str)
    ));
    if let Some(location) = st.redirects.get(&path) {
        let _ = write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let Some(body) = st.files.get(&path).cloned() else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let etag = format!("\"{:x}\"", Sha256::digest(&body))
        .chars()
        .take(18)
        .collect::<String>()
        + "\"";
    if headers.get("if-none-match") == Some(&etag) {
        let _ = write!(
            stream,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n"
        );
        return;
    }
    let resume = headers
        .get("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|_| headers.get("if-range") == Some(&etag));
    match resume {
        Some(start) if start < body.len() => {
            let _ = write!(
                stream,
                "HTTP/1.1 206 Partial Content\r\nETag: {etag}\r\nContent-Range: bytes {start}-{}/{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len() - 1,
                body.len(),
                body.len() - start
            );
            let _ = stream.write_all(&body[start..]);
        }
        _ => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let cut = match &st.cut {
                Some((p, n)) if *p == path => Some(*n),
                _ => None,
            };
            if let Some(n) = cut {
                st.cut = None;
                let _ = stream.write_all(&body[..n]);
                return; // the connection drops mid-body
            }
            let _ = stream.write_all(&body);
        }
    }
}

fn read_head(stream: &mut dyn Read) -> Option<String> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some(head);
        }
        head.push_str(&line);
    }
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, cert.cert.pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![CertificateDer::from(cert.cert.der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der())),
    )
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(State::default()));
    let st = state.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let config = config.clone();
            let st = st.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(tls) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut stream = rustls::StreamOwned::new(tls, tcp);
                if let Some(head) = read_head(&mut stream) {
                    respond(&mut stream, &st, &head);
                    stream.conn.send_close_notify();
                    let _ = stream.flush();
                }
                let _ = stream.sock.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    Server {
        port,
        ca_pem,
        state,
        _dir: dir,
    }
}

impl Server {
    fn config(&self, ecosystems: &[&str]) -> Config {
        Config {
            base_url: format!("https://127.0.0.1:{}", self.port),
            ecosystems: ecosystems.iter().map(|s| (*s).to_owned()).collect(),
            ca_certs: Some(self.ca_pem.clone()),
            timeout: Duration::from_secs(60),
        }
    }
    fn put(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), body);
    }
    fn log(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

fn updated(results: &[(String, Outcome)], eco: &str) -> bool {
    results
        .iter()
        .any(|(e, o)| e == eco && matches!(o, Outcome::Updated { .. }))
}

#[test]
fn downloads_imports_and_skips_unchanged_dumps() {
    let srv = server();
    let pypi = dump(&fixtures().join("pypa"));
    srv.put("/PyPI/all.zip", pypi.clone());
    srv.put(
        "/PyPI/all.zip.sha256",
        format!("{:x}  all.zip\n", Sha256::digest(&pypi)).into_bytes(),
    );
    srv.put("/crates.io/all.zip", dump(&fixtures().join("rustsec")));
    let db = tempfile::tempdir().unwrap();
    let results = update::update(db.path(), &srv.config(&["PyPI", "crates.io"])).unwrap();
    assert!(
        updated(&results, "PyPI") && updated(&results, "crates.io"),
        "{results:?}"
    );
    let store = Store::open(db.path()).unwrap();
    let sources = store.sources().unwrap();
    let pypi_src = sources.iter().find(|s| s.name == "osv:PyPI").unwrap();
    assert_eq!(pypi_src.advisories, 25);
    assert_eq!(pypi_src.kind, "osv-zip");
    assert_eq!(
        pypi_src.sha256.as_deref(),
        Some(format!("{:x}", Sha256::digest(&pypi)).as_str())
    );
    let r = store.reader().unwrap();
    assert_eq!(r.lookup("PyPI", "requests").unwrap().len(), 5);
    assert_eq!(r.lookup("crates.io", "hyper").unwrap().len(), 7);
    drop(r);
    drop(store);
    srv.log();
    // Second run: the server answers 304, nothing is re-imported.
    let results = update::update(db.path(), &srv.config(&["PyPI"])).unwrap();
    assert!(matches!(results[0].1, Outcome::Unchanged), "{results:?}");
    assert!(srv.log()[0].contains("inm=\""), "If-None-Match sent");
    // The store lost the source (deleted, or overwritten by a concurrent
    // run): 304 or not, the dump on disk goes in again.
    std::fs::remove_file(db.path().join(STORE_FILE)).unwrap();
    let results = update::update(db.path(), &srv.config(&["PyPI"])).unwrap();
    assert!(updated(&results, "PyPI"), "{results:?}");
    assert_eq!(
        Store::open(db.path())
            .unwrap()
            .reader()
            .unwrap()
            .lookup("PyPI", "requests")
            .unwrap()
            .len(),
        5
    );
    // One update at a time.
    let lock = std::fs::File::create(db.path().join("update.lock")).unwrap();
    lock.lock().unwrap();
    let err = update::update(db.path(), &srv.config(&["PyPI"])).unwrap_err();
    assert!(err.to_string().contains("another"), "{err}");
}

/// Redirects are followed, each hop checked: an HTTPS mirror cannot send
/// the download to plain HTTP on another host.
#[test]
fn redirects_are_followed_only_to_allowed_urls() {
    let srv = server();
    let pypi = dump(&fixtures().join("pypa"));
    srv.put("/mirror/PyPI/all.zip", pypi);
    srv.state
        .lock()
        .unwrap()
        .redirects
        .insert("/PyPI/all.zip".into(), "/mirror/PyPI/all.zip".into());
    let db = tempfile::tempdir().unwrap();
    let results = update::update(db.path(), &srv.config(&["PyPI"])).unwrap();
    assert!(updated(&results, "PyPI"), "{results:?}");
    srv.state.lock().unwrap().redirects.insert(
        "/PyPI/all.zip".into(),
        "http://127.0.0.2:9/PyPI/all.zip".into(),
    );
    std::fs::remove_dir_all(db.path().join("downloads")).unwrap();
    let results = update::update(db.path(), &srv.config(&["PyPI"])).unwrap();
    match &results[0].1 {
        Outcome::Failed(e) => assert!(e.to_string().contains("only https://"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resumes_a_cut_download_with_range() {
    let srv = server();
    let body = dump(&fixtures().join("go"));
    srv.put("/Go/all.zip", body.clone());
    srv.state.lock().unwrap().cut = Some(("/Go/all.zip".into(), body.len() / 2));
    let db = tempfile::tempdir().unwrap();
    let results = update::update(db.path(), &srv.config(&["Go"])).unwrap();
    let Outcome::Failed(e) = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(e.to_string().contains("resume"), "{e}");
    assert!(!db.path().join(STORE_FILE).exists(), "no half store");
    let part = db.path().join("downloads/Go.zip.part");
    assert_eq!(
        std::fs::metadata(&part).unwrap().len() as usize,
        body.len() / 2
    );
    srv.log();
    let results = update::update(db.path(), &srv.config(&["Go"])).unwrap();
    let Outcome::Updated {
        resumed_from,
        bytes,
        ..
    } = &results[0].1
    else {
        panic!("{results:?}")
    };
    assert_eq!(*resumed_from as usize, body.len() / 2);
    assert_eq!(*bytes as usize, body.len());
    let log = srv.log();
    assert!(
        log[0].contains(&format!("range=bytes={}-", body.len() / 2)),
        "{log:?}"
    );
    let store = Store::open(db.path()).unwrap();
    assert_eq!(store.count().unwrap(), 5);
}

#[test]
fn bad_checksum_or_corrupt_dump_keeps_the_old_database() {
    let srv = server();
    let db = tempfile::tempdir().unwrap();
    srv.put("/crates.io/all.zip", dump(&fixtures().join("rustsec")));
    let results = update::update(db.path(), &srv.config(&["crates.io"])).unwrap();
    assert!(updated(&results, "crates.io"));
    let before = std::fs::read(db.path().join(STORE_FILE)).unwrap();
    // A new dump whose published SHA-256 does not match.
    let mut other = dump(&fixtures().join("go"));
    srv.put("/crates.io/all.zip", other.clone());
    srv.put(
        "/crates.io/all.zip.sha256",
        format!("{}\n", "0".repeat(64)).into_bytes(),
    );
    let results = update::update(db.path(), &srv.config(&["crates.io"])).unwrap();
    let Outcome::Failed(e) = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(e.to_string().contains("SHA-256"), "{e}");
    assert_eq!(std::fs::read(db.path().join(STORE_FILE)).unwrap(), before);
    assert!(!db.path().join("downloads/crates.io.zip.part").exists());
    // A corrupt dump with a matching checksum: the import fails, the old
    // store stays.
    other.truncate(other.len() / 3);
    srv.put("/crates.io/all.zip", other.clone());
    srv.put(
        "/crates.io/all.zip.sha256",
        format!("{:x}\n", Sha256::digest(&other)).into_bytes(),
    );
    let results = update::update(db.path(), &srv.config(&["crates.io"])).unwrap();
    let Outcome::Failed(e) = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(e.to_string().contains("zip"), "{e}");
    let store = Store::open(db.path()).unwrap();
    let r = store.reader().unwrap();
    assert_eq!(
        r.lookup("crates.io", "hyper").unwrap().len(),
        7,
        "old data intact"
    );
}

#[test]
fn refuses_an_untrusted_certificate_and_plain_http_to_other_hosts() {
    let srv = server();
    srv.put("/npm/all.zip", dump(&fixtures().join("rustsec")));
    let db = tempfile::tempdir().unwrap();
    let mut config = srv.config(&["npm"]);
    // Trust a different CA than the server's.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let pem = db.path().join("other.pem");
    std::fs::write(&pem, other.cert.pem()).unwrap();
    config.ca_certs = Some(pem);
    let results = update::update(db.path(), &config).unwrap();
    assert!(matches!(results[0].1, Outcome::Failed(_)), "{results:?}");
    config.base_url = "http://example.invalid".into();
    let results = update::update(db.path(), &config).unwrap();
    let Outcome::Failed(e) = &results[0].1 else {
        panic!("{results:?}")
    };
    assert!(e.to_string().contains("only https://"), "{e}");
    let _ = TcpStream::connect(("127.0.0.1", srv.port));
}
