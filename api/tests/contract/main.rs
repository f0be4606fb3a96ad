//! The API's contract: the OpenAPI document built from the routes is the one committed in
//! `api/contract/openapi.json`, and nothing in it breaks a client of the last release
//! (`api/contract/released.json`) unless `api/contract/CHANGELOG.md` records the change.
//! The partner API (`/api/partners/v1`) takes no breaking change at all within v1.
//!
//! After an intended change: `TT_WRITE_CONTRACT=1 cargo test -p api --test contract`
//! rewrites the snapshot; review its diff like code.

mod compat;

use serde_json::Value;
use std::path::PathBuf;

const PARTNER_API: &str = "/api/partners/v1";

fn contract_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("contract").join(name)
}

fn read_json(name: &str) -> Value {
    let path = contract_file(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn current_document() -> Value {
    api::openapi_document()
}

/// The first place two JSON values differ, as a JSON path with both sides.
fn first_difference(path: &str, committed: &Value, built: &Value) -> Option<String> {
    match (committed, built) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter().find_map(|key| match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) => first_difference(&format!("{path}/{key}"), x, y),
                (Some(_), None) => Some(format!("{path}/{key}: in the snapshot, no longer built")),
                (None, _) => Some(format!("{path}/{key}: built, not in the snapshot")),
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(&format!("{path}/{i}"), x, y))
        }
        _ if committed == built => None,
        _ => Some(format!("{path}: the snapshot has {committed}, the code builds {built}")),
    }
}

#[test]
fn the_built_document_is_the_committed_snapshot() {
    let built = current_document();
    let pretty = serde_json::to_string_pretty(&built).unwrap() + "\n";
    let path = contract_file("openapi.json");
    if std::env::var_os("TT_WRITE_CONTRACT").is_some() {
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let committed = read_json("openapi.json");
    if let Some(difference) = first_difference("", &committed, &built) {
        panic!(
            "the API's document differs from {} at {difference}\n\
             If the change is intended, rewrite the snapshot with \
             `TT_WRITE_CONTRACT=1 cargo test -p api --test contract` and review its diff.",
            path.display()
        );
    }
}

#[test]
fn nothing_breaks_a_client_of_the_last_release_unless_the_changelog_records_it() {
    let released = read_json("released.json");
    let changelog = std::fs::read_to_string(contract_file("CHANGELOG.md")).unwrap();
    let changes = compat::breaking_changes(&released, &current_document());
    let partner: Vec<String> =
        changes.iter().filter(|c| partner_operation(&c.operation)).map(ToString::to_string).collect();
    assert!(partner.is_empty(), "the partner API takes no breaking change within v1:\n{}", partner.join("\n"));
    let unrecorded: Vec<String> =
        changes.iter().map(ToString::to_string).filter(|line| !changelog.contains(line.as_str())).collect();
    assert!(
        unrecorded.is_empty(),
        "breaking changes since the last release that api/contract/CHANGELOG.md does not record \
         (quote each line there, under the coming release, to accept it):\n{}",
        unrecorded.join("\n")
    );
}

fn partner_operation(operation: &str) -> bool {
    operation.split_whitespace().any(|part| part.starts_with(PARTNER_API))
}

#[test]
fn the_check_sees_a_removed_response_field_and_a_removed_partner_operation() {
    // The check above is only as good as what it notices: break the current document on
    // purpose and see it refused.
    let current = current_document();
    let mut broken = current.clone();
    let view = broken["components"]["schemas"]["BookingView"]["properties"].as_object_mut().unwrap();
    assert!(view.remove("status").is_some(), "BookingView has a status");
    broken["paths"].as_object_mut().unwrap().remove("/api/partners/v1/settlements");
    let lines: Vec<String> = compat::breaking_changes(&current, &broken).iter().map(ToString::to_string).collect();
    assert!(lines.iter().any(|l| l.contains("GET /api/bookings/{booking_ref}") && l.contains("status")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("/api/partners/v1/settlements")), "{lines:#?}");
    assert!(lines.iter().any(|l| partner_operation(l)), "{lines:#?}");
}
