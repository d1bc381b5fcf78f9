"""Writes tests/data/labelled.toml: the labelled evaluation set of the
secret scanner (tests/quality.rs prints precision and recall on it).

Positives: every rule's templates from rulespec.py, expanded with a seed
different from the rule file's examples (so the set does not repeat them)
and placed in varied contexts (shell, JSON, YAML, code, Markdown). Negatives:
hand-written hard cases below — documented placeholders, test fixtures,
hashes, UUIDs, base64 images, public keys, template references. Every secret
in the set is synthetic.

usage: python3 tools/gen_labelled.py
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import rulespec  # noqa: E402
from synth import Synth  # noqa: E402

CONTEXTS = [
    "{t}",
    "# deploy settings\n{t}\n",
    "```sh\n{t}\n```\n",
    "  {t}  # set by ops\n",
]

NEGATIVES = [
    # documented placeholders
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_ACCESS_KEY_ID=AKIAI44QH8DHBEXAMPLE",
    "AWS_SECRET_ACCESS_KEY=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
    "SLACK_BOT_TOKEN=xoxb-your-bot-token",
    "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "OPENAI_API_KEY=sk-...",
    "OPENAI_API_KEY=<your OpenAI API key>",
    "ANTHROPIC_API_KEY=your-anthropic-api-key",
    "api_key = \"YOUR_API_KEY\"",
    "apiKey: 'REPLACE_ME_WITH_YOUR_KEY'",
    "password: changeme",
    "DB_PASSWORD=<db-password>",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "password: \"{{ .Values.db.password }}\"",
    "SECRET_KEY = '{{ secret_key }}'",
    "client_secret = \"%(CLIENT_SECRET)s\"",
    "DATABASE_URL=postgres://user:password@localhost:5432/app",
    "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
    "mongodb://localhost:27017/test",
    "redis://localhost:6379/0",
    "amqp://guest:guest@localhost:5672//",
    "https://user:pass@example.com/private",
    "ftp://anonymous:anonymous@ftp.example.org/pub",
    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----\n<redacted>\n-----END OPENSSH PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
    "AccountKey=<storage-account-key>",
    "SharedAccessKey=<key>",
    "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef",
    "Authorization: Bearer <token>",
    "Authorization: Bearer $ACCESS_TOKEN",
    "Authorization: Basic dXNlcjpwYXNzd29yZA==",
    "curl -u user:password https://api.example.com",
    "curl -u \"$USER:$PASSWORD\" https://api.example.com",
    "machine example.com login user password <password>",
    "DD_API_KEY=<DATADOG_API_KEY>",
    "HEROKU_API_KEY=00000000-0000-0000-0000-000000000000",
    "npm config set //registry.npmjs.org/:_authToken=${NPM_TOKEN}",
    "SECRET_KEY = 'django-insecure-change-me'",
    "APP_SECRET=ThisTokenIsNotSoSecretChangeIt",
    "APP_KEY=",
    "secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>",
    "PrivateKey = <client private key>",
    "sk_test_xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "glpat-xxxxxxxxxxxxxxxxxxxx",
    "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    # code reading secrets from elsewhere
    "password = os.environ[\"DB_PASSWORD\"]",
    "api_key = os.getenv('API_KEY')",
    "const token = process.env.GITHUB_TOKEN;",
    "String password = System.getenv(\"DB_PASSWORD\");",
    "password = var.db_password",
    "password = random_password.db.result",
    "token = self.tokenizer.generate_tokens(readline)",
    "secret = vault.read('secret/data/app')['data']['password']",
    "valueFrom:\n  secretKeyRef:\n    name: db\n    key: password",
    "password = getpass.getpass()",
    "client_secret = settings.OAUTH_CLIENT_SECRET",
    "api_key: !vault |\n  $ANSIBLE_VAULT;1.1;AES256",
    "password: null",
    "password = None",
    "password: \"\"",
    "token_url = \"https://oauth2.googleapis.com/token\"",
    "TOKEN_ENDPOINT=https://login.microsoftonline.com/common/oauth2/v2.0/token",
    "secret_name = \"prod/db/credentials\"",
    "SECRET_NAME=my-app-secret-name",
    "password_hash = \"$2b$12$KIXQJH2a9b5Qm3Y1k8u9UOe8y0m4o3b9b7o5l1r2t3y4u5i6o7p8\"",
    "password_hash = \"pbkdf2_sha256$600000$salt$hash\"",
    # test fixtures
    "password = \"test\"",
    "password = \"secret\"",
    "def test_login():\n    assert login(\"admin\", \"hunter2\")",
    "token = \"dummy-token-for-tests\"",
    "client_secret = \"client-secret\"",
    "API_KEY = \"fake-api-key\"",
    "api_key = \"test_api_key_for_unit_tests\"",
    "password: correct-horse-battery-staple",
    "self.assertEqual(token, \"abc123\")",
    "TEST_PASSWORD = \"Passw0rd!\"",
    # hashes and digests
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "sha1: da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "FROM python:3.12-slim@sha256:2be8daddbb82756f7d1f2c7ece706aadcb284bf6ab6d769ea695cc3ed6016743",
    "\"integrity\": \"sha512-9B6P8I9RyQwqdzmV4aR0f4Xw0Dq3Wr1yKX3kUbw0CpH1J2gQm2wq3VxJtCq2M4r1HcTQf1w5f0mYyH6R8y0v1w==\"",
    "requests==2.31.0 --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
    "github.com/stretchr/testify v1.8.4 h1:CcVxjf3Q8PM0mHUKJCdn+eZZtm5yQwehR5yeSVQQcUk=",
    "checksum = \"a1d2e3f4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2\"",
    "md5sum: 9e107d9d372bb6826bd81d3542a419d6",
    "etag: \"33a64df551425fcc55e4d42a148795d9f25f89d4\"",
    "cache_key = \"v2-deps-9f86d081884c7d659a2feaa0c55ad015\"",
    # UUIDs and ids
    "request_id = \"3fa85f64-5717-4562-b3fc-2c963f66afa6\"",
    "\"id\": \"f47ac10b-58cc-4372-a567-0e02b2c3d479\"",
    "trace-id: 4bf92f3577b34da6a3ce929d0e0e4736",
    "client_id = \"1234567890-abc123def456.apps.googleusercontent.com\"",
    "AZURE_TENANT_ID=72f988bf-86f1-41af-91ab-2d7cd011db47",
    "projectId: 5f2b3c4d-1a2b-4c3d-9e8f-7a6b5c4d3e2f",
    "subscription: 00000000-0000-0000-0000-000000000000",
    # base64 images, fonts and other blobs
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\">",
    "background: url(data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7);",
    "icon: data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxMCAxMCI+PC9zdmc+",
    "src: url('data:font/woff2;base64,d09GMgABAAAAAAJMAA0AAAAABRAAAAH2AAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAGhYbHhwGYAA') format('woff2');",
    "logo = \"iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAABHNCSVQICAgIfAhkiAAAAAlwSFlz\"",
    "caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lVYQ==",
    # public material
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQC7vbqajDRETeT4vHtNo4yL5gGyB8QN3M+2m0I6xTQmYBqk deploy@ci",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbG0iJmVZ6vN6D5e3a8d5xq0W1Fq3h5r2x9c8b7a6d5 ops@laptop",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE3Jr9eQ7o0o8M0b4h3kGq9i2aP0n3T6yZ1kQm\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
    "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
    "STRIPE_PUBLISHABLE_KEY=pk_live_51H8xYzAbCdEfGhIjKlMnOpQr",
    "sentry_dsn: https://3f2b8c9d0e1f4a5b@o123456.ingest.sentry.io/7654321",
    "pk.eyJ1IjoiZGVtby11c2VyIiwiYSI6ImNrOHh5ejEyMzQifQ.public-map-token",
    # unsigned or malformed JWTs
    "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
    "token = \"eyJhbGci.eyJzdWIi.sig\"",
    # prose, versions, URLs
    "The token is rotated every 24 hours by the controller.",
    "See https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens",
    "Set the AWS secret access key in your environment, never in code.",
    "version: 1.24.3-eks-0a21954",
    "image: ghcr.io/acme/api:v2.3.1@sha256:9b2c1d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c",
    "url = https://pypi.org/simple/requests/",
    "https://user@github.com/acme/app.git",
    "git@github.com:acme/app.git",
    "sessionAffinity: ClientIP",
    "secretName: tls-cert",
    "tokenizer = AutoTokenizer.from_pretrained(\"bert-base-uncased\")",
    "passwordPolicy: MinimumLength=12,RequireSymbols=true",
    "api_key_header = \"X-API-Key\"",
    "private_key_path = \"/etc/ssl/private/server.key\"",
    "secret_file: /run/secrets/db_password",
    "credentials_file = ~/.aws/credentials",
    "minified: function(t,e){var n=t.apiKey||e.token;return n&&n.length>16}",
    "AUTH_TOKEN_TTL=86400",
    "\"NextToken\": \"eyJOZXh0VG9rZW4iOiBudWxsLCAiYm90b190cnVuY2F0ZV9hbW91bnQiOiAyfQ==\"",
    "next_page_token = \"CgwI8Jb3qAYQ0M2u5gMSBQoDMTIz\"",
    "secret_arn = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbC123\"",
    "keyId: \"1234abcd-12ab-34cd-56ef-1234567890ab\"",
    "password_min_length: 16",
    "token_expiry_seconds = 3600000000000000",
]


def toml_str(s):
    return json.dumps(s, ensure_ascii=True)


def main():
    syn = Synth(2024)
    out = ["# Labelled evaluation set of the secret scanner; generated by",
           "# tools/gen_labelled.py. Every secret here is synthetic.",
           ""]
    n_pos = 0
    for i, r in enumerate(rulespec.R, start=1):
        for j, template in enumerate(r["pos"]):
            for k in range(2):
                text = syn.expand(template)
                single = "\n" not in text
                ctx = CONTEXTS[(i + j + k) % len(CONTEXTS)] if single else "{t}"
                if r["generic"] or r["name"] in ("netrc-password",):
                    ctx = "{t}"
                out += ["[[case]]", f'label = "SEC{i:03d}"', f"text = {toml_str(ctx.replace('{t}', text))}", ""]
                n_pos += 1
    for text in NEGATIVES:
        out += ["[[case]]", 'label = "none"', f"text = {toml_str(text)}", ""]
    path = Path(__file__).parent.parent / "tests/data/labelled.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out))
    print(f"{n_pos} positives, {len(NEGATIVES)} negatives -> {path}")


main()
