//! VEX statements from OpenVEX and CycloneDX VEX documents: which
//! vulnerabilities do not affect which products, and why. Findings they
//! cover stay in the report, suppressed with the justification.

use std::path::Path;

use palisade_sca::Purl;
use serde_json::Value;

use crate::error::{Error, Result};

/// Largest VEX document read.
pub const MAX_VEX_BYTES: u64 = 64 * 1024 * 1024;

/// What a statement says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    NotAffected,
    Fixed,
    /// `affected` / `under_investigation` (OpenVEX), `exploitable` /
    /// `in_triage` (CycloneDX): no suppression.
    Other,
}

/// One statement: a vulnerability, the products it is about (empty: all),
/// a status and the reason given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub vulnerability: String,
    pub products: Vec<String>,
    /// Products named with `subcomponents` (OpenVEX): the statement is
    /// about those subcomponents *inside* that product, so it applies only
    /// when the product is the scanned artifact.
    pub scoped: Vec<Scoped>,
    pub status: Status,
    pub justification: String,
    /// The document it came from.
    pub origin: String,
    /// When it was made (the statement's `timestamp`, else its
    /// document's), as seconds and nanoseconds since the epoch.
    pub time: Option<(i64, u32)>,
    /// Its place among every statement read (documents in the order
    /// given): among statements made at the same time, the later wins.
    pub order: usize,
}

/// A product's identifiers and the identifiers of its subcomponents.
pub type Scoped = (Vec<String>, Vec<String>);

/// Statements from one or more documents.
#[derive(Debug, Clone, Default)]
pub struct Vex {
    pub statements: Vec<Statement>,
}

