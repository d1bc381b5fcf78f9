//! The advisory store: one redb file (`<db dir>/advisories.redb`) with a
//! schema version, advisories keyed by (source, id), and an index by
//! (ecosystem, package name). Importing a source first removes what the
//! same source imported before, so re-importing is idempotent; writes are
//! committed in batches, so memory stays flat however large the source.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{
    Database, MultimapTableDefinition, ReadOnlyMultimapTable, ReadOnlyTable, ReadableDatabase,
    ReadableTable, TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::advisory::{Advisory, package_key};
use crate::error::{Error, Result};
use crate::matcher::AdvisorySource;

/// Bumped on any incompatible change to the tables or record encoding, or
/// to what a record means (2: ids an advisory lists beside several CVEs are
/// `related`, no longer aliases; stores of 1 merge distinct CVEs).
pub const SCHEMA_VERSION: u32 = 2;
/// The store file inside the database directory.
pub const STORE_FILE: &str = "advisories.redb";
/// Advisories written per transaction during import.
const BATCH: usize = 1_000;
/// Problem messages kept per source (the rest are only counted).
pub const MAX_PROBLEMS: usize = 50;

const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("sources");
const RECORDS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("records");
const INDEX: MultimapTableDefinition<(&str, &str), (&str, &str)> =
    MultimapTableDefinition::new("index");

/// What one import of one source produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Unique name: the canonical path of the imported file or directory,
    /// or `osv:<ecosystem>` for downloaded dumps.
    pub name: String,
    /// `osv-dir`, `osv-zip`, `rubysec`, `nodejs-security-wg`,
    /// `alpine-secdb`, `debian-tracker-list`, `debian-oval`.
    pub kind: String,
    /// Unix time of the import.
    pub imported_at: u64,
    /// The newest date in the data (`modified`, a list date, the OVAL
    /// generator timestamp), `YYYY-MM-DD`.
    pub data_date: Option<String>,
    /// Advisories stored.
    pub advisories: u64,
    /// Withdrawn advisories (stored, never matched).
    pub withdrawn: u64,
    /// Records rejected (unparseable, missing fields, over limits).
    pub rejected: u64,
    /// Ranges or entries dropped from stored advisories (GIT ranges,
    /// unknown range types, unparseable lines of a native format).
    pub skipped: u64,
    /// The first problems, with the file (and entry) they are about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// SHA-256 of the downloaded dump, for `db update` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl SourceInfo {
    /// Records a problem (kept up to [`MAX_PROBLEMS`], always counted by
    /// the caller).
    pub fn note(&mut self, problem: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        }
    }

    /// Raises `data_date` to `date` (an RFC 3339 timestamp or a date).
    /// Placeholder dates are ignored ([`real_date`]).
    pub fn saw_date(&mut self, date: &str) {
        if let Some(d) = real_date(date)
            && self.data_date.as_deref().is_none_or(|cur| d > cur)
        {
            self.data_date = Some(d.to_owned());
        }
    }

    /// Raises `data_date` to an advisory's date: `modified`, else
    /// `published` when `modified` is missing or a placeholder.
    pub fn saw_advisory(&mut self, adv: &Advisory) {
        if real_date(&adv.modified).is_some() {
            self.saw_date(&adv.modified);
        } else {
            self.saw_date(&adv.published);
        }
    }
}

/// The `YYYY-MM-DD` of a timestamp, unless it is not a date or is a
/// placeholder: Go's vulndb publishes `modified` (and often `published`)
/// as `0001-01-01T00:00:00Z`, and a zero Unix time shows up as
/// `1970-01-01`; neither says how old the data is.
fn real_date(date: &str) -> Option<&str> {
    let d = date.trim().get(..10)?;
    let ok = d.as_bytes().get(4) == Some(&b'-')
        && d.parse::<palisade_core::date::Date>().is_ok()
        && d > "1970-01-01";
    ok.then_some(d)
}

