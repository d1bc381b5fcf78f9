//! Kubernetes audit logs (`audit.k8s.io/v1` and `v1beta1` Events, one JSON
//! object per line, or `EventList` documents): who made which request.
//! Malformed lines are counted and reported, never fatal.

use std::collections::HashSet;
use std::io::{BufRead, Read};

use serde::Deserialize;

use super::policy::{Principal, Request, UserInfo};

/// Longest line read; longer lines are counted as malformed.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// One request from the log, as the RBAC authorizer saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditRequest {
    pub user: String,
    pub groups: Vec<String>,
    pub request: Request,
    pub timestamp: String,
    /// The API server refused it (401/403, or an authorization decision
    /// `forbid`): the subject tried it, it was never granted.
    pub denied: bool,
}

impl AuditRequest {
    /// Whether this request was made by `principal` (a group matches its
    /// members).
    pub fn made_by(&self, principal: &Principal) -> bool {
        let info: UserInfo = principal.user_info();
        match principal {
            Principal::Group(g) => self.groups.iter().any(|x| x == g),
            _ => self.user == info.name,
        }
    }
}

/// What reading the logs produced.
#[derive(Debug, Default)]
pub struct AuditLog {
    pub requests: Vec<AuditRequest>,
    /// Lines that were not audit events, with (file, line, reason), capped.
    pub malformed: Vec<(String, usize, String)>,
    pub malformed_count: usize,
    /// Events seen (before deduplication by audit ID).
    pub events: usize,
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Deserialize)]
struct RawUser {
    #[serde(default)]
    username: String,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObjectRef {
    #[serde(default)]
    resource: String,
    #[serde(default)]
    subresource: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    api_group: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default, rename = "auditID")]
    audit_id: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    verb: String,
    #[serde(default, rename = "requestURI")]
    request_uri: String,
    user: Option<RawUser>,
    impersonated_user: Option<RawUser>,
    object_ref: Option<RawObjectRef>,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    request_received_timestamp: String,
    #[serde(default)]
    stage_timestamp: String,
    items: Option<Vec<serde_json::Value>>,
    response_status: Option<RawStatus>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawStatus {
    code: Option<u16>,
}

/// Whole-document logs (a pretty-printed EventList) are read up to this.
pub const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// The audit API versions whose events this reader understands (v1alpha1
/// names the group differently in `objectRef`).
const API_VERSIONS: [&str; 2] = ["audit.k8s.io/v1", "audit.k8s.io/v1beta1"];

const MALFORMED_KEPT: usize = 50;

impl AuditLog {
    /// Reads one log; `name` is used in problem reports.
    pub fn read(&mut self, name: &str, reader: impl BufRead) {
        let mut seen: HashSet<String> = HashSet::new();
        let mut line_no = 0usize;
        let mut reader = reader;
        let mut buf = Vec::new();
        // Nothing read yet: a document that does not end on its first line
        // may be a pretty-printed EventList.
        let mut at_start = true;
        loop {
            buf.clear();
            line_no += 1;
            match read_line_limited(&mut reader, &mut buf) {
                Ok(None) => break,
                Ok(Some(false)) => {
                    at_start = false;
                    self.bad(
                        name,
                        line_no,
                        format!("line longer than {MAX_LINE_BYTES} bytes"),
                    );
                    continue;
                }
                Ok(Some(true)) => {}
                Err(e) => {
                    self.bad(name, line_no, format!("read error: {e}"));
                    break;
                }
            }
            let text = String::from_utf8_lossy(&buf);
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            let first = std::mem::replace(&mut at_start, false);
            match serde_json::from_str::<RawEvent>(trimmed) {
                Ok(ev) => self.add_document(ev, &mut seen, name, line_no),
                // A first line that opens a JSON document without closing
                // it: a pretty-printed EventList (`jq .`), read whole.
                Err(e) if e.is_eof() && first => {
                    let mut doc = buf.clone();
                    let read = (&mut reader).take(MAX_DOCUMENT_BYTES).read_to_end(&mut doc);
                    match read {
                        Err(e) => self.bad(name, line_no, format!("read error: {e}")),
                        Ok(_) => match serde_json::from_slice::<RawEvent>(&doc) {
                            Ok(ev) => self.add_document(ev, &mut seen, name, line_no),
                            Err(e) => self.bad(
                                name,
                                line_no + e.line().saturating_sub(1),
                                format!("not an audit event or EventList: {}", json_error(&e)),
                            ),
                        },
                    }
                    break;
                }
                Err(e) => self.bad(
                    name,
                    line_no,
                    format!("not an audit event: {}", json_error(&e)),
                ),
            }
        }
    }

