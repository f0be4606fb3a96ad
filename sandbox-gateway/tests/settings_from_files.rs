//! The `sandbox-gateway` binary reads a secret from the file `TT_<NAME>_FILE` names, as it
//! does when Kubernetes mounts a Secret as files.

use sandbox_gateway::{DEFAULT_KEY_ID, DEFAULT_KEY_SECRET};
use serde_json::json;
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A file of its own under the temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn with(test: &str, contents: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("tt-sandbox-{}-{test}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The gateway process, killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary with only these `TT_SANDBOX_KEY_SECRET*` settings, whatever the caller's
/// environment holds.
fn gateway(key_secret_file: &std::path::Path, addr: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sandbox-gateway"));
    command
        .env_remove("TT_SANDBOX_KEY_SECRET")
        .env_remove("TT_SANDBOX_KEY_ID")
        .env_remove("TT_SANDBOX_KEY_ID_FILE")
        .env("TT_SANDBOX_KEY_SECRET_FILE", key_secret_file)
        .env("TT_SANDBOX_ADDR", addr)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    command
}

#[tokio::test]
async fn the_key_secret_comes_from_the_file_its_file_variable_names() {
    let secret = TempFile::with("key-secret", "key_secret_from_a_file\n");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let _gateway = Process(gateway(&secret.0, &format!("127.0.0.1:{port}")).stderr(Stdio::null()).spawn().unwrap());

    let http = reqwest::Client::new();
    let started = Instant::now();
    while !http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(started.elapsed() < Duration::from_secs(20), "the sandbox gateway never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let order = |secret: &'static str| {
        http.post(format!("{base}/v1/orders"))
            .basic_auth(DEFAULT_KEY_ID, Some(secret))
            .json(&json!({ "amount": 10_000, "currency": "INR", "receipt": "TRP-FILE" }))
            .send()
    };
    assert_eq!(order("key_secret_from_a_file").await.unwrap().status(), 200, "the file's secret, newline dropped");
    assert_eq!(order(DEFAULT_KEY_SECRET).await.unwrap().status(), 401, "not the development default");
}

#[test]
fn a_missing_file_stops_the_binary_and_names_the_variable() {
    let missing = std::env::temp_dir().join(format!("tt-sandbox-{}-missing", std::process::id()));
    let mut process = Process(gateway(&missing, "127.0.0.1:0").stderr(Stdio::piped()).spawn().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = process.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the sandbox gateway started without its secret");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(process.0.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("TT_SANDBOX_KEY_SECRET_FILE"), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}
