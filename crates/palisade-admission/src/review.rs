//! `admission.k8s.io/v1` AdmissionReview: the request the API server sends
//! and the response it expects.
//!
//! Requests are read in two steps: the body is parsed as JSON (serde_json's
//! recursion limit bounds nesting), then the envelope is checked field by
//! field so that every problem becomes a precise [`ReviewError`] instead of
//! a serde message, and so that a request whose `uid` can be read still gets
//! a well-formed AdmissionReview answer.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

/// The only AdmissionReview version served (the API server sends the first
/// of the webhook's `admissionReviewVersions` it supports).
pub const API_VERSION: &str = "admission.k8s.io/v1";
pub const KIND: &str = "AdmissionReview";

/// The operation of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn parse(s: &str) -> Option<Operation> {
        match s {
            "CREATE" => Some(Operation::Create),
            "UPDATE" => Some(Operation::Update),
            "DELETE" => Some(Operation::Delete),
            "CONNECT" => Some(Operation::Connect),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

/// Group, version and kind (or resource) of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupVersion {
    pub group: String,
    pub version: String,
    /// The kind (`Pod`) in `kind`, the resource (`pods`) in `resource`.
    pub name: String,
}

impl GroupVersion {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Who makes the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    pub groups: Vec<String>,
}

/// One admission request, validated.
#[derive(Debug, Clone)]
pub struct Request {
    pub uid: String,
    pub kind: GroupVersion,
    pub resource: GroupVersion,
    /// `exec`, `attach`, `portforward`, `ephemeralcontainers`, `status`…
    pub sub_resource: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The operation as sent; [`Request::operation`] is `None` for one this
    /// server does not know.
    pub operation_name: String,
    pub operation: Option<Operation>,
    pub user: UserInfo,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub dry_run: bool,
}

impl Request {
    /// `pods`, `pods/exec`: how webhook rules name what is requested.
    pub fn resource_path(&self) -> String {
        match &self.sub_resource {
            Some(sub) => format!("{}/{sub}", self.resource.name),
            None => self.resource.name.clone(),
        }
    }

    /// `Pod default/nginx`, for messages and logs.
    pub fn describe(&self) -> String {
        let name = self
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .or_else(|| {
                self.object
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/name").and_then(Value::as_str))
            })
            .or_else(|| {
                self.object
                    .as_ref()
                    .and_then(|o| o.pointer("/metadata/generateName").and_then(Value::as_str))
            })
            .unwrap_or("<unnamed>");
        match self.namespace.as_deref().filter(|n| !n.is_empty()) {
            Some(ns) => format!("{} {ns}/{name}", self.kind.name),
            None => format!("{} {name}", self.kind.name),
        }
    }

    /// The object to evaluate, with `apiVersion` and `kind` filled in from
    /// the request when the object lacks them (test fixtures and some
    /// clients omit them; the API server always sends both), and its
    /// namespace from the request. Borrowed when nothing is missing, as
    /// from the API server: a copy of a large object is not free.
    pub fn object_with_type(&self) -> Option<Cow<'_, Value>> {
        let obj = self.object.as_ref()?;
        let namespace = self.namespace.as_deref().filter(|n| !n.is_empty());
        let complete = match obj {
            Value::Object(map) => {
                map.contains_key("apiVersion")
                    && map.contains_key("kind")
                    && (namespace.is_none()
                        || map
                            .get("metadata")
                            .is_some_and(|m| !m.is_object() || m.get("namespace").is_some()))
            }
            _ => true,
        };
        if complete {
            return Some(Cow::Borrowed(obj));
        }
        let mut obj = obj.clone();
        if let Value::Object(map) = &mut obj {
            if !map.contains_key("apiVersion") {
                map.insert("apiVersion".into(), Value::String(self.kind.api_version()));
            }
            if !map.contains_key("kind") {
                map.insert("kind".into(), Value::String(self.kind.name.clone()));
            }
            if let Some(ns) = namespace {
                let metadata = map
                    .entry("metadata")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = metadata
                    && !m.contains_key("namespace")
                {
                    m.insert("namespace".into(), Value::String(ns.to_string()));
                }
            }
        }
        Some(Cow::Owned(obj))
    }
}

/// Why a body is not a usable AdmissionReview.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the body is not valid JSON: {0}")]
    Json(String),
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// The found apiVersion, and the request's `uid` when readable.
    #[error("unsupported AdmissionReview apiVersion `{0}` (expected {API_VERSION})")]
    ApiVersion(String, Option<String>),
    /// The found kind, and the request's `uid` when readable.
    #[error("unexpected kind `{0}` (expected {KIND})")]
    Kind(String, Option<String>),
    #[error("the AdmissionReview has no `request`")]
    MissingRequest,
    #[error("the request has no `uid`")]
    MissingUid,
    /// The envelope is readable (the `uid` is known) but a field is wrong.
    #[error("invalid request field `{field}`: {message}")]
    Field {
        uid: String,
        field: &'static str,
        message: String,
    },
}

