//! API keys: `tt_live_<prefix>_<secret>`. The prefix (10 characters) is visible and finds the
//! key; the whole key is shown once when it is issued and stored only as its SHA-256 hash.
//! A fast hash is enough here: the secret is 40 random characters (about 206 bits), so
//! there is nothing to guess that a slow hash would protect.

use rand::{Rng, distributions::Uniform};
use sha2::{Digest, Sha256};

const SCHEME: &str = "tt_live_";
/// Characters of the visible prefix.
pub const PREFIX_LEN: usize = 10;
/// Characters of the secret part.
const SECRET_LEN: usize = 40;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A freshly made key: `plaintext` goes to the partner once and is never stored.
pub struct NewKey {
    pub plaintext: String,
    pub prefix: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

fn random_text(len: usize) -> String {
    let pick = Uniform::from(0..ALPHABET.len());
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(ALPHABET[rng.sample(pick)])).collect()
}

pub fn hash(plaintext: &str) -> [u8; 32] {
    Sha256::digest(plaintext.as_bytes()).into()
}

/// Makes a new random key.
pub fn generate() -> NewKey {
    let prefix = random_text(PREFIX_LEN);
    let plaintext = format!("{SCHEME}{prefix}_{}", random_text(SECRET_LEN));
    NewKey { hash: hash(&plaintext), plaintext, prefix }
}

/// A key as a client presented it: its prefix and the hash of the whole key, or `None` when
/// it does not have the shape of one of ours.
pub fn parse(presented: &str) -> Option<(String, [u8; 32])> {
    let rest = presented.strip_prefix(SCHEME)?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| ALPHABET.contains(&b));
    (well_formed(prefix, PREFIX_LEN) && well_formed(secret, SECRET_LEN)).then(|| (prefix.to_string(), hash(presented)))
}

/// Compares two hashes in constant time.
pub fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_back_to_its_prefix_and_hash() {
        let key = generate();
        assert!(key.plaintext.starts_with(&format!("tt_live_{}_", key.prefix)));
        assert_eq!(key.plaintext.len(), SCHEME.len() + PREFIX_LEN + 1 + SECRET_LEN);
        let (prefix, hash) = parse(&key.plaintext).unwrap();
        assert_eq!((prefix, hash), (key.prefix.clone(), key.hash));
        assert!(!format!("{key:?}").contains(&key.plaintext[SCHEME.len() + PREFIX_LEN + 1..]));
    }

    #[test]
    fn anything_else_is_not_a_key() {
        let key = generate().plaintext;
        for bad in [
            "",
            "Bearer x",
            &key[..key.len() - 1],
            &format!("{key}a"),
            &key.replace("tt_live_", "tt_test_"),
            &key.to_uppercase(),
            &key.replacen('_', "-", 3),
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hashes_compare_by_content() {
        assert!(same_hash(&hash("a"), &hash("a")));
        assert!(!same_hash(&hash("a"), &hash("b")));
        assert!(!same_hash(&hash("a"), &hash("a")[..31]));
    }
}