    fn add_document(&mut self, ev: RawEvent, seen: &mut HashSet<String>, name: &str, line: usize) {
        if ev.kind != "EventList" {
            return self.add(ev, seen, name, line);
        }
        if !API_VERSIONS.contains(&ev.api_version.as_str()) && !ev.api_version.is_empty() {
            return self.bad(
                name,
                line,
                format!(
                    "unsupported apiVersion `{}` (audit.k8s.io/v1 or v1beta1)",
                    ev.api_version
                ),
            );
        }
        for item in ev.items.unwrap_or_default() {
            match serde_json::from_value::<RawEvent>(item) {
                Ok(e) => self.add(e, seen, name, line),
                Err(err) => self.bad(name, line, format!("EventList item: {}", json_error(&err))),
            }
        }
    }

    fn bad(&mut self, name: &str, line: usize, reason: String) {
        self.malformed_count += 1;
        if self.malformed.len() < MALFORMED_KEPT {
            self.malformed.push((name.to_string(), line, reason));
        }
    }

    fn add(&mut self, ev: RawEvent, seen: &mut HashSet<String>, name: &str, line: usize) {
        if !(ev.kind.is_empty() || ev.kind == "Event")
            || !(ev.api_version.is_empty() || API_VERSIONS.contains(&ev.api_version.as_str()))
        {
            self.bad(
                name,
                line,
                format!(
                    "unexpected kind `{}` / apiVersion `{}` (audit.k8s.io/v1 or v1beta1 Events)",
                    ev.kind, ev.api_version
                ),
            );
            return;
        }
        if ev.verb.is_empty() {
            self.bad(name, line, "event without a verb".into());
            return;
        }
        self.events += 1;
        // One request produces an event per stage; count it once.
        if !ev.audit_id.is_empty() && !seen.insert(ev.audit_id.clone()) {
            return;
        }
        let _ = &ev.stage;
        let denied = ev
            .response_status
            .as_ref()
            .and_then(|s| s.code)
            .is_some_and(|c| c == 401 || c == 403)
            || ev
                .annotations
                .get("authorization.k8s.io/decision")
                .is_some_and(|d| d == "forbid");
        let Some(user) = ev.impersonated_user.or(ev.user) else {
            self.bad(name, line, "event without a user".into());
            return;
        };
        let request = match ev.object_ref {
            Some(o) => Request::Resource {
                verb: ev.verb,
                group: o.api_group,
                resource: o.resource,
                subresource: o.subresource,
                namespace: o.namespace,
                name: o.name,
            },
            None => Request::NonResource {
                verb: ev.verb,
                path: ev
                    .request_uri
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            },
        };
        let timestamp = [
            ev.stage_timestamp,
            ev.request_received_timestamp,
            ev.timestamp,
        ]
        .into_iter()
        .find(|t| !t.is_empty())
        .unwrap_or_default();
        if !timestamp.is_empty() {
            if self.first.as_ref().is_none_or(|f| timestamp < *f) {
                self.first = Some(timestamp.clone());
            }
            if self.last.as_ref().is_none_or(|l| timestamp > *l) {
                self.last = Some(timestamp.clone());
            }
        }
        self.requests.push(AuditRequest {
            user: user.username,
            groups: user.groups,
            request,
            timestamp,
            denied,
        });
    }
}

/// A JSON error in the log's terms, not serde's ("expected struct RawEvent").
fn json_error(e: &serde_json::Error) -> String {
    e.to_string()
        .replace("struct RawEvent", "an audit Event object")
        .replace("struct RawUser", "a user object")
        .replace("struct RawObjectRef", "an objectRef object")
        .replace("struct RawStatus", "a responseStatus object")
}

