//! PHP: `composer.lock` (`packages` and `packages-dev`, licences, edges).

#![deny(clippy::indexing_slicing)]

use std::collections::BTreeMap;

use serde_json::Value;

use super::Ctx;
use crate::component::{Component, Ecosystem};
use crate::error::Result;

pub fn parse(bytes: &[u8], ctx: &Ctx<'_>) -> Result<Vec<Component>> {
    let v: Value = ctx.json(bytes)?;
    if !v.is_object() {
        return Err(ctx.err("composer.lock is not a JSON object"));
    }
    let mut entries = Vec::new();
    for (key, dev) in [("packages", false), ("packages-dev", true)] {
        match v.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => entries.extend(a.iter().map(|p| (p, dev))),
            Some(_) => return Err(ctx.err(format!("`{key}` is not an array"))),
        }
    }
    ctx.check_count(entries.len())?;
    let mut refs = BTreeMap::new();
    let mut out = Vec::new();
    for (p, dev) in &entries {
        let (Some(name), Some(version)) = (
            p.get("name").and_then(Value::as_str),
            p.get("version").and_then(Value::as_str),
        ) else {
            return Err(ctx.err("package entry without `name` or `version`"));
        };
        let (ns, n) = name
            .split_once('/')
            .map_or((None, name), |(a, b)| (Some(a), b));
        let mut c = Component::new(
            Ecosystem::Composer,
            ns,
            n,
            version,
            "composer-lock",
            ctx.location(),
        );
        c.dev = *dev;
        c.licenses = p
            .get("license")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        refs.insert(name.to_lowercase(), c.bom_ref.clone());
        out.push((c, *p));
    }
    Ok(out
        .into_iter()
        .map(|(mut c, p)| {
            c.depends_on = p
                .get("require")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|m| m.keys())
                .filter_map(|d| refs.get(&d.to_lowercase()).cloned())
                .collect();
            c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Limits;

    #[test]
    fn parses_composer_lock() {
        let lock = r#"{"packages":[{"name":"guzzlehttp/guzzle","version":"7.4.0","license":["MIT"],"require":{"php":">=7","guzzlehttp/psr7":"^2"}},{"name":"guzzlehttp/psr7","version":"2.1.0"}],"packages-dev":[{"name":"phpunit/phpunit","version":"9.5.0"}]}"#;
        let limits = Limits::default();
        let ctx = Ctx::new("composer.lock", &limits);
        let c = parse(lock.as_bytes(), &ctx).unwrap();
        assert_eq!(c[0].bom_ref, "pkg:composer/guzzlehttp/guzzle@7.4.0");
        assert_eq!(c[0].osv_name(), "guzzlehttp/guzzle");
        assert_eq!(
            c[0].depends_on.iter().collect::<Vec<_>>(),
            ["pkg:composer/guzzlehttp/psr7@2.1.0"]
        );
        assert!(c[2].dev);
        assert!(parse(br#"{"packages":[{"name":"x"}]}"#, &ctx).is_err());
    }
}
