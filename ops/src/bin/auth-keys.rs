//! The access-token key ring (`auth::keys`):
//!
//! - `auth-keys init <file>`: writes a ring with one fresh Ed25519 signing key, unless the
//!   file exists (so the dev stack can run it every time).
//! - `auth-keys public <file> <out>`: writes the ring's public keys only, for the services
//!   that verify tokens but must never issue one.
//! - `auth-keys rotate <file> [grace-seconds]`: a fresh key signs from now on; the previous
//!   one keeps verifying for the grace period (default 1 800 s, twice the access-token
//!   lifetime). Roll the API out with the new file; nobody is logged out.

use std::{path::PathBuf, time::Duration};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: auth-keys init <file> | auth-keys public <file> <out> | auth-keys rotate <file> [grace-seconds]";
    let (command, path) = match args.as_slice() {
        [command, path, ..] => (command.as_str(), PathBuf::from(path)),
        _ => anyhow::bail!(usage),
    };
    let now = chrono::Utc::now();
    match command {
        "init" if path.exists() => println!("{} exists; left as it is", path.display()),
        "init" => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            auth::keys::write_ring_file(&path, &auth::keys::new_ring_file(now)?)?;
            println!("wrote a new key ring to {}", path.display());
        }
        "public" => {
            let out = PathBuf::from(args.get(2).ok_or_else(|| anyhow::anyhow!(usage))?);
            let file: auth::keys::KeyRingFile = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
            auth::keys::write_ring_file(&out, &auth::keys::public_only(&file)?)?;
            println!("wrote the public keys of {} to {}", path.display(), out.display());
        }
        "rotate" => {
            let grace = Duration::from_secs(args.get(2).map(|g| g.parse()).transpose()?.unwrap_or(1800));
            let text = std::fs::read_to_string(&path)?;
            let file: auth::keys::KeyRingFile = serde_json::from_str(&text)?;
            let rotated = auth::keys::rotate(&file, now, grace)?;
            auth::keys::write_ring_file(&path, &rotated)?;
            println!("{} now signs with {}", path.display(), rotated.signing_kid.unwrap_or_default());
        }
        _ => anyhow::bail!(usage),
    }
    Ok(())
}