/// The default database directory: `$XDG_CACHE_HOME/palisade/db`, else
/// `~/.cache/palisade/db`.
pub fn default_dir() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("palisade").join("db")
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Store {
    /// Opens the store of `dir`, creating the directory and file when
    /// missing (for imports).
    pub fn create(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).map_err(|e| Error::store(dir, e))?;
        Self::create_file(&dir.join(STORE_FILE))
    }

    /// Opens or creates a store file.
    pub fn create_file(path: &Path) -> Result<Store> {
        let db = Database::builder()
            .set_cache_size(64 * 1024 * 1024)
            .create(path)
            .map_err(|e| Error::store(path, e))?;
        let store = Store {
            db,
            path: path.to_owned(),
        };
        store.check_or_init_schema()?;
        Ok(store)
    }

    /// Opens an existing store (for matching and `db info`).
    pub fn open(dir: &Path) -> Result<Store> {
        let path = dir.join(STORE_FILE);
        if !path.is_file() {
            return Err(Error::Missing {
                path: dir.display().to_string(),
            });
        }
        let db = Database::builder()
            .set_cache_size(64 * 1024 * 1024)
            .open(&path)
            .map_err(|e| Error::store(&path, e))?;
        let store = Store { db, path };
        store.check_or_init_schema()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_or_init_schema(&self) -> Result<()> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let txn = self.db.begin_write().map_err(|x| e(&x))?;
        {
            let mut meta = txn.open_table(META).map_err(|x| e(&x))?;
            let found = meta
                .get("schema_version")
                .map_err(|x| e(&x))?
                .map(|v| v.value().to_owned());
            match found {
                Some(v) if v == SCHEMA_VERSION.to_string() => {}
                Some(v) => {
                    return Err(Error::Schema {
                        path: self.path.display().to_string(),
                        found: v,
                        expected: SCHEMA_VERSION,
                    });
                }
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION.to_string().as_str())
                        .map_err(|x| e(&x))?;
                }
            }
            txn.open_table(SOURCES).map_err(|x| e(&x))?;
            txn.open_table(RECORDS).map_err(|x| e(&x))?;
            txn.open_multimap_table(INDEX).map_err(|x| e(&x))?;
        }
        txn.commit().map_err(|x| e(&x))
    }

    /// Every imported source, sorted by name.
    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let txn = self.db.begin_read().map_err(|x| e(&x))?;
        let table = txn.open_table(SOURCES).map_err(|x| e(&x))?;
        let mut out = Vec::new();
        for row in table.iter().map_err(|x| e(&x))? {
            let (_, v) = row.map_err(|x| e(&x))?;
            if let Ok(info) = serde_json::from_slice::<SourceInfo>(v.value()) {
                out.push(info);
            }
        }
        Ok(out)
    }

    /// Rewrites a source's record (after adding its URL and checksum).
    pub fn set_source_info(&self, info: &SourceInfo) -> Result<()> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let txn = self.db.begin_write().map_err(|x| e(&x))?;
        {
            let mut sources = txn.open_table(SOURCES).map_err(|x| e(&x))?;
            let bytes = serde_json::to_vec(info).map_err(|x| e(&x))?;
            sources
                .insert(info.name.as_str(), bytes.as_slice())
                .map_err(|x| e(&x))?;
        }
        txn.commit().map_err(|x| e(&x))
    }

    /// Starts (re)importing source `name`: what it imported before is
    /// removed first.
    pub fn begin_source(&self, name: &str, kind: &str) -> Result<SourceWriter<'_>> {
        self.remove_source(name)?;
        Ok(SourceWriter {
            store: self,
            info: SourceInfo {
                name: name.to_owned(),
                kind: kind.to_owned(),
                imported_at: now(),
                ..SourceInfo::default()
            },
            pending: Vec::new(),
        })
    }

    /// Removes a source and its advisories.
    pub fn remove_source(&self, name: &str) -> Result<()> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        loop {
            let txn = self.db.begin_write().map_err(|x| e(&x))?;
            let done = {
                let mut records = txn.open_table(RECORDS).map_err(|x| e(&x))?;
                let mut index = txn.open_multimap_table(INDEX).map_err(|x| e(&x))?;
                let mut batch: Vec<(String, Vec<u8>)> = Vec::new();
                for row in records.range((name, "")..).map_err(|x| e(&x))? {
                    let (k, v) = row.map_err(|x| e(&x))?;
                    let (src, id) = k.value();
                    if src != name || batch.len() >= BATCH {
                        break;
                    }
                    batch.push((id.to_owned(), v.value().to_vec()));
                }
                for (id, bytes) in &batch {
                    if let Ok(adv) = serde_json::from_slice::<Advisory>(bytes) {
                        for key in index_keys(&adv) {
                            index
                                .remove((key.0.as_str(), key.1.as_str()), (name, id.as_str()))
                                .map_err(|x| e(&x))?;
                        }
                    }
                    records.remove((name, id.as_str())).map_err(|x| e(&x))?;
                }
                if batch.len() < BATCH {
                    let mut sources = txn.open_table(SOURCES).map_err(|x| e(&x))?;
                    sources.remove(name).map_err(|x| e(&x))?;
                    true
                } else {
                    false
                }
            };
            txn.commit().map_err(|x| e(&x))?;
            if done {
                return Ok(());
            }
        }
    }

    /// A reader for matching (one read transaction).
    pub fn reader(&self) -> Result<Reader> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let txn = self.db.begin_read().map_err(|x| e(&x))?;
        Ok(Reader {
            records: txn.open_table(RECORDS).map_err(|x| e(&x))?,
            index: txn.open_multimap_table(INDEX).map_err(|x| e(&x))?,
            path: self.path.clone(),
        })
    }

    /// Total advisories stored.
    pub fn count(&self) -> Result<u64> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let txn = self.db.begin_read().map_err(|x| e(&x))?;
        let t = txn.open_table(RECORDS).map_err(|x| e(&x))?;
        redb::ReadableTableMetadata::len(&t).map_err(|x| e(&x))
    }
}