/// The identifiers of one OpenVEX product or subcomponent: `@id` and
/// `identifiers.purl`.
fn identifiers(p: &Value) -> Vec<String> {
    match p {
        Value::String(s) => vec![s.clone()],
        Value::Object(_) => [p.get("@id"), p.pointer("/identifiers/purl")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// OpenVEX products: those named alone, and those with subcomponents
/// (product identifiers, subcomponent identifiers).
fn products_openvex(v: &Value) -> (Vec<String>, Vec<Scoped>) {
    let mut plain = Vec::new();
    let mut scoped = Vec::new();
    for p in v.as_array().into_iter().flatten() {
        let subs: Vec<String> = p
            .get("subcomponents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(identifiers)
            .collect();
        if subs.is_empty() {
            plain.extend(identifiers(p));
        } else {
            scoped.push((identifiers(p), subs));
        }
    }
    (plain, scoped)
}

/// What the scanned artifact is known by: its name, image digests, tags.
#[derive(Debug, Clone, Default)]
pub struct TargetIds(pub Vec<String>);

impl TargetIds {
    /// Whether a VEX product names the artifact: the same string, or a
    /// purl (`pkg:oci/app@sha256%3A…`) or reference whose digest is one of
    /// the artifact's.
    fn matches(&self, product: &str) -> bool {
        let decoded = product.replace("%3A", ":").replace("%3a", ":");
        self.0.iter().any(|id| {
            !id.is_empty()
                && (id == product
                    || (id.starts_with("sha256:")
                        && (decoded.ends_with(&format!("@{id}"))
                            || decoded.contains(&format!("@{id}?")))))
        })
    }
}

impl Vex {
    /// Reads an OpenVEX or CycloneDX VEX JSON file.
    pub fn read_file(&mut self, path: &Path) -> Result<()> {
        let display = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::input(&display, e))?;
        if meta.len() > MAX_VEX_BYTES {
            return Err(Error::input(
                &display,
                format!("larger than {MAX_VEX_BYTES} bytes"),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::input(&display, e))?;
        self.read_bytes(&bytes, &display)
    }

    /// Reads a VEX document from memory.
    pub fn read_bytes(&mut self, bytes: &[u8], display: &str) -> Result<()> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::input(display, format!("invalid JSON: {e}")))?;
        if doc.get("statements").is_some() {
            self.openvex(&doc, display)
        } else if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
            self.cyclonedx(&doc, display)
        } else {
            Err(Error::input(
                display,
                "not a VEX document: neither OpenVEX (`statements`) nor CycloneDX (`bomFormat`)",
            ))
        }
    }

    fn openvex(&mut self, doc: &Value, display: &str) -> Result<()> {
        let statements = doc
            .get("statements")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::input(display, "`statements` is not an array"))?;
        let doc_time = timestamp(doc.get("timestamp"))
            .map_err(|e| Error::input(display, format!("document timestamp: {e}")))?;
        for (i, s) in statements.iter().enumerate() {
            let (products, scoped) = s.get("products").map(products_openvex).unwrap_or_default();
            let time = timestamp(s.get("timestamp"))
                .map_err(|e| Error::input(display, format!("statement {i}: timestamp: {e}")))?
                .or(doc_time);
            let vuln = match s.get("vulnerability") {
                Some(Value::String(v)) => v.clone(),
                Some(v @ Value::Object(_)) => v
                    .get("name")
                    .or_else(|| v.get("@id"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                _ => String::new(),
            };
            if vuln.is_empty() {
                return Err(Error::input(
                    display,
                    format!("statement {i}: no vulnerability"),
                ));
            }
            let status = match s.get("status").and_then(Value::as_str) {
                Some("not_affected") => Status::NotAffected,
                Some("fixed") => Status::Fixed,
                Some("affected" | "under_investigation") => Status::Other,
                Some(other) => {
                    return Err(Error::input(
                        display,
                        format!(
                            "statement {i}: unknown status `{other}` (not_affected, affected, fixed or under_investigation)"
                        ),
                    ));
                }
                None => {
                    return Err(Error::input(display, format!("statement {i}: no status")));
                }
            };
            let mut why: Vec<&str> = Vec::new();
            for k in ["justification", "impact_statement", "status_notes"] {
                if let Some(t) = s.get(k).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    why.push(t);
                }
            }
            self.statements.push(Statement {
                vulnerability: vuln,
                products,
                scoped,
                status,
                justification: why.join(": "),
                origin: display.to_owned(),
                time,
                order: self.statements.len(),
            });
        }
        Ok(())
    }

    fn cyclonedx(&mut self, doc: &Value, display: &str) -> Result<()> {
        let doc_time = timestamp(doc.pointer("/metadata/timestamp"))
            .map_err(|e| Error::input(display, format!("metadata.timestamp: {e}")))?;
        for (i, v) in doc
            .get("vulnerabilities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let id = v.get("id").and_then(Value::as_str).unwrap_or("");
            if id.is_empty() {
                return Err(Error::input(display, format!("vulnerability {i}: no id")));
            }
            let analysis = v.get("analysis");
            let time = timestamp(analysis.and_then(|a| a.get("lastUpdated")))
                .map_err(|e| Error::input(display, format!("vulnerability {i}: lastUpdated: {e}")))?
                .or(doc_time);
            let state = analysis
                .and_then(|a| a.get("state"))
                .and_then(Value::as_str);
            let status = match state {
                Some("not_affected" | "false_positive") => Status::NotAffected,
                Some("resolved" | "resolved_with_pedigree") => Status::Fixed,
                Some("exploitable" | "in_triage") | None => Status::Other,
                Some(other) => {
                    return Err(Error::input(
                        display,
                        format!(
                            "vulnerability {i}: unknown analysis.state `{other}` (resolved, resolved_with_pedigree, exploitable, in_triage, false_positive or not_affected)"
                        ),
                    ));
                }
            };
            // The status says not_affected / fixed already; the state is
            // kept where it says more.
            let mut why: Vec<String> = Vec::new();
            if let Some(s) =
                state.filter(|s| matches!(*s, "false_positive" | "resolved_with_pedigree"))
            {
                why.push(s.to_owned());
            }
            for k in ["justification", "detail"] {
                if let Some(t) = analysis
                    .and_then(|a| a.get(k))
                    .and_then(Value::as_str)
                    .filter(|t| !t.is_empty())
                {
                    why.push(t.to_owned());
                }
            }
            let products: Vec<String> = v
                .get("affects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| a.get("ref").and_then(Value::as_str).map(str::to_owned))
                .collect();
            let mut ids = vec![id.to_owned()];
            ids.extend(
                v.get("references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_owned)),
            );
            for vuln in ids {
                self.statements.push(Statement {
                    vulnerability: vuln,
                    products: products.clone(),
                    scoped: Vec::new(),
                    status,
                    justification: why.join(": "),
                    origin: display.to_owned(),
                    time,
                    order: self.statements.len(),
                });
            }
        }
        Ok(())
    }

    /// The statement that suppresses a vulnerability (any of `ids`) in the
    /// component with `purl` / `bom_ref`, if any: the latest statement
    /// about them decides (OpenVEX: each statement overrides the earlier
    /// ones), so `affected` after `not_affected` suppresses nothing.
    /// Products match by purl (package and, when the statement gives one,
    /// version; qualifiers ignored) or by bom-ref.
    /// A product naming the scanned artifact itself (`target`) covers
    /// all its components; a product with subcomponents covers those
    /// subcomponents only in that artifact.
    pub fn suppression(
        &self,
        ids: &[&str],
        purl: Option<&Purl>,
        bom_ref: &str,
        target: &TargetIds,
    ) -> Option<&Statement> {
        let component = |p: &String| product_matches(p, purl, bom_ref);
        self.statements
            .iter()
            .filter(|s| {
                ids.iter().any(|i| i.eq_ignore_ascii_case(&s.vulnerability))
                    && ((s.products.is_empty() && s.scoped.is_empty())
                        || s.products.iter().any(|p| component(p) || target.matches(p))
                        || s.scoped.iter().any(|(product, subs)| {
                            product.iter().any(|p| target.matches(p)) && subs.iter().any(component)
                        }))
            })
            .max_by_key(|s| (s.time, s.order))
            .filter(|s| s.status != Status::Other)
    }
}

/// An RFC 3339 timestamp (`2024-06-01T10:00:00Z`, `…+02:00`, fractions)
/// as seconds and nanoseconds since the epoch; absent is `None`.
fn timestamp(value: Option<&Value>) -> std::result::Result<Option<(i64, u32)>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.as_str().ok_or("not a string")?;
    parse_rfc3339(text)
        .map(Some)
        .ok_or_else(|| format!("`{text}` is not an RFC 3339 date-time"))
}

fn parse_rfc3339(t: &str) -> Option<(i64, u32)> {
    let num = |s: &str| -> Option<i64> {
        s.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
        s.parse().ok()
    };
    let (date, rest) = t.split_at_checked(10)?;
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, zone) = rest.split_at_checked(8)?;
    let mut c = clock.split(':');
    let (h, min, sec) = (num(c.next()?)?, num(c.next()?)?, num(c.next()?)?);
    let (nanos, zone) = match zone.strip_prefix('.') {
        Some(frac) => {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            let (f, z) = frac.split_at(digits);
            let padded = format!("{:0<9}", f.get(..f.len().min(9))?);
            (u32::try_from(num(&padded)?).ok()?, z)
        }
        None => (0, zone),
    };
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (oh, om) = zone.get(1..)?.split_once(':')?;
            sign * (num(oh)? * 3600 + num(om)? * 60)
        }
    };
    let valid = (1..=12).contains(&m) && (1..=31).contains(&day) && h < 24 && min < 60 && sec <= 60;
    if !valid || digits_ok(date, clock).is_none() {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's way.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + min * 60 + sec - offset, nanos))
}

/// `YYYY-MM-DD` and `HH:MM:SS` have their separators where they belong.
fn digits_ok(date: &str, clock: &str) -> Option<()> {
    let d = date.as_bytes();
    let c = clock.as_bytes();
    (d.get(4) == Some(&b'-')
        && d.get(7) == Some(&b'-')
        && c.get(2) == Some(&b':')
        && c.get(5) == Some(&b':'))
    .then_some(())
}

fn product_matches(product: &str, purl: Option<&Purl>, bom_ref: &str) -> bool {
    if product == bom_ref {
        return true;
    }
    let (Ok(p), Some(c)) = (product.parse::<Purl>(), purl) else {
        return false;
    };
    p.package_key() == c.package_key()
        && p.version
            .as_ref()
            .is_none_or(|v| Some(v) == c.version.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openvex_statements() {
        let doc = br#"{"@context":"https://openvex.dev/ns/v0.2.0","statements":[
          {"vulnerability":{"name":"CVE-2018-18074"},"products":[{"@id":"pkg:pypi/requests@2.19.0"}],
           "status":"not_affected","justification":"vulnerable_code_not_in_execute_path","impact_statement":"no redirects"},
          {"vulnerability":"CVE-1","products":["pkg:npm/x"],"status":"affected"}]}"#;
        let mut v = Vex::default();
        v.read_bytes(doc, "a.vex.json").unwrap();
        assert_eq!(v.statements.len(), 2);
        let purl: Purl = "pkg:pypi/requests@2.19.0".parse().unwrap();
        let s = v
            .suppression(
                &["GHSA-x", "CVE-2018-18074"],
                Some(&purl),
                "r",
                &TargetIds::default(),
            )
            .unwrap();
        assert_eq!(
            s.justification,
            "vulnerable_code_not_in_execute_path: no redirects"
        );
        let other: Purl = "pkg:pypi/requests@2.20.0".parse().unwrap();
        assert!(
            v.suppression(
                &["CVE-2018-18074"],
                Some(&other),
                "r",
                &TargetIds::default()
            )
            .is_none()
        );
        let x: Purl = "pkg:npm/x@1.0.0".parse().unwrap();
        assert!(
            v.suppression(&["CVE-1"], Some(&x), "r", &TargetIds::default())
                .is_none(),
            "affected does not suppress"
        );
    }

    /// OpenVEX: statements form a sequence, each overriding the earlier
    /// ones; the latest by timestamp decides, whatever the file order.
    #[test]
    fn the_latest_statement_decides() {
        let statement = |status: &str, time: &str| {
            format!(
                r#"{{"vulnerability":"CVE-2020-28493","products":["pkg:pypi/jinja2@2.11.2"],"status":"{status}","justification":"component_not_present","timestamp":"{time}"}}"#
            )
        };
        let doc = |a: &str, b: &str| {
            format!(r#"{{"timestamp":"2024-01-01T00:00:00Z","statements":[{a},{b}]}}"#)
        };
        let purl: Purl = "pkg:pypi/jinja2@2.11.2".parse().unwrap();
        let na = statement("not_affected", "2024-01-01T00:00:00Z");
        let affected = statement("affected", "2024-06-01T02:00:00+02:00");
        for (a, b) in [(&na, &affected), (&affected, &na)] {
            let mut v = Vex::default();
            v.read_bytes(doc(a, b).as_bytes(), "x").unwrap();
            assert!(
                v.suppression(&["CVE-2020-28493"], Some(&purl), "r", &TargetIds::default())
                    .is_none()
            );
        }
        // Across documents: the second file's later statement wins too.
        let mut v = Vex::default();
        v.read_bytes(doc(&affected, &affected).as_bytes(), "old")
            .unwrap();
        v.read_bytes(
            doc(&statement("not_affected", "2025-01-01T00:00:00.5Z"), &na).as_bytes(),
            "new",
        )
        .unwrap();
        let s = v
            .suppression(&["CVE-2020-28493"], Some(&purl), "r", &TargetIds::default())
            .unwrap();
        assert_eq!(s.origin, "new");
        assert!(
            v.read_bytes(doc(&statement("fixed", "yesterday"), &na).as_bytes(), "bad")
                .is_err()
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2024-03-01T00:00:00.25+01:00"),
            Some((1_709_247_600, 250_000_000))
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
    }

    /// A product with subcomponents covers them only inside that product;
    /// a product naming the scanned image covers all its components.
    #[test]
    fn subcomponents_apply_inside_their_product_only() {
        let doc = |product: &str, subs: &str| {
            format!(
                r#"{{"statements":[{{"vulnerability":"CVE-2020-28493","status":"not_affected","justification":"vulnerable_code_not_in_execute_path","products":[{{"@id":"{product}"{subs}}}]}}]}}"#
            )
        };
        let sub = r#","subcomponents":[{"@id":"pkg:pypi/jinja2@2.11.2"}]"#;
        let jinja: Purl = "pkg:pypi/jinja2@2.11.2".parse().unwrap();
        let this = TargetIds(vec!["app.tar".into(), format!("sha256:{}", "a".repeat(64))]);
        let check = |text: String| {
            let mut v = Vex::default();
            v.read_bytes(text.as_bytes(), "v.json").unwrap();
            v.suppression(&["CVE-2020-28493"], Some(&jinja), "r", &this)
                .is_some()
        };
        let other = format!("pkg:oci/other@sha256%3A{}", "0".repeat(64));
        let own = format!("pkg:oci/app@sha256%3A{}?arch=amd64", "a".repeat(64));
        assert!(!check(doc(&other, sub)), "another image's VEX");
        assert!(check(doc(&own, sub)), "this image's subcomponent");
        assert!(check(doc(&own, "")), "this image as a whole");
        assert!(!check(doc(&other, "")), "another image as a whole");
    }

    #[test]
    fn cyclonedx_vex() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.6","vulnerabilities":[
          {"id":"CVE-2020-1","analysis":{"state":"resolved","detail":"patched downstream"},
           "affects":[{"ref":"pkg:cargo/time@0.1.43"}]}]}"#;
        let mut v = Vex::default();
        v.read_bytes(doc, "b.cdx.json").unwrap();
        let purl: Purl = "pkg:cargo/time@0.1.43".parse().unwrap();
        let s = v
            .suppression(&["CVE-2020-1"], Some(&purl), "x", &TargetIds::default())
            .unwrap();
        assert_eq!(s.status, Status::Fixed);
        assert_eq!(s.justification, "patched downstream");
        let mut bad = Vex::default();
        let err = bad
            .read_bytes(
                br#"{"bomFormat":"CycloneDX","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"not_affectd"}}]}"#,
                "c.json",
            )
            .unwrap_err();
        assert!(err.to_string().contains("`not_affectd`"), "{err}");
    }

    #[test]
    fn bad_documents_are_errors() {
        let mut v = Vex::default();
        assert!(v.read_bytes(b"{}", "x").is_err());
        assert!(v.read_bytes(b"[", "x").is_err());
        assert!(
            v.read_bytes(
                br#"{"statements":[{"vulnerability":"CVE-1","status":"maybe"}]}"#,
                "x"
            )
            .is_err()
        );
    }
}
