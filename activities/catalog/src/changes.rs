//! The catalog's version as this process last heard it (migration `0003_catalog_version`):
//! every change to a catalog table moves the version and announces it on the channel
//! `catalog_changed`, so a process can keep pages read at a version for as long as the
//! version stays, and drop them the moment it moves, whichever replica made the change.

use crate::Catalog;
use sqlx::{PgPool, postgres::PgListener};
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// The channel the catalog's trigger announces each new version on.
const CHANNEL: &str = "catalog_changed";
/// How long to wait before listening again after the connection was lost.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// The catalog's version as last heard; unknown (`None`) until the process listens, and
/// again whenever the connection that listens is lost, since changes made meanwhile went
/// unheard.
#[derive(Clone, Debug, Default)]
pub struct CatalogVersion(Arc<AtomicU64>);

impl CatalogVersion {
    /// The version, while this process is sure to hear of the next change.
    pub fn current(&self) -> Option<u64> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            version => Some(version),
        }
    }

    /// Versions only move forward: a late notification never moves one back.
    fn heard(&self, version: u64) {
        self.0.fetch_max(version, Ordering::AcqRel);
    }

    fn forget(&self) {
        self.0.store(0, Ordering::Release);
    }

    /// A version that is never heard of (for tests of the code that reads it).
    pub fn fixed(version: u64) -> Self {
        CatalogVersion(Arc::new(AtomicU64::new(version)))
    }
}

impl Catalog {
    /// Starts following the catalog's version on a connection of its own, for as long as
    /// the runtime runs; the version is unknown until the first read after listening.
    pub fn follow_version(&self) -> CatalogVersion {
        let version = CatalogVersion::default();
        tokio::spawn(follow(self.pool.clone(), version.clone()));
        version
    }
}

async fn follow(pool: PgPool, version: CatalogVersion) {
    loop {
        if let Err(e) = listen(&pool, &version).await {
            tracing::warn!(error = %e, "lost the catalog's change notifications; listening again");
        }
        version.forget();
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}

/// Listens first, then reads the version: a change committed in between is both read and
/// heard, never missed. Returns when the connection is lost.
async fn listen(pool: &PgPool, version: &CatalogVersion) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    let now: i64 = sqlx::query_scalar("SELECT version FROM catalog_version").fetch_one(pool).await?;
    version.heard(u64::try_from(now).unwrap_or(0));
    // `try_recv` answers `None` when the connection dropped (notifications may have been
    // missed): start again from a fresh read.
    while let Some(notification) = listener.try_recv().await? {
        match notification.payload().parse::<u64>() {
            Ok(heard) => version.heard(heard),
            Err(_) => tracing::warn!(payload = notification.payload(), "an unreadable catalog version"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_only_moves_forward_and_is_unknown_once_forgotten() {
        let version = CatalogVersion::default();
        assert_eq!(version.current(), None);
        version.heard(7);
        version.heard(5);
        assert_eq!(version.current(), Some(7));
        version.forget();
        assert_eq!(version.current(), None);
    }
}
