//! Password hashing with Argon2id at OWASP's recommended cost (m = 19 MiB, t = 2, p = 1).
//! The cost travels in the stored PHC string, so raising it later rehashes on next login.
//!
//! Accounts imported from the monolith keep its bcrypt hashes (`$2a$`, `$2b$`, `$2y$`):
//! they are verified as they are, and the first successful login replaces them with an
//! Argon2id hash ([`Passwords::needs_rehash`]). No password is ever stored in clear.

pub use argon2::Block;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::{Output, ParamsString, SaltString},
};
use std::sync::Arc;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// A hash of a random password: unknown emails are checked against it so a login takes
    /// the same time whether or not the account exists.
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").field("params", &self.params).finish()
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Passwords::new(Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid"))
    }
}

impl Passwords {
    pub fn new(params: Params) -> Self {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let random: [u8; 16] = rand::random();
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let dummy = argon.hash_password(&random, &salt).expect("hashing a fixed-size input cannot fail").to_string();
        Passwords { params, dummy_hash: Arc::new(dummy) }
    }

    fn argon(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// The PHC string of `password` with a fresh salt.
    pub fn hash(&self, password: &str) -> String {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        self.argon().hash_password(password.as_bytes(), &salt).expect("Argon2 accepts any password length").to_string()
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown account) the same
    /// work is done against a dummy hash and the answer is `false`.
    pub fn verify(&self, stored: Option<&str>, password: &str) -> bool {
        let (phc, known) = match stored {
            Some(phc) => (phc, true),
            None => (self.dummy_hash.as_str(), false),
        };
        if let Some(ok) = verify_legacy(phc, password) {
            return ok && known;
        }
        let Ok(parsed) = PasswordHash::new(phc) else { return false };
        // Verify with the parameters in the stored string, whatever today's cost is.
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        ok && known
    }

    /// Working memory for [`Passwords::hash_in`] and [`Passwords::verify_in`] at today's
    /// cost (about 19 MiB), to be reused: a process that keeps one per hashing turn holds a
    /// bounded amount of memory, where allocating per hash leaves the allocator's arenas
    /// holding what many threads once took.
    pub fn memory(&self) -> Vec<Block> {
        vec![Block::default(); self.params.block_count()]
    }

    /// As [`Passwords::hash`], in `memory` (grown if it is too small).
    pub fn hash_in(&self, password: &str, memory: &mut Vec<Block>) -> String {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf).expect("a generated salt decodes");
        let argon = self.argon();
        let blocks = blocks_of(memory, self.params.block_count());
        let output = Output::init_with(self.params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *blocks).map_err(Into::into)
        })
        .expect("Argon2 accepts any password length");
        PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).expect("today's parameters encode"),
            salt: Some(salt.as_salt()),
            hash: Some(output),
        }
        .to_string()
    }

    /// As [`Passwords::verify`], in `memory` (grown if the stored cost needs more).
    pub fn verify_in(&self, stored: Option<&str>, password: &str, memory: &mut Vec<Block>) -> bool {
        let (phc, known) = match stored {
            Some(phc) => (phc, true),
            None => (self.dummy_hash.as_str(), false),
        };
        if let Some(ok) = verify_legacy(phc, password) {
            return ok && known;
        }
        let Ok(parsed) = PasswordHash::new(phc) else { return false };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else { return false };
        let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else { return false };
        let Ok(stored_params) = Params::try_from(&parsed) else { return false };
        let Ok(params) =
            Params::new(stored_params.m_cost(), stored_params.t_cost(), stored_params.p_cost(), Some(expected.len()))
        else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else { return false };
        let blocks = blocks_of(memory, params.block_count());
        let argon = Argon2::new(algorithm, version, params);
        let computed = Output::init_with(expected.len(), |out| {
            argon.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *blocks).map_err(Into::into)
        });
        // `Output` compares in constant time.
        computed.is_ok_and(|computed| computed == expected) && known
    }

    /// Whether `stored` was hashed below today's cost (then the login rehashes it).
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else { return true };
        let Ok(params) = Params::try_from(&parsed) else { return true };
        parsed.algorithm.as_str() != "argon2id"
            || params.m_cost() < self.params.m_cost()
            || params.t_cost() < self.params.t_cost()
            || params.p_cost() < self.params.p_cost()
    }
}

