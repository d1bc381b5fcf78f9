//! Loading policies from files: `.rego` modules, YAML/JSON holding
//! ValidatingAdmissionPolicies and bindings (and the params or Namespaces
//! they need), and `--data` documents. Also the discovery of VAPs, params
//! and Namespaces among the scanned inputs.

use std::path::PathBuf;
use std::sync::Arc;

use palisade_core::source::{self, Input, WalkOptions};
use palisade_k8s::object::{Object, SourceFile};
use palisade_k8s::yaml::{Chunk, Limits, parse_stream, split_documents};
use serde_json::Value;

use crate::PolicySet;
use crate::error::{LoadErrors, PolicyError};
use crate::rego::{PolicyFile, RegoOptions, RegoSet};
use crate::vap::{VapOptions, VapSet, model};

/// How policies are loaded.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub rego: RegoOptions,
    pub vap: VapOptions,
    /// Largest policy or data file read.
    pub max_file_size: u64,
    pub limits: Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            rego: RegoOptions::default(),
            vap: VapOptions::default(),
            max_file_size: 16 * 1024 * 1024,
            limits: Limits::default(),
        }
    }
}

/// Loads the policies in `paths` (files or directories) with the data
/// documents in `data`. Rego is compiled and VAPs are read; call
/// [`PolicySet::link`] once VAPs from the scanned inputs are added too.
pub fn load(
    paths: &[PathBuf],
    data: &[PathBuf],
    options: &LoadOptions,
) -> Result<PolicySet, LoadErrors> {
    let (set, sources) = read(paths, data, options);
    let compiled = sources.compile(&options.rego);
    sources.into_set(set, compiled)
}

/// The Rego modules and data documents read by [`read`], to compile, and
/// the errors met while reading the policies.
#[derive(Debug, Default)]
pub struct RegoSources {
    files: Vec<PolicyFile>,
    documents: Vec<Value>,
    pub errors: Vec<PolicyError>,
}

impl RegoSources {
    /// Compiles the modules with the data (`None` without modules); the
    /// slow part of loading, which [`read`] leaves to run beside other work.
    pub fn compile(&self, options: &RegoOptions) -> Result<Option<RegoSet>, LoadErrors> {
        if self.files.is_empty() {
            if !self.documents.is_empty() && self.errors.is_empty() {
                return Err(LoadErrors(vec![PolicyError::new(
                    "--data",
                    None,
                    "data documents were given but no .rego policy uses them",
                )]));
            }
            return Ok(None);
        }
        RegoSet::load(&self.files, &self.documents, options).map(Some)
    }

    /// The loaded set: `set` from [`read`] with what [`RegoSources::compile`]
    /// gave, or every error of reading and compiling, sorted.
    pub fn into_set(
        self,
        mut set: PolicySet,
        compiled: Result<Option<RegoSet>, LoadErrors>,
    ) -> Result<PolicySet, LoadErrors> {
        let mut errors = self.errors;
        match compiled {
            Ok(rego) => set.rego = rego,
            Err(LoadErrors(mut e)) => errors.append(&mut e),
        }
        if errors.is_empty() {
            return Ok(set);
        }
        errors.sort_by(|a, b| (&a.path, a.span).cmp(&(&b.path, b.span)));
        errors.dedup();
        Err(LoadErrors(errors))
    }
}

