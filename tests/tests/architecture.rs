//! The dependency rules of docs/architecture.md, checked on the workspace as cargo resolves
//! it (`cargo metadata`) and on the sources of the crates that sit on top.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, Package};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::OnceLock,
};

const CONTEXTS: &[&str] = &["auth", "catalog", "inventory", "booking", "payment", "partner"];
/// Crates that do I/O or run workers: deterministic workflow code must not link them.
const IO_CRATES: &[&str] = &["sqlx", "reqwest", "axum", "tokio", "temporalio-client", "hyper", "tonic"];
/// What only a context crate may reach: its SQL and its pool. The API and the workers go
/// through the context's facade.
const CONTEXT_INTERNALS: &[&str] = &["store::", ".pool()"];

fn metadata() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        MetadataCommand::new().manifest_path(manifest).no_deps().exec().expect("cargo metadata runs")
    })
}

fn package(name: &str) -> &'static Package {
    metadata()
        .workspace_packages()
        .into_iter()
        .find(|p| p.name.as_str() == name)
        .unwrap_or_else(|| panic!("no crate {name}"))
}

fn is_workspace_crate(name: &str) -> bool {
    metadata().workspace_packages().iter().any(|p| p.name.as_str() == name)
}

/// The crates `name` depends on to build (not dev or build dependencies).
fn dependencies(name: &str) -> BTreeSet<String> {
    package(name).dependencies.iter().filter(|d| d.kind == DependencyKind::Normal).map(|d| d.name.clone()).collect()
}

fn workspace_deps(name: &str) -> BTreeSet<String> {
    dependencies(name).into_iter().filter(|d| is_workspace_crate(d)).collect()
}

/// Every `.rs` file under the crate's `src/`.
fn sources(name: &str) -> Vec<PathBuf> {
    let src = package(name).manifest_path.parent().expect("a manifest has a folder").join("src");
    let mut files = Vec::new();
    let mut stack = vec![PathBuf::from(src.as_std_path())];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The lines of `text` that reach inside a context instead of through its facade.
fn reaches_inside_a_context(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| CONTEXT_INTERNALS.iter().any(|internal| line.contains(internal)))
        .map(|line| line.trim().to_string())
        .collect()
}

#[test]
fn the_check_for_reaching_inside_a_context_catches_a_store_call_and_a_pool() {
    let handler = "let row = booking::store::find_booking(&pool, &r).await?;\nlet pool = accounts.pool();\n// store:: in a comment is fine";
    assert_eq!(reaches_inside_a_context(handler).len(), 2);
    assert!(reaches_inside_a_context("let row = state.bookings.find(&r).await?;").is_empty());
}