/// Whether `password` matches a legacy bcrypt hash; `None` when `stored` is not one.
fn verify_legacy(stored: &str, password: &str) -> Option<bool> {
    let legacy = ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| stored.starts_with(prefix));
    legacy.then(|| bcrypt::verify(password, stored).unwrap_or(false))
}

/// The first `count` blocks of `memory`, grown to hold them.
fn blocks_of(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
}

/// Why a new password is refused, in words for the user.
pub fn check_policy(password: &str, email: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("Use at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("Use at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.trim().is_empty() || password.to_lowercase().contains(&email.to_lowercase()) {
        return Err("Choose a password that is not your email address".into());
    }
    if password.chars().all(|c| c == password.chars().next().unwrap_or(' ')) {
        return Err("Choose a password that is not one repeated character".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Passwords {
        Passwords::new(Params::new(1024, 1, 1, None).unwrap())
    }

    #[test]
    fn a_legacy_bcrypt_hash_verifies_and_asks_to_be_replaced() {
        let passwords = cheap();
        let legacy = bcrypt::hash("Monolith-era-2019", 4).unwrap();
        assert!(legacy.starts_with("$2b$04$"), "{legacy}");
        for stored in [legacy.clone(), legacy.replacen("$2b$", "$2y$", 1), legacy.replacen("$2b$", "$2a$", 1)] {
            assert!(passwords.verify(Some(&stored), "Monolith-era-2019"), "{stored}");
            assert!(!passwords.verify(Some(&stored), "monolith-era-2019"), "{stored}");
            let mut memory = passwords.memory();
            assert!(passwords.verify_in(Some(&stored), "Monolith-era-2019", &mut memory), "{stored}");
            assert!(!passwords.verify_in(Some(&stored), "wrong", &mut memory), "{stored}");
            assert!(passwords.needs_rehash(&stored), "the first login replaces {stored}");
        }
        assert!(!passwords.verify(Some("$2b$04$not-a-bcrypt-hash"), "Monolith-era-2019"));
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let passwords = cheap();
        let hash = passwords.hash("correct horse battery");
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
        assert!(passwords.verify(Some(&hash), "correct horse battery"));
        assert!(!passwords.verify(Some(&hash), "correct horse batterY"));
        assert!(!passwords.verify(None, "correct horse battery"));
        assert!(!passwords.verify(Some("not a phc string"), "x"));
    }

    #[test]
    fn hashing_in_reused_memory_agrees_with_the_standard_hasher() {
        let passwords = cheap();
        let mut memory = Vec::new();
        let reused = passwords.hash_in("correct horse battery", &mut memory);
        assert!(reused.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{reused}");
        assert!(passwords.verify(Some(&reused), "correct horse battery"));
        let standard = passwords.hash("correct horse battery");
        for stored in [&reused, &standard] {
            assert!(passwords.verify_in(Some(stored), "correct horse battery", &mut memory));
            assert!(!passwords.verify_in(Some(stored), "correct horse batterY", &mut memory));
        }
        assert!(!passwords.verify_in(None, "correct horse battery", &mut memory));
        assert!(!passwords.verify_in(Some("not a phc string"), "x", &mut memory));
        // A stored hash of a higher cost grows the memory it is checked in.
        let strong = Passwords::default().hash("correct horse battery");
        assert!(passwords.verify_in(Some(&strong), "correct horse battery", &mut memory));
        assert_eq!(memory.len(), 19 * 1024);
    }

    #[test]
    fn the_default_cost_is_owasps_and_cheaper_hashes_are_flagged_for_rehash() {
        let strong = Passwords::default();
        let weak_hash = cheap().hash("correct horse battery");
        assert!(strong.needs_rehash(&weak_hash));
        assert!(strong.dummy_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!strong.needs_rehash(&strong.dummy_hash.clone()));
    }

    #[test]
    fn the_policy_refuses_short_repeated_and_email_passwords() {
        assert!(check_policy("short", "a@b.in").is_err());
        assert!(check_policy("aaaaaaaaaaaa", "a@b.in").is_err());
        assert!(check_policy("xx-asha@tripura.in-xx", "asha@tripura.in").is_err());
        assert!(check_policy("Monsoon-at-Neermahal", "asha@tripura.in").is_ok());
    }
}