/// Reads the policies in `paths` and the data documents in `data`: VAPs
/// (and the params and Namespaces beside them) into the returned set, Rego
/// modules and data into [`RegoSources`], not yet compiled.
pub fn read(
    paths: &[PathBuf],
    data: &[PathBuf],
    options: &LoadOptions,
) -> (PolicySet, RegoSources) {
    let walk = WalkOptions {
        extensions: vec!["rego".into(), "yaml".into(), "yml".into(), "json".into()],
        ..WalkOptions::default()
    };
    let (inputs, walk_errors) = source::collect(paths, &walk);
    let mut errors: Vec<PolicyError> = walk_errors
        .into_iter()
        .map(|e| PolicyError::new(e.path, e.span, e.message))
        .collect();
    let mut rego_files = Vec::new();
    let mut set = PolicySet {
        rego: None,
        vap: VapSet::new(options.vap.clone()),
    };
    let mut context_objects = Vec::new();
    for input in inputs.iter().filter(|i| !matches!(i, Input::Stdin)) {
        let path = input.display().to_string();
        let text = match source::read_text(input, options.max_file_size) {
            Ok(t) => t,
            Err(e) => {
                errors.push(PolicyError::new(e.path, e.span, e.message));
                continue;
            }
        };
        if path.ends_with(".rego") {
            rego_files.push(PolicyFile { path, text });
            continue;
        }
        let (mut objects, mut errs) = policy_objects(&mut set.vap, &path, &text, &options.limits);
        errors.append(&mut errs);
        context_objects.append(&mut objects);
    }
    for obj in context_objects {
        set.vap.add_context_object(obj);
    }
    let mut documents = Vec::new();
    let data_walk = WalkOptions::default();
    let (data_inputs, data_errors) = source::collect(data, &data_walk);
    errors.extend(
        data_errors
            .into_iter()
            .map(|e| PolicyError::new(e.path, e.span, e.message)),
    );
    for input in &data_inputs {
        let Input::File { path, .. } = input else {
            continue;
        };
        match read_data(path, options) {
            Ok(mut d) => documents.append(&mut d),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let sources = RegoSources {
        files: rego_files,
        documents,
        errors,
    };
    (set, sources)
}

/// Adds the VAPs and bindings of a policy file; returns its other objects
/// (params, Namespaces shipped with the policies).
fn policy_objects(
    vap: &mut VapSet,
    path: &str,
    text: &str,
    limits: &Limits,
) -> (Vec<Value>, Vec<PolicyError>) {
    let mut others = Vec::new();
    let mut errors = Vec::new();
    let mut policy_errors = Vec::new();
    for_each_object(path, text, limits, &mut errors, |obj| {
        match vap.add_object(path, &obj.api_version, &obj.kind, &obj.root, obj.anchor()) {
            Ok(true) => {}
            Ok(false) => others.push(obj.root.to_json()),
            Err(mut e) => policy_errors.append(&mut e),
        }
    });
    errors.append(&mut policy_errors);
    (others, errors)
}

/// Whether `text` may hold an object of `kind`: it has `kind: Kind` (YAML)
/// or `"kind": "Kind"` (JSON), not merely the word — CRD schemas mention
/// kinds such as ConfigMap and Namespace all through their descriptions.
fn declares_kind(text: &str, kind: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, kind.as_bytes()).any(|at| {
        let after = bytes.get(at + kind.len()).copied();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return false;
        }
        let before = strip_quote(bytes.get(..at).unwrap_or_default().trim_ascii_end());
        before
            .trim_ascii_end()
            .strip_suffix(b":")
            .is_some_and(|b| strip_quote(b.trim_ascii_end()).ends_with(b"kind"))
    })
}

fn strip_quote(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\"")
        .or_else(|| b.strip_suffix(b"'"))
        .unwrap_or(b)
}

fn for_each_object(
    path: &str,
    text: &str,
    limits: &Limits,
    errors: &mut Vec<PolicyError>,
    f: impl FnMut(&Object),
) {
    let whole = Chunk {
        text,
        line_offset: 0,
        first_document: 0,
    };
    for_each_object_in(path, &whole, limits, errors, f);
}

/// Like [`for_each_object`] for the objects of the documents of `text`
/// that declare one of `kinds` (see [`declares_kind`]); only those are
/// parsed, with their lines and document indexes in the whole stream.
fn for_each_declared(
    path: &str,
    text: &str,
    kinds: &[&str],
    limits: &Limits,
    errors: &mut Vec<PolicyError>,
    mut f: impl FnMut(&Object),
) {
    if !kinds.iter().any(|k| declares_kind(text, k)) {
        return;
    }
    // Big streams (a 2 MB install.yaml of CRDs, or a whole `helm
    // template`) are otherwise parsed a second time, on one thread.
    for chunk in split_documents(text, 1) {
        if kinds.iter().any(|k| declares_kind(chunk.text, k)) {
            for_each_object_in(path, &chunk, limits, errors, &mut f);
        }
    }
}

fn for_each_object_in(
    path: &str,
    chunk: &Chunk<'_>,
    limits: &Limits,
    errors: &mut Vec<PolicyError>,
    mut f: impl FnMut(&Object),
) {
    let file = Arc::new(SourceFile::new(path, ""));
    let yaml_errors = parse_stream(chunk.text, limits, chunk.line_offset, |doc| {
        let Some(root) = doc.root else { return };
        for obj in Object::extract(root, &file, chunk.first_document + doc.index).objects {
            f(&obj);
        }
    });
    errors.extend(
        yaml_errors
            .into_iter()
            .map(|e| PolicyError::new(path, Some(e.span), e.message)),
    );
}

