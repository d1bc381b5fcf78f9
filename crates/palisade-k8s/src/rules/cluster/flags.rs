//! Command-line flags of control-plane components run as containers
//! (kubeadm static pods and the like): which containers run a component,
//! and the flags they pass it, for the control-plane flag rules.

use crate::rules::workload::image_repository;
use crate::workload::{Container, Loc, PodSpec};
use crate::yaml::Node;

/// Where a flag is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Command(usize),
    Args(usize),
    /// An environment variable (etcd reads `ETCD_<FLAG>`).
    Env(usize),
}

/// One flag as the component sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Flag {
    /// Without its leading dashes: `anonymous-auth`.
    pub name: String,
    /// `--flag=value` or `--flag value`; `true` for a bare `--flag`.
    pub value: String,
    pub source: Source,
}

/// A container running a control-plane component, and its flags.
#[derive(Debug, Clone)]
pub(super) struct Invocation<'a> {
    pub container: Container<'a>,
    pub component: &'static str,
    flags: Vec<Flag>,
    /// Prefix of environment variables that stand for flags (`ETCD_`).
    env_prefix: Option<&'static str>,
}

/// Shells whose `-c` script is read as the command line.
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash"];

fn basename(token: &str) -> &str {
    token.rsplit('/').next().unwrap_or(token)
}

/// The command and args of a container as tokens, with where each comes
/// from; a `sh -c "<script>"` wrapper is split into the script's words
/// (and the second value is true).
fn tokens<'a>(c: &Container<'a>) -> (Vec<(&'a str, Source)>, bool) {
    let list = |field: &str| -> Vec<&'a str> {
        c.get(&[field])
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .map(|n| n.scalar().map_or("", |s| s.text.as_str()))
            .collect()
    };
    let mut out: Vec<(&'a str, Source)> = Vec::new();
    out.extend(
        list("command")
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, Source::Command(i))),
    );
    out.extend(
        list("args")
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, Source::Args(i))),
    );
    let is_shell = out
        .first()
        .is_some_and(|(t, _)| SHELLS.contains(&basename(t)));
    if !is_shell {
        return (out, false);
    }
    let Some(c_flag) = out
        .iter()
        .position(|(t, _)| t.starts_with('-') && !t.starts_with("--") && t.ends_with('c'))
    else {
        return (out, false);
    };
    match out.get(c_flag + 1) {
        Some((script, source)) => {
            let source = *source;
            let words = script
                .split_whitespace()
                .map(|w| (w.trim_matches(|ch| ch == '"' || ch == '\''), source))
                .collect();
            (words, true)
        }
        None => (out, false),
    }
}

/// Parses flags from `tokens` (after the program name).
fn parse_flags(tokens: &[(&str, Source)]) -> Vec<Flag> {
    let mut flags = Vec::new();
    let mut iter = tokens.iter().peekable();
    while let Some((token, source)) = iter.next() {
        if *token == "--" {
            break;
        }
        let Some(rest) = token
            .strip_prefix("--")
            .or_else(|| token.strip_prefix('-'))
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        let (name, value) = match rest.split_once('=') {
            Some((name, value)) => (name, value.to_string()),
            None => match iter.peek() {
                Some((next, _)) if !next.starts_with('-') => {
                    let value = next.to_string();
                    iter.next();
                    (rest, value)
                }
                _ => (rest, "true".to_string()),
            },
        };
        flags.push(Flag {
            name: name.to_string(),
            value,
            source: *source,
        });
    }
    flags
}