impl ReviewError {
    /// The request's `uid` when it could be read: the error is then answered
    /// with an AdmissionReview rather than an HTTP 400.
    pub fn uid(&self) -> Option<&str> {
        match self {
            ReviewError::Field { uid, .. } => Some(uid),
            ReviewError::ApiVersion(_, uid) | ReviewError::Kind(_, uid) => uid.as_deref(),
            _ => None,
        }
    }
}

/// Parses and validates a request body.
pub fn parse(body: &[u8]) -> Result<Request, ReviewError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ReviewError::Json(e.to_string()))?;
    let Value::Object(mut review) = value else {
        return Err(ReviewError::NotAnObject);
    };
    // A readable `uid` gets an AdmissionReview answer even when the
    // envelope is wrong, so the failure policy decides.
    let uid = || {
        review
            .get("request")
            .and_then(|r| r.get("uid"))
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    match review.get("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        found => {
            return Err(ReviewError::ApiVersion(
                found.map(text).unwrap_or_default(),
                uid(),
            ));
        }
    }
    match review.get("kind") {
        Some(Value::String(k)) if k == KIND => {}
        found => {
            return Err(ReviewError::Kind(
                found.map(text).unwrap_or_default(),
                uid(),
            ));
        }
    }
    let Some(Value::Object(mut req)) = review.remove("request") else {
        return Err(ReviewError::MissingRequest);
    };
    let uid = match req.get("uid") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        _ => return Err(ReviewError::MissingUid),
    };
    let field = |field: &'static str, message: &str| ReviewError::Field {
        uid: uid.clone(),
        field,
        message: message.to_string(),
    };
    let kind = group_version(req.get("kind"), "kind").map_err(|m| field("kind", &m))?;
    let resource =
        group_version(req.get("resource"), "resource").map_err(|m| field("resource", &m))?;
    let operation_name = match req.get("operation") {
        Some(Value::String(op)) => op.clone(),
        _ => return Err(field("operation", "missing or not a string")),
    };
    let opt_string = |key: &'static str| -> Result<Option<String>, ReviewError> {
        match req.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(field(key, "not a string")),
        }
    };
    let sub_resource = opt_string("subResource")?;
    let name = opt_string("name")?;
    let namespace = opt_string("namespace")?;
    let user = user_info(req.get("userInfo")).map_err(|m| field("userInfo", &m))?;
    let dry_run = matches!(req.get("dryRun"), Some(Value::Bool(true)));
    let take_object = |req: &mut Map<String, Value>, key: &'static str| match req.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(field(key, "not an object")),
    };
    let object = take_object(&mut req, "object")?;
    let old_object = take_object(&mut req, "oldObject")?;
    let operation = Operation::parse(&operation_name);
    Ok(Request {
        uid,
        kind,
        resource,
        sub_resource,
        name,
        namespace,
        operation,
        operation_name,
        user,
        object,
        old_object,
        dry_run,
    })
}

fn group_version(v: Option<&Value>, what: &str) -> Result<GroupVersion, String> {
    let Some(Value::Object(m)) = v else {
        return Err("missing or not an object".into());
    };
    let get = |k: &str| match m.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        None | Some(Value::Null) => Ok(String::new()),
        Some(_) => Err(format!("`{k}` is not a string")),
    };
    let name = get(what)?;
    if name.is_empty() {
        return Err(format!("`{what}` is missing"));
    }
    Ok(GroupVersion {
        group: get("group")?,
        version: get("version")?,
        name,
    })
}

fn user_info(v: Option<&Value>) -> Result<UserInfo, String> {
    let Some(v) = v else {
        return Ok(UserInfo::default());
    };
    let Value::Object(m) = v else {
        return Err("not an object".into());
    };
    let username = match m.get("username") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(_) => return Err("`username` is not a string".into()),
    };
    let uid = match m.get("uid") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let groups = match m.get("groups") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("`groups` holds a value that is not a string")?,
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err("`groups` is not a list".into()),
    };
    Ok(UserInfo {
        username,
        uid,
        groups,
    })
}

/// `status` of a response (a `metav1.Status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub code: u16,
    pub message: String,
    /// `Forbidden`, `BadRequest`, `InternalError`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Recorded by the API server in its audit log (keys are prefixed with
    /// the webhook's name).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub audit_annotations: std::collections::BTreeMap<String, String>,
}

/// The AdmissionReview wrapping a response.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResponse<'a> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub response: &'a Response,
}

