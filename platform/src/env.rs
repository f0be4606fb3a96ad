//! Typed settings from environment variables, all prefixed `TT_`.
//!
//! Every setting can also come from a file, as Kubernetes mounts Secrets: `TT_<NAME>_FILE`
//! names a file whose contents are the value of `TT_<NAME>` (see [`optional`]).

use std::{fmt, path::Path, str::FromStr};

pub const PREFIX: &str = "TT_";

/// Appended to a variable's name, names the file holding its value.
pub const FILE_SUFFIX: &str = "_FILE";

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct EnvError {
    pub name: String,
    pub problem: String,
}

/// Reads `TT_<name>` (or the file `TT_<name>_FILE` names, as [`optional`] does), falling
/// back to `default` when neither gives a value.
pub fn var_or<T: FromStr>(name: &str, default: T) -> Result<T, EnvError>
where
    T::Err: fmt::Display,
{
    match optional::<T>(name)? {
        Some(v) => Ok(v),
        None => Ok(default),
    }
}

/// Reads `TT_<name>` if set and non-empty; otherwise, when `TT_<name>_FILE` is set, the
/// contents of the file it names (how Kubernetes mounts Secrets). Values are trimmed, which
/// also drops the file's trailing newline (`\n` or `\r\n`); an empty value counts as unset.
///
/// A file that cannot be read is an error naming `TT_<name>_FILE` and the path. Setting
/// both variables is allowed only when they agree: `TT_<name>` set to a different value
/// than the file's is refused as ambiguous. Nothing here logs a value, and these errors
/// never quote one (only a type's own parse error might).
pub fn optional<T: FromStr>(name: &str) -> Result<Option<T>, EnvError>
where
    T::Err: fmt::Display,
{
    optional_from(name, &|key| std::env::var(key).ok())
}

/// Reads `TT_<name>` alone, ignoring `TT_<name>_FILE`: for a setting whose `_FILE`
/// variable has a meaning of its own (`TT_PAYLOAD_KEYS_FILE` takes second place to
/// `TT_PAYLOAD_KEYS`).
pub(crate) fn variable_only<T: FromStr>(name: &str) -> Result<Option<T>, EnvError>
where
    T::Err: fmt::Display,
{
    let key = format!("{PREFIX}{name}");
    match non_empty(std::env::var(&key).ok()) {
        Some(raw) => parsed(&raw, key),
        None => Ok(None),
    }
}

