//! Identity and access end to end: sign-up, login, refresh rotation and reuse, logout,
//! every kind of bad token, the permission matrix over the route table, and
//! object-level checks on bookings and properties.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{Duration as Span, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tests::{
    Session, TEST_PASSWORD, TestPlatform, TestPlatformOptions, body_of, booking_body, booking_ref_of, error_code,
    json_of, test_keys_file,
};

async fn me(platform: &TestPlatform, token: &str) -> (u16, Value) {
    body_of(platform.http.get(format!("{}/api/auth/me", platform.api_url)).bearer_auth(token).send().await.unwrap())
        .await
}

async fn post(platform: &TestPlatform, path: &str, body: Value) -> (u16, Value) {
    body_of(platform.http.post(format!("{}{path}", platform.api_url)).json(&body).send().await.unwrap()).await
}

/// One column of the stored credentials of the user with `email`.
async fn credential<T>(platform: &TestPlatform, email: &str, column: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let sql = format!("SELECT {column} FROM user_credentials c JOIN users u USING (user_id) WHERE u.email = $1");
    sqlx::query_scalar(&sql).bind(email).fetch_one(&platform.auth_db).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_with_the_monoliths_bcrypt_hash_signs_in_and_its_hash_becomes_argon2id() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let email = format!("legacy-{}@example.in", uuid::Uuid::new_v4().simple());
    let sign_up = json!({ "email": email, "password": TEST_PASSWORD, "full_name": "Bijoy Reang" });
    let (status, body) = post(&platform, "/api/auth/register", sign_up).await;
    assert_eq!(status, 201, "{body}");
    // As the monolith stored it: bcrypt of another password.
    let legacy = bcrypt::hash("Agartala-1949-kept", 6).unwrap();
    sqlx::query("UPDATE user_credentials SET password_hash = $2 WHERE user_id = $1")
        .bind(uuid::Uuid::parse_str(body["user_id"].as_str().unwrap()).unwrap())
        .bind(&legacy)
        .execute(&platform.auth_db)
        .await
        .unwrap();

    let (status, refused) = body_of(platform.log_in(&email, "Agartala-1949-lost").await.unwrap()).await;
    assert_eq!((status, error_code(&refused)), (401, "invalid_credentials"));
    assert_eq!(credential::<String>(&platform, &email, "password_hash").await, legacy, "a failure changes nothing");
    let (status, tokens) = body_of(platform.log_in(&email, "Agartala-1949-kept").await.unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    let replaced: String = credential(&platform, &email, "password_hash").await;
    assert!(replaced.starts_with("$argon2id$"), "{replaced}");
    let (status, again) = body_of(platform.log_in(&email, "Agartala-1949-kept").await.unwrap()).await;
    assert_eq!(status, 200, "the same password opens the new hash: {again}");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_log_in_refresh_and_log_out() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let email = format!("asha-{}@example.in", uuid::Uuid::new_v4().simple());
    let sign_up = json!({ "email": email.to_uppercase(), "password": TEST_PASSWORD, "full_name": "Asha Debbarma",
                          "phone": "+919876543210" });
    let (status, first) = post(&platform, "/api/auth/register", sign_up.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, body) = post(&platform, "/api/auth/register", sign_up.clone()).await;
    assert_eq!((status, error_code(&body)), (409, "email_taken"), "emails are unique whatever their case");
    for (field, value) in [("password", "short"), ("email", "not-an-email"), ("phone", "98765")] {
        let mut bad = sign_up.clone();
        bad[field] = json!(value);
        bad["email"] = json!(if field == "email" { value.to_string() } else { format!("other-{email}") });
        let (status, body) = post(&platform, "/api/auth/register", bad).await;
        assert_eq!((status, body["error"]["details"]["field"].as_str()), (422, Some(field)), "{body}");
    }

    let (status, profile) = me(&platform, first["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!((profile["email"].as_str(), &profile["roles"]), (Some(email.as_str()), &json!(["traveller"])));

    // Wrong password and unknown email: one answer.
    let wrong = body_of(platform.log_in(&email, "not the password").await.unwrap()).await;
    let unknown = body_of(platform.log_in("nobody-here@example.in", TEST_PASSWORD).await.unwrap()).await;
    assert_eq!(wrong, unknown);
    assert_eq!((wrong.0, error_code(&wrong.1)), (401, "invalid_credentials"));

    // Refresh rotates; the old token used again ends the whole login.
    let login = Session::default();
    let (status, tokens) = body_of(platform.log_in(&email, TEST_PASSWORD).await.unwrap()).await;
    assert_eq!(status, 200);
    let (r1, a1) = (tokens["refresh_token"].as_str().unwrap(), tokens["access_token"].as_str().unwrap());
    let (status, rotated) = post(&platform, "/api/auth/refresh", json!({ "refresh_token": r1 })).await;
    assert_eq!(status, 200, "{rotated}");
    let (r2, a2) = (rotated["refresh_token"].as_str().unwrap(), rotated["access_token"].as_str().unwrap());
    assert_ne!(r1, r2);
    assert_eq!(me(&platform, a2).await.0, 200);
    // Once the grace for concurrent refreshes is over (see auth_hardening.rs).
    sqlx::query("UPDATE user_sessions SET revoked_at = revoked_at - interval '1 hour' WHERE replaced_by IS NOT NULL")
        .execute(&platform.auth_db)
        .await
        .unwrap();
    let (status, reused) = post(&platform, "/api/auth/refresh", json!({ "refresh_token": r1 })).await;
    assert_eq!((status, error_code(&reused)), (401, "refresh_token_reused"));
    let (status, after) = post(&platform, "/api/auth/refresh", json!({ "refresh_token": r2 })).await;
    assert_eq!((status, error_code(&after)), (401, "invalid_refresh_token"), "the family is revoked");
    let replaced_by_reuse: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_sessions WHERE revoked_at IS NULL AND user_id = $1")
            .bind(uuid::Uuid::parse_str(first["user_id"].as_str().unwrap()).unwrap())
            .fetch_one(&platform.auth_db)
            .await
            .unwrap();
    assert_eq!(replaced_by_reuse, 1, "only the sign-up session is still live");
    assert_eq!(me(&platform, a2).await.0, 401, "its access tokens end with it");
    assert_eq!(me(&platform, a1).await.0, 401);
    drop(login);

    // Logout of this device; twice is fine.
    let (_, tokens) = body_of(platform.log_in(&email, TEST_PASSWORD).await.unwrap()).await;
    let refresh = json!({ "refresh_token": tokens["refresh_token"] });
    assert_eq!(post(&platform, "/api/auth/logout", refresh.clone()).await.0, 204);
    assert_eq!(post(&platform, "/api/auth/logout", refresh.clone()).await.0, 204);
    assert_eq!(me(&platform, tokens["access_token"].as_str().unwrap()).await.0, 401);
    assert_eq!(post(&platform, "/api/auth/refresh", refresh).await.0, 401);

    // A logged-out token cannot book either. Its login is checked while the request is
    // bound, and the key bound meanwhile is unbound again.
    let ended = Session { access_token: tokens["access_token"].as_str().unwrap().into(), ..Session::default() };
    for key in [None, Some("after-logout")] {
        let response = platform.post_booking_as(&ended, &booking_body(12, 2, 1, "tok_success"), key).await.unwrap();
        let (status, body) = body_of(response).await;
        assert_eq!((status, error_code(&body)), (401, "invalid_token"), "{body}");
    }
    let user_id = uuid::Uuid::parse_str(first["user_id"].as_str().unwrap()).unwrap();
    let bound: i64 = sqlx::query_scalar("SELECT count(*) FROM booking_requests WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&platform.booking_db)
        .await
        .unwrap();
    assert_eq!(bound, 0, "a refused caller leaves no request bound");

    // Logout everywhere.
    let (_, phone) = body_of(platform.log_in(&email, TEST_PASSWORD).await.unwrap()).await;
    let (_, laptop) = body_of(platform.log_in(&email, TEST_PASSWORD).await.unwrap()).await;
    let everywhere = platform
        .http
        .post(format!("{}/api/auth/logout-all", platform.api_url))
        .bearer_auth(phone["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), 204);
    assert_eq!(me(&platform, laptop["access_token"].as_str().unwrap()).await.0, 401);
    let laptop_refresh = json!({ "refresh_token": laptop["refresh_token"] });
    assert_eq!(post(&platform, "/api/auth/refresh", laptop_refresh).await.0, 401);

    // The activity log has it all, with the client's address.
    let (_, fresh) = body_of(platform.log_in(&email, TEST_PASSWORD).await.unwrap()).await;
    let activity_url = format!("{}/api/auth/me/activity", platform.api_url);
    let activity = json_of(platform.http.get(activity_url).bearer_auth(fresh["access_token"].as_str().unwrap())).await;
    let seen: Vec<(String, String)> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["action"].as_str().unwrap().to_string(), a["outcome"].as_str().unwrap().to_string()))
        .collect();
    for expected in [
        ("signup", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("refresh", "success"),
        ("refresh", "denied"),
        ("logout", "success"),
        ("logout_all", "success"),
    ] {
        assert!(seen.contains(&(expected.0.into(), expected.1.into())), "{expected:?} not in {seen:?}");
    }
    assert!(activity.as_array().unwrap().iter().all(|a| a["client_addr"] == "127.0.0.1"), "{activity}");

    // No password and no refresh token anywhere in the database, in any table.
    let everything = platform.whole_database_text().await;
    assert!(everything.contains(&email), "the dump covers the auth tables");
    for secret in [TEST_PASSWORD, r1, r2, fresh["refresh_token"].as_str().unwrap()] {
        assert!(!everything.contains(secret), "a secret is stored in clear text");
    }
    let hash: String = credential(&platform, &email, "password_hash").await;
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    platform.stop().await.unwrap();
}

/// The `tt_session` cookie a response sets: its value and its attributes.
fn session_cookie_of(response: &reqwest::Response) -> Option<(String, String)> {
    response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|cookie| {
        let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
        let value = pair.strip_prefix("tt_session=")?;
        Some((value.to_string(), attributes.trim().to_string()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_keeps_its_refresh_token_in_an_http_only_cookie() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let email = format!("web-{}@example.in", uuid::Uuid::new_v4().simple());
    let sign_up = json!({ "email": email, "password": TEST_PASSWORD, "full_name": "Web Traveller" });
    let url = |path: &str| format!("{}{path}", platform.api_url);
    let registered = platform.http.post(url("/api/auth/register?session=cookie")).json(&sign_up).send().await.unwrap();
    let (first, attributes) = session_cookie_of(&registered).expect("a session cookie");
    for attribute in ["Path=/api/auth", "HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(attributes.contains(attribute), "{attribute} missing from {attributes}");
    }
    let (status, body) = body_of(registered).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("refresh_token").is_none(), "the refresh token stays out of the body: {body}");
    assert_eq!(me(&platform, body["access_token"].as_str().unwrap()).await.0, 200);
    let (status, body) =
        post(&platform, "/api/auth/login?session=bogus", json!({ "email": email, "password": TEST_PASSWORD })).await;
    assert_eq!(status, 400, "an unknown delivery is refused: {body}");

    // `{}` with the cookie renews both; without either, 422 naming what is missing.
    let refresh = |cookie: String| {
        platform
            .http
            .post(url("/api/auth/refresh"))
            .header("cookie", format!("tt_session={cookie}"))
            .json(&json!({}))
            .send()
    };
    let renewed = refresh(first.clone()).await.unwrap();
    let (second, _) = session_cookie_of(&renewed).expect("a renewed cookie");
    assert_ne!(first, second);
    let (status, body) = body_of(renewed).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none() && body["access_token"].is_string(), "{body}");
    let (status, body) = post(&platform, "/api/auth/refresh", json!({})).await;
    assert_eq!((status, error_code(&body)), (422, "missing_refresh_token"));
    // A client that keeps its own tokens still gets them in the body, and no cookie.
    let login = platform.log_in(&email, TEST_PASSWORD).await.unwrap();
    assert!(session_cookie_of(&login).is_none());
    assert!(body_of(login).await.1["refresh_token"].is_string());

    // Logging out with the cookie ends that login and clears the cookie.
    let out = platform
        .http
        .post(url("/api/auth/logout"))
        .header("cookie", format!("tt_session={second}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let (cleared, attributes) = session_cookie_of(&out).expect("the cookie is cleared");
    assert!(cleared.is_empty() && attributes.contains("Max-Age=0"), "{cleared:?} {attributes}");
    let (status, body) = body_of(refresh(second).await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (401, "invalid_refresh_token"), "the login is over");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_pages_are_served_with_their_policy_and_revalidated() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let get = |path: &str| platform.http.get(format!("{}{path}", platform.api_url)).send();
    for page in ["/", "/stays/ujjayanta-heritage-hotel", "/bookings", "/bookings/TRP-ZZZZZZ", "/sign-in", "/sign-up"] {
        let response = get(page).await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let headers = response.headers().clone();
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{page}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "{page}: {csp}");
        assert!(response.text().await.unwrap().contains("/assets/app.js"), "{page}");
    }
    let script = get("/assets/app.js").await.unwrap();
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let etag = script.headers()["etag"].clone();
    let again = platform
        .http
        .get(format!("{}/assets/app.js", platform.api_url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged script costs a 304");
    let picture = get("/static/destinations/agartala/ujjayanta-palace-gardens.jpg").await.unwrap();
    assert_eq!(picture.headers()["content-type"], "image/svg+xml");
    // The API's own paths keep their JSON answers.
    let (status, body) = body_of(get("/api/no-such-route").await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (404, "route_not_found"));
    assert_eq!(get("/no-such-page/deeper").await.unwrap().status(), 404);
    platform.stop().await.unwrap();
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn ring() -> auth::keys::KeyRing {
    auth::keys::KeyRing::load(&test_keys_file().unwrap()).unwrap()
}

fn tokens_with(ring: auth::keys::KeyRing, issuer: &str, audience: &str) -> auth::tokens::Tokens {
    auth::tokens::Tokens::new(
        ring,
        auth::tokens::TokenSettings {
            issuer: issuer.into(),
            audience: audience.into(),
            access_ttl: std::time::Duration::from_secs(600),
        },
    )
}

fn unsigned(header: Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.", part(&header), part(claims))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_token_is_401() {
    let mut platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let good = platform.traveller.access_token.clone();
    assert_eq!(me(&platform, &good).await.0, 200);
    let claims = claims_of(&good);
    let (user, sid): (uuid::Uuid, uuid::Uuid) =
        (claims["sub"].as_str().unwrap().parse().unwrap(), claims["sid"].as_str().unwrap().parse().unwrap());
    let kid = ring().signing_kid().unwrap().to_string();
    let right = tokens_with(ring(), "tripura-tourism", "tripura-tourism-api");

    let mut tampered = good.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        // The classic confusion: an HMAC "signed" with the public key.
        let public = right.ring().verifying_key(&kid, Utc::now()).unwrap().x.clone();
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(public.as_bytes())).unwrap()
    };
    let other_ring = auth::keys::KeyRing::from_file(&auth::keys::new_ring_file(Utc::now()).unwrap()).unwrap();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("malformed", Some("not.a.jwt".into())),
        ("alg none", Some(unsigned(json!({ "alg": "none", "typ": "JWT", "kid": kid }), &claims))),
        ("wrong algorithm", Some(hs256)),
        ("wrong signature", Some(tampered)),
        ("expired", Some(right.issue(user, sid, Utc::now() - Span::hours(1)).unwrap().token)),
        ("not yet valid", Some(right.issue(user, sid, Utc::now() + Span::hours(1)).unwrap().token)),
        (
            "wrong issuer",
            Some(
                tokens_with(ring(), "someone-else", "tripura-tourism-api").issue(user, sid, Utc::now()).unwrap().token,
            ),
        ),
        (
            "wrong audience",
            Some(tokens_with(ring(), "tripura-tourism", "another-api").issue(user, sid, Utc::now()).unwrap().token),
        ),
        (
            "unknown kid",
            Some(
                tokens_with(other_ring, "tripura-tourism", "tripura-tourism-api")
                    .issue(user, sid, Utc::now())
                    .unwrap()
                    .token,
            ),
        ),
    ];
    for (what, token) in cases {
        let mut request = platform.http.get(format!("{}/api/auth/me", platform.api_url));
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"), "{what}");
        let (status, body) = body_of(response).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(matches!(error_code(&body), "missing_token" | "invalid_token"), "{what}: {body}");
    }
    assert_eq!(me(&platform, &good).await.0, 200, "the good token still works after all that");

    // A disabled user's token, and a deleted user's.
    let disabled = platform.user_with_role("traveller").await.unwrap();
    let deleted = platform.user_with_role("traveller").await.unwrap();
    assert_eq!(me(&platform, &disabled.access_token).await.0, 200);
    auth::store::set_status(&platform.auth_db, disabled.user_id.parse().unwrap(), "disabled").await.unwrap();
    auth::store::delete_user(&platform.auth_db, deleted.user_id.parse().unwrap()).await.unwrap();
    assert_eq!(me(&platform, &disabled.access_token).await.0, 401);
    assert_eq!(me(&platform, &deleted.access_token).await.0, 401);
    assert_eq!(platform.log_in(&disabled.email, TEST_PASSWORD).await.unwrap().status(), 403);

    // Key rotation: an API given the rotated ring still accepts the old key's tokens during
    // the grace period, and not after it.
    let original: auth::keys::KeyRingFile =
        serde_json::from_str(&std::fs::read_to_string(test_keys_file().unwrap()).unwrap()).unwrap();
    let dir = std::env::temp_dir();
    let within = dir.join(format!("tt-keys-within-{}.json", uuid::Uuid::new_v4()));
    let after = dir.join(format!("tt-keys-after-{}.json", uuid::Uuid::new_v4()));
    let rotated = auth::keys::rotate(&original, Utc::now(), std::time::Duration::from_secs(600)).unwrap();
    auth::keys::write_ring_file(&within, &rotated).unwrap();
    let mut expired_grace = rotated.clone();
    for key in &mut expired_grace.keys {
        if key.kid == kid {
            key.verify_until = Some(Utc::now() - Span::seconds(1));
        }
    }
    auth::keys::write_ring_file(&after, &expired_grace).unwrap();
    let api_within = platform.spawn_api_with(&api::ApiService::ALL, None, within.clone()).await.unwrap();
    let api_after = platform.spawn_api_with(&api::ApiService::ALL, None, after.clone()).await.unwrap();
    let me_at = |base: String| platform.http.get(format!("{base}/api/auth/me")).bearer_auth(&good).send();
    assert_eq!(me_at(api_within.clone()).await.unwrap().status(), 200, "old key within its grace period");
    assert_eq!(me_at(api_after.clone()).await.unwrap().status(), 401, "old key after its grace period");
    let jwks = json_of(platform.http.get(format!("{api_within}/api/auth/jwks.json"))).await;
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&kid.as_str()) && kids.len() == 2, "{jwks}");
    assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k["kty"] == "OKP" && k.get("d").is_none()), "{jwks}");
    for file in [within, after] {
        std::fs::remove_file(file).ok();
    }
    platform.stop().await.unwrap();
}

/// Fills a route template's parameters with values that exist or harmlessly do not.
fn concrete(path: &str) -> String {
    let mut out = path.to_string();
    for (name, value) in [
        ("{booking_ref}", "TRP-ZZZZZZ".to_string()),
        ("{user_id}", uuid::Uuid::new_v4().to_string()),
        ("{role}", "traveller".to_string()),
        ("{accommodation}", "ujjayanta-heritage-hotel".to_string()),
        ("{code}", "ujjayanta-heritage-hotel".to_string()),
        ("{room_type}", "deluxe_double".to_string()),
        ("{partner}", "no-such-partner".to_string()),
        ("{key_prefix}", "zzzzzzzzzz".to_string()),
        ("{period_start}", "2026-01-05".to_string()),
        ("{event_id}", "evt_no_such_event".to_string()),
    ] {
        out = out.replace(name, &value);
    }
    assert!(!out.contains('{'), "the matrix does not know a parameter of {path}; add it to `concrete`");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_gets_exactly_what_its_permissions_allow_on_every_route() {
    let platform = TestPlatform::spawn_with(TestPlatformOptions::without_workers()).await.unwrap();
    let mut sessions: Vec<(&str, Option<Session>)> = vec![("anonymous", None)];
    for role in auth::roles::ALL {
        sessions.push((role, Some(platform.user_with_role(role).await.unwrap())));
    }
    let admin = sessions.last().unwrap().1.clone().unwrap();
    let roles = json_of(platform.http_as(&admin).get(format!("{}/api/auth/roles", platform.api_url))).await;
    let granted: BTreeMap<String, Vec<String>> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let permissions = r["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string());
            (r["code"].as_str().unwrap().to_string(), permissions.collect())
        })
        .collect();
    assert_eq!(granted.len(), 4, "{roles}");

    let doc = json_of(platform.http.get(format!("{}/api/openapi.json", platform.api_url))).await;
    let mut checked = 0;
    let mut routes: Vec<(&String, &Value)> = doc["paths"].as_object().unwrap().iter().collect();
    // Logging out everywhere ends the sessions the matrix uses: it goes last.
    routes.sort_by_key(|(path, _)| path.contains("logout"));
    for (path, operations) in routes {
        for (method, operation) in operations.as_object().unwrap() {
            // Every route declares who may call it: `security: [{}]` (public) or scopes.
            let security = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} declares no access rule in its OpenAPI `security`"));
            let scopes: Vec<String> = security
                .iter()
                .filter_map(|s| s.get("bearer"))
                .flat_map(|s| s.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()))
                .collect();
            // The gateway's webhook is authenticated by its body's signature, which no role has;
            // the partner API takes partners' API keys, never a user's access token.
            let signed = security.iter().any(|s| s.get("gateway_signature").is_some());
            let partner_api = security.iter().any(|s| s.get("partner_key").is_some());
            let public = scopes.is_empty() && !signed && !partner_api;
            if !path.starts_with("/api/") || path.starts_with("/api/docs") {
                continue;
            }
            for (role, session) in &sessions {
                let url = format!("{}{}", platform.api_url, concrete(path));
                let mut request = platform.http.request(method.to_uppercase().parse().unwrap(), &url);
                if matches!(method.as_str(), "post" | "put" | "patch") {
                    request = request.json(&json!({}));
                }
                if let Some(session) = session {
                    request = request.bearer_auth(&session.access_token);
                }
                let (status, body) = body_of(request.send().await.unwrap()).await;
                let allowed = public || granted.get(*role).is_some_and(|held| scopes.iter().any(|s| held.contains(s)));
                let what = format!("{role} {method} {path}: {status} {body}");
                assert!(status < 500, "{what}");
                if signed || partner_api {
                    // Past its budget of refused keys, one address is answered 429 instead.
                    let over_budget = partner_api && status == 429 && error_code(&body) == "too_many_failed_keys";
                    assert!(status == 401 || over_budget, "{what}");
                    checked += 1;
                    continue;
                }
                match (allowed, session) {
                    // An allowed role may still meet an object-level refusal (a property not
                    // assigned to this manager); those are tested on their own elsewhere.
                    (true, _) => {
                        assert!(status != 401 && (status != 403 || error_code(&body) == "not_assigned"), "{what}")
                    }
                    (false, None) => assert_eq!(status, 401, "{what}"),
                    (false, Some(_)) => assert_eq!(status, 403, "{what}"),
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 5 * 20, "the matrix covered only {checked} cases");
    platform.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_are_private_and_properties_are_managed_only_by_their_managers() {
    let platform = TestPlatform::spawn().await.unwrap();
    let booker = platform.traveller.clone();
    let stranger = platform.user_with_role("traveller").await.unwrap();
    let operator = platform.user_with_role("operator").await.unwrap();
    let admin = platform.user_with_role("admin").await.unwrap();
    let manager = platform.user_with_role("asset_manager").await.unwrap();

    let response = platform.post_booking(&booking_body(12, 2, 1, "tok_success"), Some("trip-1")).await.unwrap();
    let booking_ref = booking_ref_of(response).await;
    platform.wait_for_status(&booking_ref, &["confirmed"]).await.unwrap();

    // The same Idempotency-Key from another traveller is another booking, not a peek at this one.
    let theirs =
        platform.post_booking_as(&stranger, &booking_body(12, 2, 1, "tok_success"), Some("trip-1")).await.unwrap();
    let their_ref = booking_ref_of(theirs).await;
    assert_ne!(their_ref, booking_ref);

    let get_as = |session: &Session| {
        platform.http_as(session).get(format!("{}/api/bookings/{booking_ref}", platform.api_url)).send()
    };
    assert_eq!(get_as(&booker).await.unwrap().status(), 200);
    let (status, body) = body_of(get_as(&stranger).await.unwrap()).await;
    assert_eq!(
        (status, error_code(&body)),
        (404, "booking_not_found"),
        "someone else's booking does not exist for you"
    );
    assert_eq!(get_as(&operator).await.unwrap().status(), 200);
    assert_eq!(get_as(&manager).await.unwrap().status(), 403, "asset managers do not read bookings");

    let list = |session: &Session| platform.http_as(session).get(format!("{}/api/bookings", platform.api_url)).send();
    let mine: Value = list(&booker).await.unwrap().json().await.unwrap();
    let refs: Vec<&str> =
        mine["items"].as_array().unwrap().iter().map(|b| b["booking_ref"].as_str().unwrap()).collect();
    assert_eq!(refs, vec![booking_ref.as_str()]);
    assert_eq!(mine["items"][0]["status"], "confirmed");
    // The "saga started" mark commits asynchronously; should PostgreSQL lose it in a crash,
    // the booking the saga recorded still lists.
    sqlx::query("UPDATE booking_requests SET saga_started_at = NULL WHERE booking_ref = $1")
        .bind(&booking_ref)
        .execute(&platform.booking_db)
        .await
        .unwrap();
    let mine: Value = list(&booker).await.unwrap().json().await.unwrap();
    assert_eq!(mine["items"][0]["booking_ref"], booking_ref.as_str(), "{mine}");
    let theirs: Value = list(&stranger).await.unwrap().json().await.unwrap();
    assert!(theirs["items"].as_array().unwrap().iter().all(|b| b["booking_ref"] != booking_ref.as_str()));
    let owner: Option<uuid::Uuid> = sqlx::query_scalar("SELECT user_id FROM bookings WHERE booking_ref = $1")
        .bind(&booking_ref)
        .fetch_one(&platform.booking_db)
        .await
        .unwrap();
    assert_eq!(owner.map(|u| u.to_string()), Some(booker.user_id.clone()));

    // Properties: the admin assigns one to the manager, who may change only that one.
    let assign = platform
        .http_as(&admin)
        .put(format!("{}/api/auth/users/{}/assignments/ujjayanta-heritage-hotel", platform.api_url, manager.user_id))
        .send()
        .await
        .unwrap();
    assert_eq!(assign.status(), 204);
    let check_in = contracts::india::today() + Span::days(12);
    let change = |session: &Session, accommodation: &str, room_type: &str, body: Value| {
        let mut body = body;
        body["accommodation"] = json!(accommodation);
        body["room_type"] = json!(room_type);
        platform.http_as(session).put(format!("{}/api/inventory/allotments", platform.api_url)).json(&body).send()
    };
    let range = json!({ "from": check_in + Span::days(30), "to": check_in + Span::days(33), "allotment": 3 });
    let (status, nights) =
        body_of(change(&manager, "ujjayanta-heritage-hotel", "deluxe_double", range.clone()).await.unwrap()).await;
    assert_eq!(status, 200, "{nights}");
    assert!(nights["nights"].as_array().unwrap().iter().all(|n| n["allotment"] == 3), "{nights}");
    let (status, body) =
        body_of(change(&manager, "rudrasagar-lakeside-resort", "lake_view_cottage", range.clone()).await.unwrap())
            .await;
    assert_eq!((status, error_code(&body)), (403, "not_assigned"), "{body}");
    let (status, body) =
        body_of(change(&stranger, "ujjayanta-heritage-hotel", "deluxe_double", range).await.unwrap()).await;
    assert_eq!(status, 403, "{body}");

    // Never below what is booked: the booked night refuses an allotment of 0, all or nothing.
    let below = json!({ "from": check_in, "to": check_in + Span::days(2), "allotment": 0 });
    let (status, body) =
        body_of(change(&operator, "ujjayanta-heritage-hotel", "deluxe_double", below).await.unwrap()).await;
    assert_eq!((status, error_code(&body)), (409, "allotment_below_commitments"), "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(&check_in.to_string()), "{body}");
    // Stop-sell a night: nothing more is sold on it.
    let stop = json!({ "from": check_in, "to": check_in + Span::days(1), "stop_sell": true });
    let (status, body) =
        body_of(change(&operator, "ujjayanta-heritage-hotel", "deluxe_double", stop).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["nights"][0]["stop_sell"].as_bool(), body["nights"][0]["available"].as_i64()),
        (Some(true), Some(0))
    );
    let stopped_ref = platform.book(&booking_body(12, 1, 1, "tok_success")).await;
    let failed = platform.wait_for_status(&stopped_ref, &["failed"]).await.unwrap();
    assert_eq!(failed["failure"]["code"], "sold_out", "{failed}");

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM user_activity_logs ORDER BY created_at")
        .fetch_all(&platform.auth_db)
        .await
        .unwrap();
    for action in ["booking_create", "assignment_grant", "allotment_change"] {
        assert!(actions.iter().any(|a| a == action), "{action} not logged: {actions:?}");
    }
    platform.stop().await.unwrap();
}
