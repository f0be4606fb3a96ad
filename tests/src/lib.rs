//! End-to-end test harness: the real platform on this machine — a Temporal dev server
//! started from the project's CLI, a fresh PostgreSQL database with every context's
//! migrations, the sandbox gateway, the workers and the API, each on a free port — and
//! typed helpers to drive it.
//!
//! Architecture invariant: nothing here replaces Temporal or PostgreSQL with a fake.

mod catalog_under_test;
mod database;
mod helpers;
mod platform_under_test;

pub use catalog_under_test::{CatalogUnderTest, ExpectedError, codes as catalog_codes};
pub use database::{
    CatalogApi, DatabaseLayout, TEST_PAYLOAD_KEYS, TestDatabase, admin_url, spawn_catalog_api, spawn_sandbox_gateway,
    spawn_sandbox_gateway_with_webhooks, test_keys_file, test_payload_keys,
};
pub use helpers::{
    body_of, booking_ref_of, captured_event, error_code, eventually, eventually_within, get_revalidated, json_of,
    workspace_binary,
};
pub use platform_under_test::{
    Session, TEST_PASSWORD, TestPlatform, TestPlatformOptions, WEB_UI_ORIGIN, booking_body, checkout_body,
    codec_replayer, contract_search_attributes, decrypt_history, demo_room, dev_server_flags, gateway_signature,
    registered_search_attributes, workspace_root,
};
