//! Recorded histories as the Temporal server stored them, every payload sealed by the
//! platform's codec, replay through that codec with the key they were sealed with: a change
//! to the codec, its key handling or a workflow that would strand histories in flight fails
//! here. They cover the failure paths too (a lost hold, expiry, both kinds of repair).
//! Recorded with `TT_RECORD_HISTORIES=1`, next to their plaintext copies.

use temporalio_client::WorkflowHistory;
use tests::{codec_replayer, decrypt_history, workspace_root};

#[tokio::test]
async fn every_sealed_history_replays_through_the_codec() {
    let dir = workspace_root().join("workflows/sagas/tests/histories/sealed");
    let mut histories: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the sealed histories exist")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| (path.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    histories.sort();
    let names: Vec<&str> = histories.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["hold_lost", "hold_expired", "repair_compensated", "repair_confirmed"] {
        assert!(names.contains(&expected), "sealed fixture {expected} missing from {names:?}");
    }
    let replayer = codec_replayer().unwrap();
    for (name, json) in histories {
        // Sealed for real: opening the payloads changes the file.
        assert_ne!(decrypt_history(&json).await.unwrap(), json, "{name} holds payloads in the clear");
        let history = WorkflowHistory::from_json(&json).unwrap();
        replayer
            .replay_workflow(history)
            .await
            .unwrap_or_else(|e| panic!("sealed history {name} no longer replays: {e}"));
    }
}