/// The (ecosystem, name) keys an advisory is indexed under.
fn index_keys(adv: &Advisory) -> BTreeSet<(String, String)> {
    adv.affected
        .iter()
        .filter(|a| !a.ecosystem.is_empty() && !a.name.is_empty())
        .map(|a| package_key(&a.ecosystem, &a.name))
        .collect()
}

/// Merges a second record with the same (source, id) into the first
/// (converters emit one record per release or per file).
fn merge(into: &mut Advisory, other: Advisory) {
    for a in other.aliases {
        if !into.aliases.contains(&a) && a != into.id {
            into.aliases.push(a);
        }
    }
    for r in other.related {
        if !into.related.contains(&r) && r != into.id {
            into.related.push(r);
        }
    }
    // An id one record calls related must not merge through another's
    // alias: keep it related only.
    into.aliases.retain(|a| !into.related.contains(a));
    for a in other.affected {
        if !into.affected.contains(&a) {
            into.affected.push(a);
        }
    }
    for r in other.references {
        if !into.references.contains(&r) {
            into.references.push(r);
        }
    }
    if into.summary.is_empty() {
        into.summary = other.summary;
    }
    if into.details.is_empty() {
        into.details = other.details;
    }
    if other.modified > into.modified {
        into.modified = other.modified;
    }
    if into.database_severity.is_none() {
        into.database_severity = other.database_severity;
    }
    for s in other.severity {
        if !into.severity.contains(&s) {
            into.severity.push(s);
        }
    }
}

/// Writes one source's advisories.
#[derive(Debug)]
pub struct SourceWriter<'a> {
    store: &'a Store,
    pub info: SourceInfo,
    pending: Vec<Advisory>,
}

