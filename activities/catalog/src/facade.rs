//! [`Catalog`], the catalog context's one door: the API and the workers reach destinations,
//! stays, experiences, packages and prices only through it.
//!
//! Its methods are written beside the queries they run (`search`, `places`, `packages`,
//! `manage`). The offer lookup here also exists as a function over a bare pool, for the code
//! that has no `Catalog` (tests that set up their own databases).

use crate::store::{self, RoomOffer};
use sqlx::{PgPool, postgres::PgRow};
use uuid::Uuid;

/// The catalog context: owns its pool; every read and write of its tables is one of its
/// methods.
#[derive(Clone)]
pub struct Catalog {
    pub(crate) pool: PgPool,
}

impl Catalog {
    pub fn new(pool: PgPool) -> Self {
        Catalog { pool }
    }

    /// Whether the catalog's database answers (readiness probes).
    pub async fn is_reachable(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The offer for one room type of a published accommodation, by public codes.
    pub async fn find_offer(
        &self,
        accommodation_code: &str,
        room_type: &str,
    ) -> Result<Option<RoomOffer>, sqlx::Error> {
        store::find_offer(&self.pool, accommodation_code, room_type).await
    }

    /// The rows `sql` selects for a whole page of ids at once (`= ANY($1)`): what a page
    /// needs from a related table costs one query, whatever the page size.
    pub(crate) async fn rows_for_page<T>(&self, sql: &str, ids: &[Uuid]) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
    {
        sqlx::query_as(sql).bind(ids).fetch_all(&self.pool).await
    }
}
