//! API keys and roles.
//!
//! # Key file
//!
//! A UTF-8 text file, one key per line, three TAB-separated fields:
//!
//! ```text
//! # name<TAB>role<TAB>sha256
//! ops<TAB>admin<TAB>9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! tama-center<TAB>coordinator<TAB>2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
//! city-portal<TAB>portal<TAB>fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9
//! ```
//!
//! - `name`: a label for logs (no TAB);
//! - `role`: `admin` (reads everything and writes), `coordinator` (reads
//!   everything, restricted companies included, runs batch jobs) or `portal`
//!   (public records only);
//! - `sha256`: the lower-case hex SHA-256 of the key as the client sends it.
//!
//! Only hashes are stored. Lines starting with `#` and blank lines are
//! ignored. To add a key: `printf %s "$KEY" | sha256sum`, and append a line.
//!
//! Clients send the key as `Authorization: Bearer KEY` or `X-API-Key: KEY`.

use std::collections::HashMap;
use std::path::Path;

use axum::http::{header, HeaderMap};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use matcher_core::Role;

/// The role of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    Admin,
    Coordinator,
    Portal,
}

impl KeyRole {
    pub fn parse(s: &str) -> Option<KeyRole> {
        match s {
            "admin" => Some(KeyRole::Admin),
            "coordinator" => Some(KeyRole::Coordinator),
            "portal" => Some(KeyRole::Portal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyRole::Admin => "admin",
            KeyRole::Coordinator => "coordinator",
            KeyRole::Portal => "portal",
        }
    }

    /// The role passed to `matcher-core` on every read.
    pub fn core_role(self) -> Role {
        match self {
            KeyRole::Admin => Role::Admin,
            KeyRole::Coordinator => Role::Coordinator,
            KeyRole::Portal => Role::Public,
        }
    }
}

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key needed (health, metrics-free probes, the OpenAPI document).
    Open,
    /// Any valid key; reads are filtered by the key's role.
    AnyKey,
    /// Coordinator or admin keys.
    Staff,
    /// Admin keys only (writes).
    Admin,
}

impl Access {
    pub fn allows(self, role: KeyRole) -> bool {
        match self {
            Access::Open | Access::AnyKey => true,
            Access::Staff => role != KeyRole::Portal,
            Access::Admin => role == KeyRole::Admin,
        }
    }

    /// Roles allowed, for the OpenAPI document.
    pub fn roles(self) -> &'static [&'static str] {
        match self {
            Access::Open => &[],
            Access::AnyKey => &["admin", "coordinator", "portal"],
            Access::Staff => &["admin", "coordinator"],
            Access::Admin => &["admin"],
        }
    }
}

/// An authenticated caller (inserted into request extensions by the auth layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: KeyRole,
    /// Hex SHA-256 of the key (rate-limit bucket).
    pub key_hash: String,
}

impl Caller {
    pub fn core_role(&self) -> Role {
        self.role.core_role()
    }
    pub fn is_public(&self) -> bool {
        self.role == KeyRole::Portal
    }
}

#[derive(Debug, Clone)]
struct KeyEntry {
    name: String,
    role: KeyRole,
}

/// A freshly generated key, shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub role: KeyRole,
    pub key: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot use the key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
    #[error("the key file {0} holds no keys")]
    Empty(String),
}

/// The accepted keys, by hash.
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    by_hash: HashMap<String, KeyEntry>,
}

/// Lower-case hex SHA-256 of `key`.
pub fn hash_key(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A new random key: `mk_` and 43 URL-safe characters (256 bits).
pub fn generate_key() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0u8; 43];
    rand::rng().fill_bytes(&mut bytes);
    let body: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b & 63) as usize] as char)
        .collect();
    format!("mk_{body}")
}