/// [`optional`] over the variables `lookup` gives.
fn optional_from<T: FromStr>(name: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<T>, EnvError>
where
    T::Err: fmt::Display,
{
    let key = format!("{PREFIX}{name}");
    let file_key = format!("{key}{FILE_SUFFIX}");
    let value = non_empty(lookup(&key));
    let Some(path) = non_empty(lookup(&file_key)) else {
        return match value {
            Some(raw) => parsed(&raw, key),
            None => Ok(None),
        };
    };
    let path = Path::new(&path);
    let from_file = std::fs::read_to_string(path)
        .map_err(|e| EnvError { name: file_key.clone(), problem: format!("cannot read {}: {e}", path.display()) })?;
    let from_file = from_file.trim();
    match value {
        Some(raw) if raw != from_file => Err(EnvError {
            name: key,
            problem: format!(
                "set, and so is {file_key} ({}), to a different value: set only one of them",
                path.display()
            ),
        }),
        Some(raw) => parsed(&raw, key),
        None if from_file.is_empty() => Ok(None),
        None => from_file
            .parse()
            .map(Some)
            .map_err(|e: T::Err| EnvError { name: file_key, problem: format!("in {}: {e}", path.display()) }),
    }
}

fn parsed<T: FromStr>(raw: &str, name: String) -> Result<Option<T>, EnvError>
where
    T::Err: fmt::Display,
{
    raw.parse().map(Some).map_err(|e: T::Err| EnvError { name, problem: e.to_string() })
}

/// The trimmed value, `None` when unset or blank.
fn non_empty(raw: Option<String>) -> Option<String> {
    raw.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// A value that must never reach a log line: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::{collections::HashMap, path::PathBuf};

    #[test]
    fn a_secret_never_prints_its_value() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
    }

    /// A file of its own under the temporary directory, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn with(test: &str, contents: &[u8]) -> TempFile {
            let path = std::env::temp_dir().join(format!("tt-env-{}-{test}", std::process::id()));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
        fn path(&self) -> String {
            self.0.display().to_string()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// [`optional_from`] over exactly these variables, not the process's.
    fn read<T: FromStr>(name: &str, vars: &[(&str, &str)]) -> Result<Option<T>, EnvError>
    where
        T::Err: fmt::Display,
    {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        optional_from(name, &|key| vars.get(key).cloned())
    }

    #[test]
    fn a_variable_alone_is_read_trimmed_and_blank_is_unset() {
        assert_eq!(read::<u32>("N", &[("TT_N", " 42 ")]).unwrap(), Some(42));
        assert_eq!(read::<u32>("N", &[("TT_N", "  ")]).unwrap(), None);
        assert_eq!(read::<u32>("N", &[]).unwrap(), None);
        assert_eq!(read::<u32>("N", &[("TT_N", "4"), ("TT_N_FILE", " ")]).unwrap(), Some(4), "a blank _FILE is unset");
        let refused = read::<u32>("N", &[("TT_N", "many")]).unwrap_err();
        assert_eq!(refused.name, "TT_N");
    }

    #[test]
    fn a_file_gives_its_contents_without_the_trailing_newline() {
        let unix = TempFile::with("unix", b"s3cret\n");
        let windows = TempFile::with("windows", b"s3cret\r\n");
        let padded = TempFile::with("padded", b"  s3cret \n\n");
        for file in [&unix, &windows, &padded] {
            let value = read::<String>("SECRET", &[("TT_SECRET_FILE", &file.path())]).unwrap();
            assert_eq!(value.as_deref(), Some("s3cret"), "{}", file.path());
        }
        // Inner line breaks stay: a file may hold several lines.
        let lines = TempFile::with("lines", b"a\nb\n");
        assert_eq!(read::<String>("LINES", &[("TT_LINES_FILE", &lines.path())]).unwrap().as_deref(), Some("a\nb"));
        // Typed, and a default applies when the file is empty, as for an empty variable.
        let port = TempFile::with("port", b"8080\n");
        assert_eq!(read::<u16>("PORT", &[("TT_PORT_FILE", &port.path())]).unwrap(), Some(8080));
        let empty = TempFile::with("empty", b"\n");
        assert_eq!(read::<u16>("EMPTY", &[("TT_EMPTY_FILE", &empty.path())]).unwrap(), None);
    }

    #[test]
    fn a_secret_from_a_file_still_prints_as_a_placeholder() {
        let file = TempFile::with("secret", b"hunter2\n");
        let secret = read::<Secret>("PASSWORD", &[("TT_PASSWORD_FILE", &file.path())]).unwrap().unwrap();
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn an_unreadable_file_names_the_variable_and_the_path() {
        let missing = std::env::temp_dir().join(format!("tt-env-{}-missing", std::process::id()));
        let refused = read::<String>("GONE", &[("TT_GONE_FILE", &missing.display().to_string())]).unwrap_err();
        assert_eq!(refused.name, "TT_GONE_FILE");
        assert!(refused.problem.contains(&missing.display().to_string()), "{refused}");
        // Not UTF-8: refused without quoting the bytes.
        let binary = TempFile::with("binary", b"\xff\xfe-key");
        let refused = read::<String>("BIN", &[("TT_BIN_FILE", &binary.path())]).unwrap_err();
        assert_eq!(refused.name, "TT_BIN_FILE");
        assert!(!refused.to_string().contains("-key"), "{refused}");
    }

    #[test]
    fn a_bad_value_in_a_file_is_blamed_on_the_file() {
        let file = TempFile::with("bad-number", b"many\n");
        let refused = read::<u32>("COUNT", &[("TT_COUNT_FILE", &file.path())]).unwrap_err();
        assert_eq!(refused.name, "TT_COUNT_FILE");
        assert!(refused.problem.contains(&file.path()), "{refused}");
    }

    #[test]
    fn both_set_must_agree() {
        let file = TempFile::with("both", b"from-file\n");
        let same = read::<String>("BOTH", &[("TT_BOTH", "from-file"), ("TT_BOTH_FILE", &file.path())]).unwrap();
        assert_eq!(same.as_deref(), Some("from-file"));

        let refused =
            read::<Secret>("BOTH", &[("TT_BOTH", "from-variable"), ("TT_BOTH_FILE", &file.path())]).unwrap_err();
        assert_eq!(refused.name, "TT_BOTH");
        let message = refused.to_string();
        assert!(message.contains("TT_BOTH_FILE") && message.contains(&file.path()), "{message}");
        assert!(!message.contains("from-file") && !message.contains("from-variable"), "no value is quoted: {message}");

        // The variable is set, but its file is missing: still refused.
        let refused = read::<String>("BOTH", &[("TT_BOTH", "x"), ("TT_BOTH_FILE", "/nonexistent/tt-env")]).unwrap_err();
        assert_eq!(refused.name, "TT_BOTH_FILE");
    }

    /// A setting whose name ends in `_FILE` (`TT_PAYLOAD_KEYS_FILE`, `TT_AUTH_KEYS_FILE`) holds
    /// a path; `TT_PAYLOAD_KEYS_FILE_FILE` would name a file holding that path.
    #[test]
    fn a_path_setting_can_come_from_a_file_too() {
        let file = TempFile::with("path", b"/run/keys/payload\n");
        let path = read::<PathBuf>("PAYLOAD_KEYS_FILE", &[("TT_PAYLOAD_KEYS_FILE_FILE", &file.path())]).unwrap();
        assert_eq!(path, Some(PathBuf::from("/run/keys/payload")));
        let direct = read::<PathBuf>("PAYLOAD_KEYS_FILE", &[("TT_PAYLOAD_KEYS_FILE", "/keys")]).unwrap();
        assert_eq!(direct, Some(PathBuf::from("/keys")));
    }
}