impl Response {
    pub fn allow(uid: &str) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: true,
            status: None,
            warnings: Vec::new(),
            audit_annotations: Default::default(),
        }
    }

    pub fn deny(uid: &str, code: u16, reason: &'static str, message: String) -> Response {
        Response {
            uid: uid.to_string(),
            allowed: false,
            status: Some(Status {
                code,
                message,
                reason: Some(reason),
            }),
            warnings: Vec::new(),
            audit_annotations: Default::default(),
        }
    }

    /// The AdmissionReview JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let review = ReviewResponse {
            api_version: API_VERSION,
            kind: KIND,
            response: self,
        };
        // Serializing plain strings, bools and maps cannot fail; an empty
        // body would make the API server apply its failure policy.
        serde_json::to_vec(&review).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &str) -> Vec<u8> {
        format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{request}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn parses_a_pod_creation() {
        let body = review(
            r#"{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},
                "resource":{"group":"","version":"v1","resource":"pods"},
                "namespace":"default","operation":"CREATE",
                "userInfo":{"username":"alice","groups":["dev"]},
                "object":{"metadata":{"name":"p"}}}"#,
        );
        let r = parse(&body).unwrap();
        assert_eq!(r.uid, "u1");
        assert_eq!(r.operation, Some(Operation::Create));
        assert_eq!(r.resource_path(), "pods");
        assert_eq!(r.describe(), "Pod default/p");
        let obj = r.object_with_type().unwrap();
        assert!(matches!(obj, Cow::Owned(_)));
        assert_eq!(obj["apiVersion"], "v1");
        assert_eq!(obj["kind"], "Pod");
        assert_eq!(obj["metadata"]["namespace"], "default");

        // What the API server sends names all three: no copy.
        let complete = review(
            r#"{"uid":"u2","kind":{"group":"","version":"v1","kind":"Pod"},
                "resource":{"group":"","version":"v1","resource":"pods"},
                "namespace":"default","operation":"CREATE",
                "userInfo":{"username":"alice"},
                "object":{"apiVersion":"v1","kind":"Pod",
                          "metadata":{"name":"p","namespace":"default"}}}"#,
        );
        let r = parse(&complete).unwrap();
        let obj = r.object_with_type().unwrap();
        assert!(matches!(obj, Cow::Borrowed(_)));
        assert_eq!(obj["metadata"]["namespace"], "default");
    }

    #[test]
    fn rejects_bad_envelopes() {
        assert!(matches!(parse(b"{"), Err(ReviewError::Json(_))));
        assert!(matches!(parse(b"[]"), Err(ReviewError::NotAnObject)));
        assert!(matches!(
            parse(br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}"#),
            Err(ReviewError::ApiVersion(v, None)) if v == "admission.k8s.io/v1beta1"
        ));
        assert!(matches!(
            parse(br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#),
            Err(ReviewError::Kind(_, None))
        ));
        // With a readable uid, the answer is an AdmissionReview.
        let err =
            parse(br#"{"apiVersion":"admission.k8s.io/v1","kind":"Foo","request":{"uid":"k1"}}"#)
                .unwrap_err();
        assert_eq!(err.uid(), Some("k1"));
        let err = parse(
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"b1"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.uid(), Some("b1"));
        assert_eq!(
            parse(br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#).err(),
            Some(ReviewError::MissingRequest)
        );
        assert_eq!(parse(&review("{}")).err(), Some(ReviewError::MissingUid));
        let err = parse(&review(r#"{"uid":"x","kind":{"kind":"Pod"},"resource":{"resource":"pods"},"operation":"CREATE","object":[1]}"#)).unwrap_err();
        assert_eq!(err.uid(), Some("x"));
    }

    #[test]
    fn keeps_unknown_operations_readable() {
        let r = parse(&review(
            r#"{"uid":"u","kind":{"kind":"Pod"},"resource":{"resource":"pods"},"operation":"PATCH"}"#,
        ))
        .unwrap();
        assert_eq!(r.operation, None);
        assert_eq!(r.operation_name, "PATCH");
    }

    #[test]
    fn serializes_responses() {
        let mut r = Response::deny("u", 403, "Forbidden", "no".into());
        r.warnings.push("w".into());
        let json: Value = serde_json::from_slice(&r.to_json()).unwrap();
        assert_eq!(json["apiVersion"], API_VERSION);
        assert_eq!(json["response"]["uid"], "u");
        assert_eq!(json["response"]["allowed"], false);
        assert_eq!(json["response"]["status"]["code"], 403);
        assert_eq!(json["response"]["warnings"][0], "w");
        assert!(json["response"].get("auditAnnotations").is_none());
    }
}