impl SourceWriter<'_> {
    /// Adds an advisory (merged with an earlier one of the same id from
    /// this source).
    pub fn put(&mut self, adv: Advisory) -> Result<()> {
        self.info.saw_advisory(&adv);
        if adv.withdrawn.is_some() {
            self.info.withdrawn += 1;
        }
        self.info.skipped += adv
            .affected
            .iter()
            .map(|a| a.skipped.len() as u64)
            .sum::<u64>();
        self.pending.push(adv);
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Counts a rejected record and keeps its message.
    pub fn reject(&mut self, problem: String) {
        self.info.rejected += 1;
        self.info.note(problem);
    }

    /// Counts a skipped part of a record and keeps its message.
    pub fn skip(&mut self, problem: String) {
        self.info.skipped += 1;
        self.info.note(problem);
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = &self.store.path;
        let e = |x: &dyn std::fmt::Display| Error::store(path, x);
        let name = self.info.name.clone();
        let txn = self.store.db.begin_write().map_err(|x| e(&x))?;
        {
            let mut records = txn.open_table(RECORDS).map_err(|x| e(&x))?;
            let mut index = txn.open_multimap_table(INDEX).map_err(|x| e(&x))?;
            for mut adv in self.pending.drain(..) {
                let existing = records
                    .get((name.as_str(), adv.id.as_str()))
                    .map_err(|x| e(&x))?
                    .and_then(|v| serde_json::from_slice::<Advisory>(v.value()).ok());
                match existing {
                    Some(mut old) => {
                        merge(&mut old, adv);
                        adv = old;
                    }
                    None => self.info.advisories += 1,
                }
                let bytes = serde_json::to_vec(&adv).map_err(|x| e(&x))?;
                records
                    .insert((name.as_str(), adv.id.as_str()), bytes.as_slice())
                    .map_err(|x| e(&x))?;
                for key in index_keys(&adv) {
                    index
                        .insert(
                            (key.0.as_str(), key.1.as_str()),
                            (name.as_str(), adv.id.as_str()),
                        )
                        .map_err(|x| e(&x))?;
                }
            }
        }
        txn.commit().map_err(|x| e(&x))
    }

    /// Writes what is pending and the source's record.
    pub fn finish(mut self) -> Result<SourceInfo> {
        self.flush()?;
        let path = &self.store.path;
        let e = |x: &dyn std::fmt::Display| Error::store(path, x);
        let txn = self.store.db.begin_write().map_err(|x| e(&x))?;
        {
            let mut sources = txn.open_table(SOURCES).map_err(|x| e(&x))?;
            let bytes = serde_json::to_vec(&self.info).map_err(|x| e(&x))?;
            sources
                .insert(self.info.name.as_str(), bytes.as_slice())
                .map_err(|x| e(&x))?;
        }
        txn.commit().map_err(|x| e(&x))?;
        Ok(self.info)
    }
}

/// Reads advisories by package, inside one read transaction.
pub struct Reader {
    records: ReadOnlyTable<(&'static str, &'static str), &'static [u8]>,
    index: ReadOnlyMultimapTable<(&'static str, &'static str), (&'static str, &'static str)>,
    path: PathBuf,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader").field("path", &self.path).finish()
    }
}

