//! The dependency rules of ARCHITECTURE.md, checked on the crates' manifests.

use std::{collections::BTreeSet, path::PathBuf};

const WORKSPACE_CRATES: &[&str] = &[
    "contracts",
    "sagas",
    "auth",
    "catalog",
    "inventory",
    "booking",
    "payment",
    "partner",
    "platform",
    "workers",
    "api",
    "sandbox-gateway",
    "ops",
    "tests",
];
const CONTEXTS: &[&str] = &["auth", "catalog", "inventory", "booking", "payment", "partner"];
/// Crates that do I/O or run workers: deterministic workflow code must not link them.
const IO_CRATES: &[&str] = &["sqlx", "reqwest", "axum", "tokio", "temporalio-client", "hyper", "tonic"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn manifest_dir(krate: &str) -> PathBuf {
    let relative = match krate {
        "contracts" | "sagas" => format!("workflows/{krate}"),
        c if CONTEXTS.contains(&c) => format!("activities/{c}"),
        other => other.to_string(),
    };
    root().join(relative)
}

/// Names listed under `[dependencies]` (not dev-dependencies).
fn dependencies(krate: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest_dir(krate).join("Cargo.toml")).unwrap();
    let mut in_deps = false;
    let mut deps = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['.', '=', ' ']).next().unwrap().trim();
            deps.insert(name.to_string());
        }
    }
    deps
}

fn workspace_deps(krate: &str) -> BTreeSet<String> {
    dependencies(krate).into_iter().filter(|d| WORKSPACE_CRATES.contains(&d.as_str())).collect()
}

#[test]
fn every_crate_named_here_is_a_workspace_member() {
    let root_manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    for krate in WORKSPACE_CRATES {
        let dir = manifest_dir(krate);
        let member = dir.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        assert!(root_manifest.contains(&format!("\"{member}\"")), "{member} is not a member");
    }
}

#[test]
fn contracts_depend_on_no_workspace_crate_and_do_no_io() {
    assert!(workspace_deps("contracts").is_empty(), "{:?}", workspace_deps("contracts"));
    let io: Vec<_> = dependencies("contracts")
        .into_iter()
        .filter(|d| IO_CRATES.contains(&d.as_str()) || d == "temporalio-sdk")
        .collect();
    assert!(io.is_empty(), "contracts link {io:?}");
}

#[test]
fn workflows_depend_on_contracts_only_and_link_no_io_crate() {
    assert_eq!(workspace_deps("sagas"), BTreeSet::from(["contracts".to_string()]));
    let io: Vec<_> = dependencies("sagas").into_iter().filter(|d| IO_CRATES.contains(&d.as_str())).collect();
    assert!(io.is_empty(), "sagas link {io:?}");
}

#[test]
fn contexts_do_not_depend_on_each_other() {
    for context in CONTEXTS {
        assert_eq!(workspace_deps(context), BTreeSet::from(["contracts".to_string()]), "{context}");
    }
}

#[test]
fn the_api_and_the_workers_stay_apart() {
    let api = workspace_deps("api");
    for forbidden in ["workers", "sandbox-gateway", "ops"] {
        assert!(!api.contains(forbidden), "api depends on {forbidden}");
    }
    assert!(!workspace_deps("workers").contains("api"));
    assert!(
        workspace_deps("sandbox-gateway").iter().all(|d| d == "platform"),
        "the sandbox shares no code with the payment context"
    );
}

#[test]
fn the_dev_server_registers_exactly_the_contracts_search_attributes() {
    let mut registered = tests::registered_search_attributes().unwrap();
    let mut named = tests::contract_search_attributes();
    registered.sort();
    named.sort();
    assert_eq!(registered, named);
}