impl ApiKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key given in plain text (tests, embedding).
    pub fn with_key(mut self, name: &str, role: KeyRole, key: &str) -> Self {
        self.insert_hash(name, role, hash_key(key));
        self
    }

    pub fn insert_hash(&mut self, name: &str, role: KeyRole, sha256_hex: String) {
        self.by_hash.insert(
            sha256_hex.to_ascii_lowercase(),
            KeyEntry {
                name: name.to_owned(),
                role,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Parse a key file (format in the module docs).
    pub fn parse(text: &str, path: &str) -> Result<Self, KeyFileError> {
        let mut keys = ApiKeys::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let err = |reason: String| KeyFileError::Line {
                path: path.to_owned(),
                line: i + 1,
                reason,
            };
            let f: Vec<&str> = line.split('\t').map(str::trim).collect();
            if f.len() != 3 {
                return Err(err(format!(
                    "expected 3 TAB-separated fields (name, role, sha256), found {}",
                    f.len()
                )));
            }
            let role = KeyRole::parse(f[1]).ok_or_else(|| {
                err(format!(
                    "role {:?} is not one of admin, coordinator, portal",
                    f[1]
                ))
            })?;
            if f[2].len() != 64 || !f[2].bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err(
                    "the third field must be the 64-digit hex SHA-256 of the key".into(),
                ));
            }
            keys.insert_hash(f[0], role, f[2].to_owned());
        }
        if keys.is_empty() {
            return Err(KeyFileError::Empty(path.to_owned()));
        }
        Ok(keys)
    }

    pub fn load(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Load `path`, or create it with one new key per role. Returns the
    /// plain-text keys when they were just created (to be shown once).
    pub fn load_or_create(path: &Path) -> Result<(Self, Vec<NewKey>), KeyFileError> {
        if path.exists() {
            return Ok((Self::load(path)?, Vec::new()));
        }
        let io = |source| KeyFileError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let new: Vec<NewKey> = [
            ("admin", KeyRole::Admin),
            ("coordinator", KeyRole::Coordinator),
            ("portal", KeyRole::Portal),
        ]
        .into_iter()
        .map(|(name, role)| NewKey {
            name: name.to_owned(),
            role,
            key: generate_key(),
        })
        .collect();
        let mut text = String::from(
            "# matcher API keys: name<TAB>role<TAB>sha256(key). Only hashes are stored.\n\
             # Roles: admin (writes), coordinator (reads all), portal (public records only).\n",
        );
        let mut keys = ApiKeys::new();
        for k in &new {
            let h = hash_key(&k.key);
            text.push_str(&format!("{}\t{}\t{h}\n", k.name, k.role.as_str()));
            keys.insert_hash(&k.name, k.role, h);
        }
        write_private(path, text.as_bytes()).map_err(io)?;
        Ok((keys, new))
    }

    /// The caller for the key in `headers`, or 401.
    /// The caller a key in plain text belongs to (the console's login form).
    pub fn lookup(&self, key: &str) -> Option<Caller> {
        let h = hash_key(key.trim());
        self.by_hash.get(&h).map(|e| Caller {
            name: e.name.clone(),
            role: e.role,
            key_hash: h,
        })
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let key = presented_key(headers)?;
        let h = hash_key(&key);
        match self.by_hash.get(&h) {
            Some(e) => Ok(Caller {
                name: e.name.clone(),
                role: e.role,
                key_hash: h,
            }),
            None => Err(ApiError::unauthorized("the API key is not valid")),
        }
    }
}

/// The key from `Authorization: Bearer KEY` or `X-API-Key: KEY`.
fn presented_key(headers: &HeaderMap) -> Result<String, ApiError> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let s = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
        let (scheme, rest) = s.trim().split_once(' ').unwrap_or((s.trim(), ""));
        if !scheme.eq_ignore_ascii_case("bearer") || rest.trim().is_empty() {
            return Err(ApiError::unauthorized(
                "use Authorization: Bearer <key> (or X-API-Key: <key>)",
            ));
        }
        return Ok(rest.trim().to_owned());
    }
    if let Some(v) = headers.get("x-api-key") {
        let s = v
            .to_str()
            .map_err(|_| ApiError::unauthorized("the X-API-Key header is not text"))?;
        if !s.trim().is_empty() {
            return Ok(s.trim().to_owned());
        }
    }
    Err(ApiError::unauthorized(
        "no API key: send Authorization: Bearer <key> or X-API-Key: <key>",
    ))
}

/// Write a file readable by its owner only (on Unix), atomically.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_string() {
        assert_eq!(
            hash_key("test"),
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        );
    }

    #[test]
    fn parse_and_authenticate() {
        let text = format!(
            "# comment\n\nops\tadmin\t{}\nweb\tportal\t{}\n",
            hash_key("a"),
            hash_key("p")
        );
        let keys = ApiKeys::parse(&text, "keys.tsv").unwrap();
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer a".parse().unwrap());
        assert_eq!(keys.authenticate(&h).unwrap().role, KeyRole::Admin);
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "p".parse().unwrap());
        assert_eq!(keys.authenticate(&h).unwrap().role, KeyRole::Portal);
        let mut h = HeaderMap::new();
        h.insert("authorization", "Basic a".parse().unwrap());
        assert!(keys.authenticate(&h).is_err());
        assert!(keys.authenticate(&HeaderMap::new()).is_err());
    }

    #[test]
    fn bad_lines_are_named() {
        let e = ApiKeys::parse("x\tboss\tabc\n", "k")
            .unwrap_err()
            .to_string();
        assert!(e.contains("k:1") && e.contains("boss"), "{e}");
        assert!(ApiKeys::parse("# nothing\n", "k").is_err());
    }

    #[test]
    fn created_file_holds_only_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("keys.tsv");
        let (keys, new) = ApiKeys::load_or_create(&p).unwrap();
        assert_eq!(new.len(), 3);
        assert_eq!(keys.len(), 3);
        let text = std::fs::read_to_string(&p).unwrap();
        for k in &new {
            assert!(!text.contains(&k.key));
            assert!(text.contains(&hash_key(&k.key)));
        }
        let (again, none) = ApiKeys::load_or_create(&p).unwrap();
        assert!(none.is_empty());
        assert_eq!(again.len(), 3);
    }
}