impl AdvisorySource for Reader {
    fn lookup(&self, ecosystem: &str, name: &str) -> Result<Vec<Advisory>> {
        let e = |x: &dyn std::fmt::Display| Error::store(&self.path, x);
        let mut out = Vec::new();
        for v in self.index.get((ecosystem, name)).map_err(|x| e(&x))? {
            let v = v.map_err(|x| e(&x))?;
            let (src, id) = v.value();
            if let Some(bytes) = self.records.get((src, id)).map_err(|x| e(&x))? {
                let adv: Advisory = serde_json::from_slice(bytes.value()).map_err(|x| e(&x))?;
                out.push(adv);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advisory::{Affected, Event, Range, RangeKind};

    fn adv(id: &str, name: &str, fixed: &str) -> Advisory {
        Advisory {
            id: id.into(),
            aliases: vec![],
            related: vec![],
            summary: "s".into(),
            details: String::new(),
            modified: "2024-05-01T00:00:00Z".into(),
            published: String::new(),
            withdrawn: None,
            severity: vec![],
            database_severity: None,
            affected: vec![Affected {
                ecosystem: "PyPI".into(),
                name: name.into(),
                ranges: vec![Range {
                    kind: RangeKind::Ecosystem,
                    events: vec![Event::Introduced("0".into()), Event::Fixed(fixed.into())],
                }],
                versions: vec![],
                severity: vec![],
                skipped: vec![],
                prepared: Default::default(),
            }],
            references: vec![],
            source: "t".into(),
        }
    }

    #[test]
    fn import_is_idempotent_and_replaces_a_source() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        for _ in 0..2 {
            let mut w = store.begin_source("a", "osv-dir").unwrap();
            w.put(adv("X-1", "Requests", "2.0")).unwrap();
            w.put(adv("X-2", "requests", "3.0")).unwrap();
            let info = w.finish().unwrap();
            assert_eq!(info.advisories, 2);
            assert_eq!(info.data_date.as_deref(), Some("2024-05-01"));
        }
        assert_eq!(store.count().unwrap(), 2);
        let r = store.reader().unwrap();
        assert_eq!(r.lookup("PyPI", "requests").unwrap().len(), 2);
        drop(r);
        // A re-import with less data removes what is gone.
        let mut w = store.begin_source("a", "osv-dir").unwrap();
        w.put(adv("X-1", "requests", "2.0")).unwrap();
        w.finish().unwrap();
        let r = store.reader().unwrap();
        assert_eq!(r.lookup("PyPI", "requests").unwrap().len(), 1);
        assert_eq!(store.sources().unwrap().len(), 1);
    }

    #[test]
    fn same_id_in_one_source_is_merged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let mut w = store.begin_source("a", "alpine-secdb").unwrap();
        w.put(adv("A-1", "x", "1.0")).unwrap();
        w.put(adv("A-1", "y", "1.0")).unwrap();
        let info = w.finish().unwrap();
        assert_eq!(info.advisories, 1);
        let r = store.reader().unwrap();
        assert_eq!(r.lookup("PyPI", "x").unwrap()[0].affected.len(), 2);
        assert_eq!(r.lookup("PyPI", "y").unwrap().len(), 1);
    }

    #[test]
    fn placeholder_dates_do_not_date_the_data() {
        // Go's vulndb: `modified` is always 0001-01-01, `published` real
        // in some records and 0001-01-01 in the others.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let mut w = store.begin_source("go", "osv-dir").unwrap();
        let mut a = adv("GO-1", "x", "1.0");
        a.modified = "0001-01-01T00:00:00Z".into();
        a.published = "0001-01-01T00:00:00Z".into();
        w.put(a.clone()).unwrap();
        assert_eq!(w.info.data_date, None, "undated, not 739,947 days old");
        a.id = "GO-2".into();
        a.published = "2026-08-20T18:01:00Z".into();
        w.put(a).unwrap();
        let mut b = adv("GO-3", "x", "1.0");
        b.modified = "1970-01-01T00:00:00Z".into();
        b.published = "2025-01-01T00:00:00Z".into();
        w.put(b).unwrap();
        let info = w.finish().unwrap();
        assert_eq!(info.data_date.as_deref(), Some("2026-08-20"));
    }

    #[test]
    fn related_ids_are_merged_and_never_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path()).unwrap();
        let mut w = store.begin_source("a", "debian-tracker-list").unwrap();
        let mut one = adv("DSA-1", "x", "1.0");
        one.aliases = vec!["CVE-1".into()];
        let mut two = adv("DSA-1", "y", "1.0");
        two.related = vec!["CVE-1".into(), "CVE-2".into()];
        w.put(one).unwrap();
        w.put(two).unwrap();
        w.finish().unwrap();
        let r = store.reader().unwrap();
        let got = &r.lookup("PyPI", "x").unwrap()[0];
        assert!(got.aliases.is_empty(), "{:?}", got.aliases);
        assert_eq!(got.related, ["CVE-1", "CVE-2"]);
    }

    #[test]
    fn schema_mismatch_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::create(dir.path()).unwrap();
            let txn = store.db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(META).unwrap();
                meta.insert("schema_version", "999").unwrap();
            }
            txn.commit().unwrap();
        }
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, Error::Schema { .. }), "{err}");
        let missing = Store::open(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(missing, Error::Missing { .. }));
    }
}
