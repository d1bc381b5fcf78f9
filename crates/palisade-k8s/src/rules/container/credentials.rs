//! Heuristics for credentials written literally into manifests (container
//! environment variables, ConfigMap data): secret-like names and
//! well-known secret formats. Hand-written matchers; no regex engine.
//!
//! Shared by every rule that looks for literal credentials.

/// Why a value counts as a literal credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    /// The value matches a well-known secret format (the description, e.g.
    /// "an AWS access key ID").
    Format(&'static str),
    /// A literal value under a secret-like name.
    Name,
}

impl Credential {
    /// A message suffix: `holds a literal credential`, with the format when
    /// known. Never includes the value.
    pub fn describe(self) -> String {
        match self {
            Credential::Format(what) => {
                format!("holds a literal credential (looks like {what})")
            }
            Credential::Name => "holds a literal credential".to_string(),
        }
    }
}

/// Whether `value`, stored under `name`, is a literal credential: a known
/// secret format anywhere in it, or a non-trivial literal under a
/// secret-like name.
pub(crate) fn literal_credential(name: &str, value: &str) -> Option<Credential> {
    if let Some(what) = known_secret_format(value) {
        return Some(Credential::Format(what));
    }
    (is_secret_like_name(name) && !is_non_secret_value(value)).then_some(Credential::Name)
}

/// Words matched anywhere inside a word of the name (`DBPASSWORD`).
const CONTAINED: &[&str] = &["PASSWORD", "PASSWD", "SECRET", "CREDENTIAL"];
/// Last words that make a name describe something other than the secret
/// itself (`SECRET_NAME`, `TOKEN_FILE`, `AUTH_URL`, `PASSWORD_MIN_LENGTH`).
const NOT_A_SECRET_SUFFIX: &[&str] = &[
    "FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "NAME", "USER", "USERNAME", "ID", "HOST",
    "PORT", "TYPE", "MODE", "METHOD", "ENABLED", "PROVIDER", "SERVER", "ISSUER", "REALM", "SCOPE",
    "SCOPES", "TTL", "TIMEOUT", "EXPIRY", "LENGTH", "VERSION", "REF",
];

/// The words of an identifier, uppercased: split on anything that is not
/// a letter or digit and on camelCase boundaries (`dbPassword`,
/// `APIKey` → `DB PASSWORD`, `API KEY`).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &ch) in chars.iter().enumerate() {
        if !ch.is_ascii_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = ch.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch.to_ascii_uppercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Two consecutive words (`API KEY`, `ACCESS_KEYS`), or the two glued
/// into one (`APIKEY`).
fn has_pair(words: &[String], first: &str, second: &str) -> bool {
    let glued = format!("{first}{second}");
    words
        .iter()
        .any(|w| *w == glued || *w == format!("{glued}S"))
        || words.windows(2).any(|pair| {
            pair.first().is_some_and(|a| a == first)
                && pair
                    .get(1)
                    .is_some_and(|b| b == second || *b == format!("{second}S"))
        })
}

/// Whether a variable or key name suggests it holds a secret: it contains
/// PASSWORD, PASSWD, SECRET, TOKEN, API_KEY/APIKEY, ACCESS_KEY,
/// PRIVATE_KEY, CREDENTIAL or AUTH (any case, any separator), and does not
/// end in a word such as FILE, PATH, DIR, URL, ENDPOINT, NAME or USER(NAME)
/// that makes it about something else.
pub(crate) fn is_secret_like_name(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if NOT_A_SECRET_SUFFIX.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|w| {
        CONTAINED.iter().any(|c| w.contains(c))
            || w.ends_with("TOKEN")
            || w.ends_with("TOKENS")
            || w == "AUTH"
    }) || has_pair(&words, "API", "KEY")
        || has_pair(&words, "ACCESS", "KEY")
        || has_pair(&words, "PRIVATE", "KEY")
}

/// Values that are clearly not a credential even under a secret-like name:
/// empty, a variable reference (`$(VAR)`, `${VAR}`, `{{ .Values.x }}`), a
/// boolean, a short number, an absolute path, or a URL without user info.
pub(crate) fn is_non_secret_value(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let reference = (v.starts_with("$(") && v.ends_with(')'))
        || (v.starts_with("${") && v.ends_with('}'))
        || (v.starts_with("{{") && v.ends_with("}}"));
    let boolean = ["true", "false", "yes", "no", "on", "off", "null", "none"]
        .iter()
        .any(|b| v.eq_ignore_ascii_case(b));
    let short_number = v.len() <= 8 && v.bytes().all(|b| b.is_ascii_digit());
    let path = v.starts_with('/') && !v.contains(char::is_whitespace);
    let url = (v.starts_with("http://") || v.starts_with("https://")) && !v.contains('@');
    reference || boolean || short_number || path || url
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// The characters of `s` from byte `start`, if `start` is a char boundary.
fn after(s: &str, start: usize) -> impl Iterator<Item = char> + '_ {
    s.get(start..).unwrap_or("").chars()
}

/// The character just before byte `index`.
fn before(s: &str, index: usize) -> Option<char> {
    s.get(..index).and_then(|p| p.chars().next_back())
}