/// Reads a `--data` file: JSON or YAML (each document of a stream is merged
/// into `data`, as Conftest does).
fn read_data(
    path: &std::path::Path,
    options: &LoadOptions,
) -> Result<Vec<Value>, Vec<PolicyError>> {
    let display = path.display().to_string();
    let input = Input::File {
        path: path.to_path_buf(),
        display: display.clone().into(),
    };
    let text = source::read_text(&input, options.max_file_size)
        .map_err(|e| vec![PolicyError::new(e.path, e.span, e.message)])?;
    let mut docs = Vec::new();
    let errors = parse_stream(&text, &options.limits, 0, |doc| {
        if let Some(root) = doc.root {
            docs.push(root.to_json());
        }
    });
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| PolicyError::new(&display, Some(e.span), e.message))
            .collect());
    }
    for d in &docs {
        if !d.is_object() {
            return Err(vec![PolicyError::new(
                &display,
                None,
                "a data document must be a mapping (its keys are added under `data`)",
            )]);
        }
    }
    Ok(docs)
}

impl PolicySet {
    /// Adds the ValidatingAdmissionPolicies and bindings of one scanned
    /// input. Only texts that name them are parsed.
    pub fn discover_policies(
        &mut self,
        path: &str,
        text: &str,
        limits: &Limits,
    ) -> Vec<PolicyError> {
        // Syntax errors of the input are the scan's to report.
        let mut yaml_errors = Vec::new();
        let mut errors = Vec::new();
        let vap = &mut self.vap;
        let kinds = [model::POLICY_KIND, model::BINDING_KIND];
        for_each_declared(path, text, &kinds, limits, &mut yaml_errors, |obj| {
            if let Err(mut e) =
                vap.add_object(path, &obj.api_version, &obj.kind, &obj.root, obj.anchor())
            {
                errors.append(&mut e);
            }
        });
        errors
    }

    /// Resolves bindings (once every policy object is added) and returns
    /// the kinds of objects the evaluation needs from the inputs.
    pub fn link(&mut self) -> Vec<String> {
        self.vap.link();
        self.vap.wanted_kinds()
    }

    /// Records the Namespaces and params of one scanned input (the kinds
    /// [`PolicySet::link`] returned). Only texts naming a kind are parsed.
    pub fn discover_context(&mut self, path: &str, text: &str, kinds: &[String], limits: &Limits) {
        self.add_context(context_objects(path, text, kinds, limits));
    }

    /// Records Namespaces and params found by [`context_objects`], in order.
    pub fn add_context(&mut self, objects: Vec<Value>) {
        for obj in objects {
            self.vap.add_context_object(obj);
        }
    }
}

/// The objects of `kinds` (from [`PolicySet::link`]) in one scanned input;
/// only texts naming a kind are parsed. Free of the set, so that inputs
/// can be searched in parallel and the objects added in input order.
pub fn context_objects(path: &str, text: &str, kinds: &[String], limits: &Limits) -> Vec<Value> {
    let mut errors = Vec::new();
    let mut found = Vec::new();
    let names: Vec<&str> = kinds.iter().map(String::as_str).collect();
    for_each_declared(path, text, &names, limits, &mut errors, |obj| {
        if kinds.contains(&obj.kind) {
            found.push(obj.root.to_json());
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::declares_kind;

    #[test]
    fn finds_kind_fields_not_mentions() {
        for yes in [
            "apiVersion: v1\nkind: ConfigMap\n",
            "kind: \"ConfigMap\"\n",
            "kind: 'ConfigMap'",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}",
            "{\"kind\" : \"ConfigMap\" }",
            "kind:\n  ConfigMap\n",
            "paramKind:\n  kind: ConfigMap",
        ] {
            assert!(declares_kind(yes, "ConfigMap"), "{yes:?}");
        }
        for no in [
            "description: name of a ConfigMap in the same namespace\n",
            "kind: ConfigMapList\n",
            "configMap:\n  name: x\n",
            "ConfigMap",
            "mykind: Other\nref: ConfigMap",
        ] {
            assert!(!declares_kind(no, "ConfigMap"), "{no:?}");
        }
    }
}