#[test]
fn the_api_and_the_workers_reach_contexts_only_through_their_facades() {
    let mut found = Vec::new();
    for krate in ["api", "workers"] {
        for file in sources(krate) {
            for line in reaches_inside_a_context(&std::fs::read_to_string(&file).unwrap()) {
                found.push(format!("{}: {line}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "use the context's facade instead:\n{}", found.join("\n"));
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
    // The API reads the payment context's books (webhook events, a booking's money) but
    // never calls the gateway: only the payment worker holds its credentials.
    for file in sources("api") {
        let text = std::fs::read_to_string(&file).unwrap();
        for gateway_use in ["payment::gateway", "GatewayClient", "payment::PaymentActivitiesImpl"] {
            assert!(!text.contains(gateway_use), "{} uses {gateway_use}", file.display());
        }
    }
    assert!(!workspace_deps("workers").contains("api"));
    assert!(
        workspace_deps("sandbox-gateway").iter().all(|d| d == "platform"),
        "the sandbox shares no code with the payment context"
    );
}

/// The module path of a source file: `src/routes/bookings/mod.rs` is `routes::bookings`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|p| !matches!(*p, "mod" | "lib" | "main")).collect();
    parts.join("::")
}

/// The modules each module of `krate` names through `crate::` or `super::` paths, and the
/// cycles among them. A module naming its own descendants (declaring them, routing to their
/// handlers) is how Rust nests modules and is not counted; a cycle through siblings or
/// through a parent is.
fn module_cycles(krate: &str) -> Vec<Vec<String>> {
    let src = package(krate).manifest_path.parent().unwrap().join("src");
    let src = PathBuf::from(src.as_std_path());
    let files = sources(krate);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let resolve = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").collect();
        while !parts.is_empty() {
            let candidate = parts.join("::");
            if modules.contains(&candidate) {
                return Some(candidate);
            }
            parts.pop();
        }
        None
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        for path in named_paths(&code) {
            let absolute = if let Some(rest) = path.strip_prefix("crate::") {
                rest.to_string()
            } else if let Some(rest) = path.strip_prefix("super::") {
                let parent = from.rsplit_once("::").map_or("", |(p, _)| p);
                if parent.is_empty() { rest.to_string() } else { format!("{parent}::{rest}") }
            } else {
                continue;
            };
            if let Some(to) = resolve(&absolute)
                && to != from
                && !to.starts_with(&format!("{from}::"))
                && !from.is_empty()
            {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    cycles(&edges)
}

/// The paths a source names after `crate::` or `super::`, with grouped imports
/// (`crate::{a::B, c::{D, E}}`) expanded.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for prefix in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let after = &rest[at + prefix.len()..];
            paths.extend(expand(prefix, after));
            rest = after;
        }
    }
    paths
}

fn expand(prefix: &str, after: &str) -> Vec<String> {
    if let Some(group) = after.strip_prefix('{') {
        let mut depth = 1;
        let end = group
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(group.len(), |(i, _)| i);
        let mut items = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        let inner = &group[..end];
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        items
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty() && !item.starts_with("self"))
            .flat_map(|item| match item.split_once("::{") {
                Some((head, _)) => expand(&format!("{prefix}{head}::"), &item[head.len() + 2..]),
                None => vec![format!("{prefix}{item}")],
            })
            .collect()
    } else {
        let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(after.len());
        vec![format!("{prefix}{}", after[..end].trim_end_matches(':'))]
    }
}

/// Every cycle of the graph, each as the modules on it (one per strongly connected set).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().chain(edges.values().flatten()).collect();
    let reaches = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for node in &nodes {
        let mut set: Vec<String> = nodes
            .iter()
            .filter(|other| reach[*node].contains(**other) && reach[*other].contains(*node))
            .map(|n| (*n).clone())
            .collect();
        set.sort();
        if !set.is_empty() && !found.contains(&set) {
            found.push(set);
        }
    }
    found
}

#[test]
fn the_cycle_check_finds_a_loop_through_siblings_and_ignores_nesting() {
    let edges = BTreeMap::from([
        ("access".to_string(), BTreeSet::from(["state".to_string()])),
        ("state".to_string(), BTreeSet::from(["settings".to_string()])),
        ("settings".to_string(), BTreeSet::from(["access".to_string()])),
        ("routes".to_string(), BTreeSet::from(["error".to_string()])),
    ]);
    assert_eq!(cycles(&edges), vec![vec!["access".to_string(), "settings".to_string(), "state".to_string()]]);
    assert_eq!(
        named_paths("use crate::{access::{A, B}, state::AppState};\nlet x = super::money::M;"),
        vec!["crate::access::A", "crate::access::B", "crate::state::AppState", "super::money::M"]
    );
}

#[test]
fn the_api_and_the_sandbox_gateway_have_no_import_loops() {
    for krate in ["api", "sandbox-gateway"] {
        let loops = module_cycles(krate);
        assert!(loops.is_empty(), "{krate} modules that import each other: {loops:?}");
    }
}

#[test]
fn the_dev_server_registers_exactly_the_contracts_search_attributes() {
    let mut registered = tests::registered_search_attributes().unwrap();
    let mut named = tests::contract_search_attributes();
    registered.sort();
    named.sort();
    assert_eq!(registered, named);
}