/// `prefix` followed by at least `min` characters of `class`, not preceded
/// by a character of `boundary` (so it starts a token).
fn token_after(
    value: &str,
    prefix: &str,
    min: usize,
    class: fn(char) -> bool,
    boundary: fn(char) -> bool,
) -> bool {
    value.match_indices(prefix).any(|(i, _)| {
        !before(value, i).is_some_and(boundary)
            && after(value, i + prefix.len())
                .take_while(|&c| class(c))
                .count()
                >= min
    })
}

/// AWS access key IDs: `AKIA` (long-term) or `ASIA` (temporary) and exactly
/// 16 uppercase letters or digits.
fn aws_access_key(value: &str) -> bool {
    ["AKIA", "ASIA"].iter().any(|prefix| {
        value.match_indices(prefix).any(|(i, _)| {
            !before(value, i).is_some_and(is_upper_alnum)
                && after(value, i + prefix.len())
                    .take_while(|&c| is_upper_alnum(c))
                    .count()
                    == 16
        })
    })
}

/// `-----BEGIN … PRIVATE KEY-----` (RSA, EC, OPENSSH, PKCS#8, encrypted…).
fn pem_private_key(value: &str) -> bool {
    value.match_indices("-----BEGIN ").any(|(i, m)| {
        let rest = value.get(i + m.len()..).unwrap_or("");
        rest.split_once("-----")
            .is_some_and(|(label, _)| label.ends_with("PRIVATE KEY") && !label.contains('\n'))
    })
}

/// The well-known secret format `value` contains, if any: AWS access key
/// IDs, GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
/// `github_pat_`), Slack tokens (`xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`) and
/// PEM private keys.
pub(crate) fn known_secret_format(value: &str) -> Option<&'static str> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    if pem_private_key(value) {
        return Some("a private key");
    }
    if aws_access_key(value) {
        return Some("an AWS access key ID");
    }
    let github = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
        .iter()
        .any(|p| token_after(value, p, 36, |c| c.is_ascii_alphanumeric(), word))
        || token_after(value, "github_pat_", 22, word, word);
    if github {
        return Some("a GitHub token");
    }
    let slack_class = |c: char| c.is_ascii_alphanumeric() || c == '-';
    if ["xoxa-", "xoxb-", "xoxp-", "xoxr-"]
        .iter()
        .any(|p| token_after(value, p, 10, slack_class, word))
    {
        return Some("a Slack token");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(words("dbPassword"), ["DB", "PASSWORD"]);
        assert_eq!(words("APIKey"), ["API", "KEY"]);
        assert_eq!(words("x-api-key"), ["X", "API", "KEY"]);
        assert_eq!(words("db.password"), ["DB", "PASSWORD"]);
    }

    #[test]
    fn recognises_secret_like_names() {
        for name in [
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "dbPassword",
            "client_secret",
            "GITHUB_TOKEN",
            "accessToken",
            "API_KEY",
            "ApiKey",
            "STRIPE_APIKEY",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "GOOGLE_CREDENTIALS",
            "BASIC_AUTH",
            "SMTP_PASSWD",
        ] {
            assert!(is_secret_like_name(name), "{name}");
        }
        for name in [
            "DB_PASSWORD_FILE",
            "SECRET_NAME",
            "TOKEN_PATH",
            "AUTH_URL",
            "OAUTH_ENDPOINT",
            "DB_USER",
            "ADMIN_USERNAME",
            "AUTHOR",
            "AUTHORITY",
            "TOKENIZER_MODEL",
            "KEYCLOAK_REALM",
            "AWS_ACCESS_KEY_ID",
            "LOG_LEVEL",
            "",
        ] {
            assert!(!is_secret_like_name(name), "{name}");
        }
    }

    #[test]
    fn skips_obvious_non_secrets() {
        for v in [
            "",
            "$(DB_PASS)",
            "${TOKEN}",
            "true",
            "False",
            "3600",
            "/run/secrets/db",
        ] {
            assert!(is_non_secret_value(v), "{v}");
        }
        for v in ["hunter2", "changeme", "s3cr3t-Pa55", "123456789012"] {
            assert!(!is_non_secret_value(v), "{v}");
        }
    }

    #[test]
    fn recognises_known_formats() {
        let aws = "AKIA".to_string() + "IOSFODNN7EXAMPLE";
        assert_eq!(known_secret_format(&aws), Some("an AWS access key ID"));
        assert_eq!(
            known_secret_format(&format!("id={aws};")),
            Some("an AWS access key ID")
        );
        assert_eq!(known_secret_format(&format!("{aws}X")), None);
        let gh = "ghp_".to_string() + &"a1B2".repeat(9);
        assert_eq!(known_secret_format(&gh), Some("a GitHub token"));
        assert_eq!(known_secret_format("ghp_short"), None);
        let pat = "github_pat_".to_string() + &"11ABCDEFG0".repeat(3);
        assert_eq!(known_secret_format(&pat), Some("a GitHub token"));
        let slack = "xoxb-".to_string() + "123456789012-abcdefABCDEF";
        assert_eq!(known_secret_format(&slack), Some("a Slack token"));
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(known_secret_format(pem), Some("a private key"));
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        assert_eq!(known_secret_format(cert), None);
        assert_eq!(known_secret_format("plain text"), None);
    }
}
