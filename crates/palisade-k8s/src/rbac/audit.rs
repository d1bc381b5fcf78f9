//! Kubernetes audit logs (`audit.k8s.io/v1` and `v1beta1` Events, one JSON
//! object per line, or `EventList` documents): who made which request.
//! Malformed lines are counted and reported, never fatal.

use std::collections::HashSet;
use std::io::BufRead;

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
}

const MALFORMED_KEPT: usize = 50;

impl AuditLog {
    /// Reads one log; `name` is used in problem reports.
    pub fn read(&mut self, name: &str, reader: impl BufRead) {
        let mut seen: HashSet<String> = HashSet::new();
        let mut line_no = 0usize;
        let mut reader = reader;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            line_no += 1;
            match read_line_limited(&mut reader, &mut buf) {
                Ok(None) => break,
                Ok(Some(false)) => {
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
            match serde_json::from_str::<RawEvent>(trimmed) {
                Ok(ev) if ev.kind == "EventList" => {
                    for item in ev.items.unwrap_or_default() {
                        match serde_json::from_value::<RawEvent>(item) {
                            Ok(e) => self.add(e, &mut seen, name, line_no),
                            Err(err) => self.bad(name, line_no, format!("EventList item: {err}")),
                        }
                    }
                }
                Ok(ev) => self.add(ev, &mut seen, name, line_no),
                Err(e) => self.bad(name, line_no, format!("not an audit event: {e}")),
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
            || !(ev.api_version.is_empty() || ev.api_version.starts_with("audit.k8s.io/"))
        {
            self.bad(
                name,
                line,
                format!(
                    "unexpected kind `{}` / apiVersion `{}`",
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
        });
    }
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
}