impl<'a> Invocation<'a> {
    /// Every container of `pod` that runs `component`: named in its command
    /// line before the first `--flag`, or, without a command, the image of
    /// that name (whose entrypoint it is). With `env_prefix`, environment
    /// variables such as `ETCD_CERT_FILE` stand for flags.
    pub fn find(
        pod: &PodSpec<'a>,
        component: &'static str,
        env_prefix: Option<&'static str>,
    ) -> Vec<Invocation<'a>> {
        pod.runtime_containers()
            .filter_map(|container| {
                let (tokens, script) = tokens(&container);
                let program = if script {
                    // A script runs the component as its first command
                    // (`exec etcd ...`), not wherever its name appears.
                    let first = usize::from(tokens.first().is_some_and(|(t, _)| *t == "exec"));
                    tokens
                        .get(first)
                        .filter(|(t, _)| basename(t) == component)
                        .map(|_| first)
                } else {
                    // `kube-apiserver --flag`, `hyperkube kube-apiserver --flag`.
                    tokens
                        .iter()
                        .take_while(|(t, _)| !t.starts_with("--"))
                        .position(|(t, _)| basename(t) == component)
                };
                let rest = match program {
                    Some(i) => tokens.get(i + 1..).unwrap_or_default(),
                    None => {
                        let by_image = container.get(&["command"]).is_none()
                            && container
                                .image()
                                .is_some_and(|i| basename(&image_repository(i)) == component);
                        if !by_image {
                            return None;
                        }
                        tokens.as_slice()
                    }
                };
                let flags = parse_flags(rest);
                Some(Invocation {
                    container,
                    component,
                    flags,
                    env_prefix,
                })
            })
            .collect()
    }

    /// The flag `name` as the component reads it (the last one wins), or
    /// its environment variable.
    pub fn get(&self, name: &str) -> Option<Flag> {
        if let Some(f) = self.flags.iter().rev().find(|f| f.name == name) {
            return Some(f.clone());
        }
        let prefix = self.env_prefix?;
        let var = format!("{prefix}{}", name.to_ascii_uppercase().replace('-', "_"));
        let env = self
            .container
            .get(&["env"])
            .map(Node::items)
            .unwrap_or_default();
        env.iter().enumerate().rev().find_map(|(i, e)| {
            (e.get("name").and_then(Node::as_str) == Some(var.as_str())).then(|| Flag {
                name: name.to_string(),
                value: e
                    .get("value")
                    .and_then(Node::as_str)
                    .unwrap_or_default()
                    .to_string(),
                source: Source::Env(i),
            })
        })
    }

    /// A boolean flag's value, as Go's `strconv.ParseBool` reads it (`None`
    /// when unset or not a boolean).
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)?.value.trim() {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
            _ => None,
        }
    }

    /// Where `flag` is set, or the container when it is not.
    pub fn at(&self, flag: Option<&Flag>) -> Loc {
        match flag.map(|f| f.source) {
            Some(Source::Command(i)) => self.container.at_item(&["command"], i, &[]),
            Some(Source::Args(i)) => self.container.at_item(&["args"], i, &[]),
            Some(Source::Env(i)) => self.container.at_item(&["env"], i, &["value"]),
            None => self.container.at(&[]),
        }
    }
}

/// The findings of one invocation: each names the flag, the effect and the
/// CIS Benchmark recommendation.
#[derive(Debug)]
pub(super) struct Problems<'i, 'a> {
    inv: &'i Invocation<'a>,
    pub found: Vec<(Loc, String)>,
}

impl<'i, 'a> Problems<'i, 'a> {
    pub fn new(inv: &'i Invocation<'a>) -> Self {
        Problems {
            inv,
            found: Vec::new(),
        }
    }

    /// `flag` is set to something unsafe.
    pub fn bad(&mut self, flag: &Flag, cis: &str, effect: &str) {
        let message = format!(
            "{} runs {} with --{}={}: {effect} (CIS {cis})",
            self.inv.container.describe(),
            self.inv.component,
            flag.name,
            flag.value
        );
        self.found.push((self.inv.at(Some(flag)), message));
    }

    /// `--{name}{setting}` is missing.
    pub fn missing(&mut self, name: &str, setting: &str, cis: &str, effect: &str) {
        let message = format!(
            "{} runs {} without --{name}{setting}: {effect} (CIS {cis})",
            self.inv.container.describe(),
            self.inv.component,
        );
        self.found.push((self.inv.at(None), message));
    }

    /// Requires `--{name}` to be set to a non-empty value.
    pub fn require(&mut self, name: &str, cis: &str, effect: &str) {
        if self.inv.get(name).is_none_or(|f| f.value.trim().is_empty()) {
            self.missing(name, "", cis, effect);
        }
    }

    /// Requires boolean `--{name}` to be `want`, the component defaulting
    /// to `default` when it is unset.
    pub fn require_bool(&mut self, name: &str, want: bool, default: bool, cis: &str, effect: &str) {
        match self.inv.get(name) {
            Some(flag) if self.inv.bool(name) != Some(want) => self.bad(&flag, cis, effect),
            Some(_) => {}
            None if default != want => self.missing(name, &format!("={want}"), cis, effect),
            None => {}
        }
    }

    /// Forbids boolean `--{name}` from being `true` (its default is false).
    pub fn forbid_true(&mut self, name: &str, cis: &str, effect: &str) {
        if let Some(flag) = self.inv.get(name)
            && self.inv.bool(name) == Some(true)
        {
            self.bad(&flag, cis, effect);
        }
    }
}

/// Splits a comma-separated flag value (`--authorization-mode=Node,RBAC`).
pub(super) fn list(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(tokens: &[&str]) -> Vec<(String, String)> {
        let t: Vec<(&str, Source)> = tokens.iter().map(|t| (*t, Source::Args(0))).collect();
        parse_flags(&t)
            .into_iter()
            .map(|f| (f.name, f.value))
            .collect()
    }

    #[test]
    fn parses_both_flag_forms() {
        assert_eq!(
            flags(&["--a=1", "--b", "two", "--c", "--d=x=y", "-e", "3"]),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "two".into()),
                ("c".into(), "true".into()),
                ("d".into(), "x=y".into()),
                ("e".into(), "3".into()),
            ]
        );
        assert_eq!(
            flags(&["--a=1", "--", "--b=2"]),
            vec![("a".into(), "1".into())]
        );
    }

    #[test]
    fn splits_lists() {
        assert_eq!(list("Node, RBAC,,"), vec!["Node", "RBAC"]);
    }
}