/// Reads one line into `buf` (without the newline). `Ok(None)` at end of
/// input, `Ok(Some(false))` when the line was longer than the limit (the
/// rest of it is skipped).
fn read_line_limited(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<bool>> {
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(if any { Some(!too_long) } else { None });
        }
        any = true;
        let (chunk, found) = match memchr::memchr(b'\n', available) {
            Some(i) => (available.get(..i).unwrap_or_default(), Some(i + 1)),
            None => (available, None),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_LINE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let consumed = found.unwrap_or(available.len());
        reader.consume(consumed);
        if found.is_some() {
            return Ok(Some(!too_long));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_dedupes_stages_and_counts_bad_lines() {
        let log = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"RequestReceived","verb":"get","requestURI":"/api/v1/namespaces/ns1/pods/p","user":{"username":"alice","groups":["system:authenticated"]},"objectRef":{"resource":"pods","namespace":"ns1","name":"p","apiVersion":"v1"},"stageTimestamp":"2024-01-01T00:00:00Z"}
{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/ns1/pods/p","user":{"username":"alice"},"objectRef":{"resource":"pods","namespace":"ns1","name":"p"}}
not json
{"kind":"Event","apiVersion":"audit.k8s.io/v1beta1","auditID":"b","verb":"get","requestURI":"/healthz?verbose=1","user":{"username":"admin"},"impersonatedUser":{"username":"bob","groups":["devs"]}}
{"kind":"Pod","apiVersion":"v1"}
"#;
        let mut a = AuditLog::default();
        a.read("audit.log", log.as_bytes());
        assert_eq!(a.requests.len(), 2, "{:#?}", a.requests);
        assert_eq!(a.malformed_count, 2);
        assert_eq!(a.malformed[0].1, 3);
        assert_eq!(a.requests[1].user, "bob");
        assert_eq!(
            a.requests[1].request,
            Request::NonResource {
                verb: "get".into(),
                path: "/healthz".into()
            }
        );
        assert_eq!(a.first.as_deref(), Some("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn overlong_lines_are_malformed_not_fatal() {
        let mut text = "x".repeat(MAX_LINE_BYTES + 10);
        text.push('\n');
        text.push_str(r#"{"kind":"Event","verb":"list","user":{"username":"u"},"objectRef":{"resource":"pods"}}"#);
        let mut a = AuditLog::default();
        a.read(
            "big.log",
            std::io::BufReader::with_capacity(1024, text.as_bytes()),
        );
        assert_eq!(a.malformed_count, 1);
        assert_eq!(a.requests.len(), 1);
    }

    /// Denied requests are marked; a pretty-printed EventList is read
    /// whole; audit API versions other than v1 and v1beta1 are refused.
    #[test]
    fn denied_requests_eventlists_and_versions() {
        let event = |code: u16| {
            format!(
                r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a{code}","verb":"list","user":{{"username":"m"}},"objectRef":{{"resource":"secrets","namespace":"p"}},"responseStatus":{{"code":{code}}}}}"#
            )
        };
        let mut a = AuditLog::default();
        a.read(
            "a.log",
            format!("{}\n{}\n", event(200), event(403)).as_bytes(),
        );
        let denied: Vec<bool> = a.requests.iter().map(|r| r.denied).collect();
        assert_eq!(denied, [false, true]);

        let list = serde_json::json!({
            "kind": "EventList",
            "apiVersion": "audit.k8s.io/v1",
            "items": [serde_json::from_str::<serde_json::Value>(&event(200)).unwrap()],
        });
        let pretty = serde_json::to_string_pretty(&list).unwrap();
        let mut a = AuditLog::default();
        a.read("list.json", pretty.as_bytes());
        assert_eq!(
            (a.requests.len(), a.malformed_count),
            (1, 0),
            "{:?}",
            a.malformed
        );

        let mut a = AuditLog::default();
        a.read(
            "old.log",
            event(200).replace("/v1\"", "/v1alpha1\"").as_bytes(),
        );
        assert_eq!((a.requests.len(), a.malformed_count), (0, 1));
        assert!(a.malformed[0].2.contains("v1alpha1"), "{:?}", a.malformed);
    }
}
