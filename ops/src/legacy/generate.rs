//! The generator: schema_v3 filled at a chosen scale, every row a function of the seed.
//!
//! Bad rows (the import must reject them) are planted without dependents, so each is exactly
//! one reject; dirty rows (the import cleans them) are planted at small rates, each at least
//! once. Both are recorded in the [`Manifest`] as they are written.

// Amounts in paise are written rupees_paise (4_999_00 is ₹4,999.00).
#![allow(clippy::inconsistent_digit_grouping)]

use super::content::{self, slugify};
use super::copy::Sink;
use super::{Manifest, Oversold, Planted};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap, HashSet};
use tokio::runtime::Handle;

/// When the monolith stopped taking bookings, local time (Asia/Kolkata).
pub const CUTOVER: &str = "2026-03-01 00:00:00";
/// The legacy password of the demo accounts ([`Manifest::demo_users`]).
pub const DEMO_PASSWORD: &str = "Agartala@2019";

/// Demo accounts: e-mail, name, legacy role.
const DEMO_USERS: [(&str, &str, i64); 4] = [
    ("ananya.debbarma@gmail.com", "Ananya Debbarma", ROLE_CUSTOMER),
    ("bikram.reang@tripuratourism.gov.in", "Bikram Reang", ROLE_HOTEL_MANAGER),
    ("chandana.jamatia@tripuratourism.gov.in", "Chandana Jamatia", ROLE_OPERATOR),
    ("debashish.tripura@tripuratourism.gov.in", "Debashish Tripura", ROLE_ADMIN),
];
const ROLE_CUSTOMER: i64 = 1;
const ROLE_HOTEL_MANAGER: i64 = 2;
const ROLE_OPERATOR: i64 = 3;
const ROLE_ADMIN: i64 = 4;
/// Other passwords the generated accounts share (hashed once each).
const OTHER_PASSWORDS: [&str; 4] = ["tripura123", "Unakoti#2021", "neermahal", "Jampui-Hills-7"];
const BCRYPT_COST: u32 = 10;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Bookings (other tables scale with it).
    pub scale: u32,
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options { scale: 3_000, seed: 19 }
    }
}

/// How many of `n` rows carry a case: `rate` of them, and at least one.
fn how_many(n: u64, rate: f64) -> usize {
    ((n as f64 * rate).round() as usize).max(1)
}

/// Distinct indices in `from..n` not yet `taken`, `count` of them (fewer if there is no room).
fn pick(rng: &mut ChaCha8Rng, from: u32, n: u32, count: usize, taken: &mut HashSet<u32>) -> Vec<u32> {
    let room = (n.saturating_sub(from) as usize).saturating_sub(taken.len());
    let mut out = Vec::with_capacity(count.min(room));
    while out.len() < count.min(room) {
        let i = rng.gen_range(from..n);
        if taken.insert(i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    out
}

/// Serial ids with a gap every `every` (rows deleted long ago): a reference to a gap is an orphan.
struct Ids {
    last: i64,
    every: i64,
}

impl Ids {
    fn new(every: i64) -> Ids {
        Ids { last: 0, every }
    }
    fn next(&mut self) -> i64 {
        self.last += 1;
        if self.last % self.every == 0 {
            self.last += 1;
        }
        self.last
    }
    /// An id that was never (and will never be) given out.
    fn gap(&self) -> i64 {
        self.every * (self.last / self.every).max(1)
    }
}

/// Cases planted at the first chance at or after each trigger (a booking index).
struct Owed {
    triggers: Vec<u32>,
    owed: u32,
}

impl Owed {
    fn new(mut triggers: Vec<u32>) -> Owed {
        triggers.sort_unstable_by(|a, b| b.cmp(a));
        Owed { triggers, owed: 0 }
    }
    fn pass(&mut self, i: u32) {
        while self.triggers.last().is_some_and(|&t| t <= i) {
            self.triggers.pop();
            self.owed += 1;
        }
    }
    fn take(&mut self) -> bool {
        if self.owed > 0 {
            self.owed -= 1;
            true
        } else {
            false
        }
    }
}

fn at(day: NaiveDate, secs: i64) -> NaiveDateTime {
    day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::seconds(secs)
}

fn cutover() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(CUTOVER, "%Y-%m-%d %H:%M:%S").expect("CUTOVER is a timestamp")
}

fn hex(rng: &mut ChaCha8Rng, len: usize) -> String {
    const HEX: &[u8] = b"0123456789abcdef";
    (0..len).map(|_| HEX[rng.gen_range(0..16)] as char).collect()
}

fn alnum(rng: &mut ChaCha8Rng, len: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..len).map(|_| A[rng.gen_range(0..A.len())] as char).collect()
}

fn phone(rng: &mut ChaCha8Rng) -> String {
    format!("+91{}{:09}", rng.gen_range(6..=9), rng.gen_range(0..1_000_000_000u32))
}

/// A phone number as the back office typed it: the same number, another shape.
fn phone_typed(rng: &mut ChaCha8Rng) -> String {
    let n: String = phone(rng)[3..].to_string();
    match rng.gen_range(0..4) {
        0 => format!("0{} {}", &n[..5], &n[5..]),
        1 => format!("+91-{}-{}", &n[..5], &n[5..]),
        2 => n,
        _ => format!("(+91) {} {}", &n[..5], &n[5..]),
    }
}

fn ip(rng: &mut ChaCha8Rng) -> String {
    let first = [103u8, 117, 49, 157, 182, 223][rng.gen_range(0..6)];
    format!("{first}.{}.{}.{}", rng.r#gen::<u8>(), rng.r#gen::<u8>(), rng.gen_range(1..255u8))
}

/// Half-up rounding of `amount × bp / 10000` (paise).
fn share(amount: i64, bp: i64) -> i64 {
    (amount * bp + 5_000) / 10_000
}

/// An account's name and e-mail, from its id and what was drawn for it.
#[derive(Clone, Copy)]
struct Person {
    first: u8,
    last: u8,
    domain: u8,
}

impl Person {
    fn draw(rng: &mut ChaCha8Rng) -> Person {
        Person {
            first: rng.gen_range(0..content::FIRST_NAMES.len()) as u8,
            last: rng.gen_range(0..content::SURNAMES.len()) as u8,
            domain: rng.gen_range(0..content::MAIL_DOMAINS.len()) as u8,
        }
    }
    fn name(self) -> String {
        format!("{} {}", content::FIRST_NAMES[self.first as usize], content::SURNAMES[self.last as usize])
    }
    fn email(self, id: i64) -> String {
        format!(
            "{}.{}{id}@{}",
            content::FIRST_NAMES[self.first as usize].to_lowercase(),
            content::SURNAMES[self.last as usize].to_lowercase(),
            content::MAIL_DOMAINS[self.domain as usize]
        )
    }
}

/// The same address as typed by someone who capitalises: differs from `email` only by case.
fn recased(email: &str) -> String {
    let mut up = true;
    email
        .chars()
        .map(|c| {
            let out = if up { c.to_ascii_uppercase() } else { c };
            up = matches!(c, '.' | '@');
            out
        })
        .collect()
}

struct RoomType {
    accommodation_id: i64,
    name: &'static str,
    tariff: i64,
    occupancy: i16,
    allotment: i64,
}

struct PackageRow {
    id: i64,
    nights: i32,
    price: i64,
}

struct Gen<'a> {
    rt: Handle,
    pool: &'a PgPool,
    opts: Options,
    bad: Vec<Planted>,
    dirty: Vec<Planted>,
    rows: BTreeMap<String, u64>,
    /// The calendar: nights from `start`, `days` of them.
    start: NaiveDate,
    days: i64,
    cutover: NaiveDateTime,
}

impl Gen<'_> {
    fn rng(&self, phase: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(self.opts.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ phase)
    }
    fn open(&self, table: &'static str, columns: &str) -> Sink {
        Sink::open(&self.rt, self.pool, table, columns)
    }
    fn close(&mut self, sinks: Vec<Sink>) -> anyhow::Result<()> {
        for sink in sinks {
            let (table, rows) = sink.finish(&self.rt)?;
            self.rows.insert(table.to_string(), rows);
        }
        Ok(())
    }
    fn bad(&mut self, table: &str, id: i64, case: &str) {
        self.bad.push(Planted { table: table.into(), id, case: case.into() });
    }
    fn dirty(&mut self, table: &str, id: i64, case: &str) {
        self.dirty.push(Planted { table: table.into(), id, case: case.into() });
    }
    /// When a booking for `day` was made: `min_days` to `max_days` before, and before the
    /// last two days of the monolith (bookings made then are the ones in flight).
    fn created_before(&self, rng: &mut ChaCha8Rng, day: NaiveDate, min_days: i64, max_days: i64) -> NaiveDateTime {
        let t = at(day, 0) - Duration::seconds(rng.gen_range(min_days * 86_400..max_days * 86_400));
        if t >= self.cutover - Duration::days(2) {
            self.cutover - Duration::days(2) - Duration::seconds(rng.gen_range(0..30 * 86_400))
        } else {
            t
        }
    }
}

struct Catalog {
    /// Good accommodations' room types; `cell = room_type_index * days + day`.
    room_types: Vec<RoomType>,
    packages: Vec<PackageRow>,
    /// Every accommodation id ever given out (bad ones included).
    last_accommodation_id: i64,
    good_accommodations: Vec<i64>,
}

pub(super) async fn fill(pool: &PgPool, opts: Options) -> anyhow::Result<Manifest> {
    anyhow::ensure!(opts.scale >= 1, "the scale is the number of bookings, at least 1");
    // Loaded like a restore: foreign keys are checked once, after every table is in.
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text, conname",
    )
    .fetch_all(pool)
    .await?;
    for (table, name, _) in &fks {
        sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}")).execute(pool).await?;
    }
    let rt = Handle::current();
    let pool2 = pool.clone();
    let manifest = tokio::task::spawn_blocking(move || fill_blocking(rt, &pool2, opts)).await??;
    for (table, name, definition) in &fks {
        sqlx::query(&format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")).execute(pool).await?;
    }
    for table in super::TABLES {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        ))
        .execute(pool)
        .await?;
    }
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(manifest)
}

fn fill_blocking(rt: Handle, pool: &PgPool, opts: Options) -> anyhow::Result<Manifest> {
    let cutover = cutover();
    let past_days = (i64::from(opts.scale) / 8).clamp(180, 1_095);
    let start = cutover.date() - Duration::days(past_days);
    let mut g = Gen {
        rt,
        pool,
        opts,
        bad: Vec::new(),
        dirty: Vec::new(),
        rows: BTreeMap::new(),
        start,
        days: past_days + 180,
        cutover,
    };
    let catalog = catalog(&mut g)?;
    let users = users(&mut g, &catalog)?;
    let partners = partners(&mut g)?;
    let (confirmed, pending, oversold_cells) = bookings(&mut g, &catalog, &users, &partners)?;
    let oversold = availability(&mut g, &catalog, &confirmed, &pending, oversold_cells)?;
    g.bad.sort();
    g.dirty.sort();
    Ok(Manifest {
        seed: opts.seed,
        scale: opts.scale,
        cutover: CUTOVER.into(),
        rows: g.rows,
        bad: g.bad,
        dirty: g.dirty,
        oversold,
        demo_users: DEMO_USERS.iter().map(|(email, _, _)| email.to_string()).collect(),
    })
}

fn catalog(g: &mut Gen) -> anyhow::Result<Catalog> {
    let mut rng = g.rng(1);
    let opened = at(g.start, 0) - Duration::days(900);
    let mut roles = g.open("roles", "id, name, description, created_at");
    let mut permissions = g.open("permissions", "id, role_id, code, created_at");
    let role_rows: [(i64, &str, &str, &[&str]); 5] = [
        (
            ROLE_CUSTOMER,
            "CUSTOMER",
            "Registered traveller",
            &["booking.create", "booking.view.own", "booking.cancel.own"],
        ),
        (
            ROLE_HOTEL_MANAGER,
            "HOTEL_MANAGER",
            "Manages assigned properties",
            &["property.edit.assigned", "availability.edit.assigned"],
        ),
        (
            ROLE_OPERATOR,
            "OPERATOR",
            "Tourism department back office",
            &[
                "booking.view.all",
                "booking.cancel.all",
                "booking.override",
                "property.edit.all",
                "availability.edit.all",
                "user.view",
            ],
        ),
        (
            ROLE_ADMIN,
            "ADMIN",
            "Administrator",
            &[
                "booking.view.all",
                "booking.cancel.all",
                "booking.override",
                "property.edit.all",
                "availability.edit.all",
                "user.view",
                "user.edit",
                "partner.edit",
            ],
        ),
        (5, "SUPERADMIN", "Vendor support account", &["*"]),
    ];
    let mut permission_id = 0;
    for (id, name, description, codes) in role_rows {
        roles.int(id).text(name).text(description).ts(opened).end()?;
        for code in codes {
            permission_id += 1;
            permissions.int(permission_id).int(id).text(code).ts(opened).end()?;
        }
    }

    let mut destinations = g.open(
        "destinations",
        "id, name, slug, district, description, latitude, longitude, is_published, created_at, updated_at",
    );
    let mut images = g.open("destination_images", "id, destination_id, url, caption, sort_order, created_at");
    let n_dest = content::DESTINATIONS.len() as u32;
    let mut taken = HashSet::new();
    let no_slug: HashSet<u32> =
        pick(&mut rng, 0, n_dest, how_many(n_dest.into(), 0.15), &mut taken).into_iter().collect();
    let mut image_id = 0;
    for (i, (name, district, lat, lon)) in content::DESTINATIONS.iter().enumerate() {
        let id = i as i64 + 1;
        let created = opened + Duration::days(i as i64 * 11);
        let slug = (!no_slug.contains(&(i as u32))).then(|| slugify(name));
        if slug.is_none() {
            g.dirty("destinations", id, "slug_missing");
        }
        destinations
            .int(id)
            .text(name)
            .opt_text(slug.as_deref())
            .text(district)
            .text(&format!("{name}, {district} district: one of Tripura's best loved places."))
            .text(&format!("{lat:.6}"))
            .text(&format!("{lon:.6}"))
            .text(if i < 18 { "Y" } else { "N" })
            .ts(created)
            .opt_ts((i % 3 != 0).then(|| created + Duration::days(200)))
            .end()?;
        for k in 0..rng.gen_range(1..=3) {
            image_id += 1;
            images
                .int(image_id)
                .int(id)
                .text(&format!("https://tripuratourism.gov.in/uploads/destinations/{}-{}.jpg", slugify(name), k + 1))
                .opt_text((k == 0).then_some(*name))
                .opt_int((rng.gen_range(0..10) > 0).then_some(k))
                .ts(created)
                .end()?;
        }
    }

    // Accommodations: the state's lodges, then more from the same places at larger scales.
    let n_good = (content::LODGES.len() as u32 + g.opts.scale / 20_000).min(150);
    let n_bad = how_many(n_good.into(), 0.02) as u32;
    let total = n_good + n_bad;
    let mut taken = HashSet::new();
    let bad_acc: HashSet<u32> = pick(&mut rng, 0, total, n_bad as usize, &mut taken).into_iter().collect();
    let no_slug: HashSet<u32> = pick(&mut rng, 0, total, how_many(total.into(), 0.1), &mut taken).into_iter().collect();
    let odd_kind: HashSet<u32> =
        pick(&mut rng, 0, total, how_many(total.into(), 0.08), &mut taken).into_iter().collect();
    let mut accommodations = g.open(
        "accommodations",
        "id, destination_id, name, slug, type, description, address, is_published, created_at, updated_at",
    );
    let mut room_types = Vec::new();
    let mut good_accommodations = Vec::new();
    let mut good_seen = 0usize;
    for i in 0..total {
        let id = i64::from(i) + 1;
        let (name, dest, kind) = if bad_acc.contains(&i) {
            // A lodge of a destination merged away by hand (destination ids stop at 20).
            (format!("Hotel {} Annexe", content::LODGE_WORDS[i as usize % 16]), 23 + i as usize, "Hotel")
        } else {
            let k = good_seen;
            good_seen += 1;
            if let Some((name, dest, kind)) = content::LODGES.get(k) {
                (name.to_string(), *dest, *kind)
            } else {
                let dest = k % content::DESTINATIONS.len();
                let word = content::LODGE_WORDS[(k / content::DESTINATIONS.len()) % 16];
                let kind = content::KINDS[k % content::KINDS.len()];
                let place = content::DESTINATIONS[dest].0;
                let name = match kind {
                    "Hotel" => format!("Hotel {word} {place}"),
                    "Homestay" => format!("{word} Homestay, {place}"),
                    "Resort" => format!("{place} {word} Resort"),
                    "Guest House" => format!("{word} Guest House {place}"),
                    _ => format!("{word} Eco Lodge {place}"),
                };
                (name, dest, kind)
            }
        };
        let kind = if odd_kind.contains(&i) {
            g.dirty("accommodations", id, "kind_spelling");
            content::KIND_VARIANTS[i as usize % content::KIND_VARIANTS.len()]
        } else {
            kind
        };
        let slug = (!no_slug.contains(&i)).then(|| slugify(&name));
        if slug.is_none() {
            g.dirty("accommodations", id, "slug_missing");
        }
        if bad_acc.contains(&i) {
            g.bad("accommodations", id, "orphan_destination");
        }
        let place = content::DESTINATIONS.get(dest).map_or("Agartala", |d| d.0);
        let created = opened + Duration::days(i64::from(i) * 3);
        accommodations
            .int(id)
            .int(dest as i64 + 1)
            .text(&name)
            .opt_text(slug.as_deref())
            .text(kind)
            .text(&format!("{name}: comfortable rooms near {place}."))
            .opt_text((i % 7 != 3).then(|| format!("Near {place} bus stand, {place}, Tripura")).as_deref())
            .text("Y")
            .ts(created)
            .opt_ts(None)
            .end()?;
        if bad_acc.contains(&i) {
            continue;
        }
        good_accommodations.push(id);
        let mut kinds: Vec<usize> = (0..content::ROOM_TYPES.len()).collect();
        kinds.shuffle(&mut rng);
        for &k in kinds.iter().take(rng.gen_range(1..=3)) {
            let (name, occupancy, tariff) = content::ROOM_TYPES[k];
            room_types.push(RoomType {
                accommodation_id: id,
                name,
                tariff: tariff + (id % 5) * 150_00,
                occupancy,
                allotment: rng.gen_range(5..=25),
            });
        }
    }

    let mut experiences = g.open(
        "experiences",
        "id, name, slug, description, duration_hours, price, is_published, created_at, updated_at",
    );
    let mut exp_dest = g.open("experience_destinations", "id, experience_id, destination_id");
    let n_exp = content::EXPERIENCES.len() as u32;
    let mut taken = HashSet::new();
    let no_slug: HashSet<u32> =
        pick(&mut rng, 0, n_exp, how_many(n_exp.into(), 0.15), &mut taken).into_iter().collect();
    let mut link_id = 0;
    for (i, (name, hours, price)) in content::EXPERIENCES.iter().enumerate() {
        let id = i as i64 + 1;
        let slug = (!no_slug.contains(&(i as u32))).then(|| slugify(name));
        if slug.is_none() {
            g.dirty("experiences", id, "slug_missing");
        }
        experiences
            .int(id)
            .text(name)
            .opt_text(slug.as_deref())
            .text(&format!("{name}, with a local guide."))
            .text(hours)
            .money(*price)
            .text("Y")
            .ts(opened + Duration::days(30 + i as i64))
            .opt_ts(None)
            .end()?;
        let mut dests: Vec<usize> = (0..content::DESTINATIONS.len()).collect();
        dests.shuffle(&mut rng);
        for d in dests.iter().take(rng.gen_range(1..=2)) {
            link_id += 1;
            exp_dest.int(link_id).int(id).int(*d as i64 + 1).end()?;
        }
    }

    let mut packages =
        g.open("packages", "id, name, slug, description, nights, max_group_size, is_published, created_at, updated_at");
    let mut pkg_dest = g.open("package_destinations", "id, package_id, destination_id, day_no");
    let mut pkg_exp = g.open("package_experiences", "id, package_id, experience_id, day_no");
    let mut amenities = g.open("amenities", "id, name, code, created_at");
    let mut pkg_amen = g.open("package_amenities", "id, package_id, amenity_id");
    let mut pricing =
        g.open("package_pricing", "id, package_id, pricing_type, valid_from, valid_to, price, child_price, created_at");
    let n_pkg = content::PACKAGES.len() as u32;
    let mut taken = HashSet::new();
    let no_slug: HashSet<u32> =
        pick(&mut rng, 0, n_pkg, how_many(n_pkg.into(), 0.15), &mut taken).into_iter().collect();
    let no_size: HashSet<u32> =
        pick(&mut rng, 0, n_pkg, how_many(n_pkg.into(), 0.15), &mut taken).into_iter().collect();
    let overlap_at = rng.gen_range(0..n_pkg);
    let n_amen = content::AMENITIES.len() as u32;
    let mut taken = HashSet::new();
    let no_code: HashSet<u32> =
        pick(&mut rng, 0, n_amen, how_many(n_amen.into(), 0.2), &mut taken).into_iter().collect();
    for (i, name) in content::AMENITIES.iter().enumerate() {
        let id = i as i64 + 1;
        let code = (!no_code.contains(&(i as u32))).then(|| slugify(name));
        if code.is_none() {
            g.dirty("amenities", id, "code_missing");
        }
        amenities.int(id).text(name).opt_text(code.as_deref()).ts(opened).end()?;
    }
    let mut out_packages = Vec::new();
    let (mut dest_link, mut exp_link, mut amen_link, mut price_id) = (0, 0, 0, 0);
    for (i, (name, nights, price, dests, exps)) in content::PACKAGES.iter().enumerate() {
        let id = i as i64 + 1;
        let slug = (!no_slug.contains(&(i as u32))).then(|| slugify(name));
        if slug.is_none() {
            g.dirty("packages", id, "slug_missing");
        }
        let size = (!no_size.contains(&(i as u32))).then_some(12 + (i as i64 % 3) * 4);
        if size.is_none() {
            g.dirty("packages", id, "group_size_missing");
        }
        packages
            .int(id)
            .text(name)
            .opt_text(slug.as_deref())
            .text(&format!("{name}: {nights} nights with transport and guide."))
            .int(i64::from(*nights))
            .opt_int(size)
            .text(if i < 7 { "Y" } else { "N" })
            .ts(opened + Duration::days(60 + i as i64))
            .opt_ts(None)
            .end()?;
        for (day, d) in dests.iter().enumerate() {
            dest_link += 1;
            pkg_dest
                .int(dest_link)
                .int(id)
                .int(*d as i64 + 1)
                .opt_int((day % 4 != 3).then_some(day as i64 + 1))
                .end()?;
        }
        for (day, e) in exps.iter().enumerate() {
            exp_link += 1;
            pkg_exp.int(exp_link).int(id).int(*e as i64 + 1).opt_int(Some(day as i64 + 1)).end()?;
        }
        let mut amen: Vec<i64> = (1..=i64::from(n_amen)).collect();
        amen.shuffle(&mut rng);
        for a in amen.iter().take(rng.gen_range(2..=5)) {
            amen_link += 1;
            pkg_amen.int(amen_link).int(id).int(*a).end()?;
        }
        // Seasons: April to September and October to March, each year of the calendar.
        let basis = ["PER_PERSON", "per person", "Per Person"][i % 3];
        let first_year = g.start.year() - 1;
        let last_year = (g.start + Duration::days(g.days)).year();
        for year in first_year..=last_year {
            for (from, to, uplift) in [((year, 4, 1), (year, 9, 30), 0), ((year, 10, 1), (year + 1, 3, 31), 12)] {
                price_id += 1;
                let from = NaiveDate::from_ymd_opt(from.0, from.1, from.2).expect("a date");
                let to = NaiveDate::from_ymd_opt(to.0, to.1, to.2).expect("a date");
                let season_price = price + share(*price, uplift * 100);
                pricing
                    .int(price_id)
                    .int(id)
                    .text(basis)
                    .date(from)
                    .date(to)
                    .money(season_price)
                    .opt_money((i % 2 == 0).then(|| share(season_price, 6_000)))
                    .ts(opened)
                    .end()?;
                if i as u32 == overlap_at && year == last_year - 1 && uplift == 0 {
                    // A "festival price" typed over the summer season.
                    price_id += 1;
                    g.bad("package_pricing", price_id, "overlapping_season");
                    pricing
                        .int(price_id)
                        .int(id)
                        .text(basis)
                        .date(from + Duration::days(120))
                        .date(from + Duration::days(135))
                        .money(season_price + 2_000_00)
                        .null()
                        .ts(opened)
                        .end()?;
                }
            }
        }
        out_packages.push(PackageRow { id, nights: *nights, price: *price });
    }

    let mut policies = g.open("cancellation_policies", "id, name, code, rules, refund_gst, created_at");
    policies.int(1).text("Standard").text("STANDARD").text("7:100,2:50,0:0").text("Y").ts(opened).end()?;
    policies.int(2).text("Package tours").null().text("30:100,15:50,0:0").text("Y").ts(opened).end()?;

    g.close(vec![
        roles,
        permissions,
        destinations,
        images,
        accommodations,
        experiences,
        exp_dest,
        packages,
        pkg_dest,
        pkg_exp,
        amenities,
        pkg_amen,
        pricing,
        policies,
    ])?;
    Ok(Catalog { room_types, packages: out_packages, last_accommodation_id: i64::from(total), good_accommodations })
}

struct Users {
    /// Per user (index = id - 1): who they are; `None` for planted bad accounts.
    people: Vec<Option<Person>>,
    /// Ids of accounts that book (good, not back-office).
    bookers: Vec<i64>,
    operators: Vec<i64>,
}

fn users(g: &mut Gen, catalog: &Catalog) -> anyhow::Result<Users> {
    let mut rng = g.rng(2);
    let n = (g.opts.scale / 3).max(300);
    let mut taken: HashSet<u32> = (0..DEMO_USERS.len() as u32).collect();
    let bad: HashSet<u32> = pick(&mut rng, 0, n, how_many(n.into(), 0.002), &mut taken).into_iter().collect();
    let dup: HashSet<u32> = pick(&mut rng, 50, n, how_many(n.into(), 0.005), &mut taken).into_iter().collect();
    let odd_status: HashSet<u32> = pick(&mut rng, 0, n, how_many(n.into(), 0.01), &mut taken).into_iter().collect();
    let no_name: HashSet<u32> = pick(&mut rng, 0, n, how_many(n.into(), 0.005), &mut taken).into_iter().collect();
    let mut cred_taken: HashSet<u32> = (0..DEMO_USERS.len() as u32).chain(bad.iter().copied()).collect();
    let odd_hash: HashSet<u32> = pick(&mut rng, 0, n, how_many(n.into(), 0.002), &mut cred_taken).into_iter().collect();
    let no_attempts: HashSet<u32> =
        pick(&mut rng, 0, n, how_many(n.into(), 0.01), &mut cred_taken).into_iter().collect();

    // bcrypt is slow on purpose: each password is hashed once, with a salt from the seed.
    let hash = |rng: &mut ChaCha8Rng, password: &str| -> anyhow::Result<String> {
        Ok(bcrypt::hash_with_salt(password, BCRYPT_COST, rng.r#gen::<[u8; 16]>())?
            .format_for_version(bcrypt::Version::TwoB))
    };
    let demo_hash = hash(&mut rng, DEMO_PASSWORD)?;
    let other_hashes = OTHER_PASSWORDS.iter().map(|p| hash(&mut rng, p)).collect::<anyhow::Result<Vec<_>>>()?;

    let mut users = g.open("users", "id, email, full_name, phone, status, created_at, updated_at");
    let mut creds = g.open(
        "user_credentials",
        "id, user_id, password_hash, failed_attempts, locked_until, password_changed_at, created_at, updated_at",
    );
    let mut user_roles = g.open("user_roles", "id, user_id, role_id, granted_by, created_at");
    let mut sessions =
        g.open("user_sessions", "id, user_id, session_token, user_agent, ip_address, expires_at, revoked, created_at");
    let mut logs = g.open("user_activity_logs", "id, user_id, action, outcome, ip_address, details, created_at");
    let mut assignments = g.open("asset_manager_assignments", "id, user_id, accommodation_id, assigned_by, created_at");

    let first_signup = at(g.start, 0) - Duration::days(700);
    let span = (g.cutover - first_signup).num_seconds() - 86_400 * 3;
    let mut people: Vec<Option<Person>> = Vec::with_capacity(n as usize);
    // Accounts already signed up for again (once each: two recasings could be equal).
    let mut duplicated = HashSet::new();
    let (mut bookers, mut operators, mut managers) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cred_id, mut role_id, mut session_id, mut log_id) = (0i64, 0i64, 0i64, 0i64);
    for i in 0..n {
        let id = i64::from(i) + 1;
        // Sign-ups spread over the years, in id order.
        let created = first_signup + Duration::seconds(span * i64::from(i) / i64::from(n) + rng.gen_range(0..3_600));
        if bad.contains(&i) {
            g.bad("users", id, "invalid_email");
            // Unique as typed (the monolith's index refused a second "N/A"), so each carries its id.
            let typed = ["N/A", "", "no email", "9863012345", "rahul.das@", "@gmail.com"][rng.gen_range(0..6)];
            let email = format!("{typed} #{id}");
            users.int(id).text(&email).text("Walk-in Guest").null().text("ACTIVE").ts(created).opt_ts(None).end()?;
            people.push(None);
            continue;
        }
        let (email, name, person) = if let Some((email, name, _)) = DEMO_USERS.get(i as usize) {
            let p = Person::draw(&mut rng);
            (email.to_string(), Some(name.to_string()), p)
        } else if dup.contains(&i) {
            // The same traveller signing up again, capitalising their address this time.
            let j = loop {
                let j = rng.gen_range(DEMO_USERS.len() as u32..i);
                if people[j as usize].is_some() && !dup.contains(&j) && duplicated.insert(j) {
                    break j;
                }
            };
            let p = people[j as usize].expect("checked");
            g.dirty("users", id, "email_case_duplicate");
            (recased(&p.email(i64::from(j) + 1)), Some(p.name()), p)
        } else {
            let p = Person::draw(&mut rng);
            (p.email(id), Some(p.name()), p)
        };
        let name = if no_name.contains(&i) {
            g.dirty("users", id, "full_name_missing");
            None
        } else {
            name
        };
        let status = if odd_status.contains(&i) {
            g.dirty("users", id, "status_spelling");
            ["Active", "active", "inactive", "Blocked", "locked"][rng.gen_range(0..5)]
        } else if rng.gen_range(0..100) == 0 && i >= DEMO_USERS.len() as u32 {
            "DISABLED"
        } else {
            "ACTIVE"
        };
        users
            .int(id)
            .text(&email)
            .opt_text(name.as_deref())
            .opt_text((rng.gen_range(0..10) < 8).then(|| phone(&mut rng)).as_deref())
            .text(status)
            .ts(created)
            .opt_ts((rng.gen_range(0..3) == 0).then(|| created + Duration::days(rng.gen_range(1..400))))
            .end()?;
        people.push(Some(person));

        // Credentials: all but the few who only ever booked by OTP.
        let demo = (i as usize) < DEMO_USERS.len();
        if demo || odd_hash.contains(&i) || no_attempts.contains(&i) || rng.gen_range(0..50) > 0 {
            cred_id += 1;
            let password_hash = if demo {
                demo_hash.clone()
            } else if odd_hash.contains(&i) {
                g.bad("user_credentials", cred_id, "unsupported_password_hash");
                // Unsalted MD5 from the first release, never upgraded.
                hex(&mut rng, 32)
            } else {
                other_hashes[rng.gen_range(0..other_hashes.len())].clone()
            };
            let attempts = if no_attempts.contains(&i) {
                g.dirty("user_credentials", cred_id, "failed_attempts_missing");
                None
            } else {
                Some(if rng.gen_range(0..20) == 0 { rng.gen_range(1..6) } else { 0 })
            };
            creds
                .int(cred_id)
                .int(id)
                .text(&password_hash)
                .opt_int(attempts)
                .opt_ts((attempts == Some(5)).then(|| created + Duration::days(3)))
                .opt_ts((rng.gen_range(0..4) > 0).then_some(created))
                .ts(created)
                .opt_ts(None)
                .end()?;
        }

        let role = match i as usize {
            k if k < DEMO_USERS.len() => DEMO_USERS[k].2,
            _ if i % 500 == 7 => ROLE_HOTEL_MANAGER,
            _ if i % 2_000 == 11 => ROLE_OPERATOR,
            _ => ROLE_CUSTOMER,
        };
        role_id += 1;
        user_roles.int(role_id).int(id).int(role).opt_int((role != ROLE_CUSTOMER).then_some(4)).ts(created).end()?;
        match role {
            ROLE_CUSTOMER => bookers.push(id),
            ROLE_HOTEL_MANAGER => managers.push((id, created)),
            _ => operators.push(id),
        }

        if rng.gen_range(0..10) < 4 {
            session_id += 1;
            let started = created + Duration::seconds(rng.gen_range(0..86_400 * 30));
            sessions
                .int(session_id)
                .int(id)
                .text(&hex(&mut rng, 64))
                .text(content::USER_AGENTS[rng.gen_range(0..content::USER_AGENTS.len())])
                .text(&ip(&mut rng))
                .ts(started + Duration::days(30))
                .text(if rng.gen_range(0..3) == 0 { "Y" } else { "N" })
                .ts(started)
                .end()?;
        }
        for k in 0..rng.gen_range(1..=3) {
            log_id += 1;
            let (action, outcome) = match (k, rng.gen_range(0..10)) {
                (0, _) => ("SIGNUP", "SUCCESS"),
                (_, 0) => ("LOGIN", "FAILURE"),
                (_, 1) => ("PASSWORD_RESET", "SUCCESS"),
                _ => ("LOGIN", "SUCCESS"),
            };
            logs.int(log_id)
                .int(id)
                .text(action)
                .text(outcome)
                .text(&ip(&mut rng))
                .text(&format!("{{\"channel\":\"web\",\"attempt\":{}}}", k + 1))
                .ts(created + Duration::days(i64::from(k) * 17))
                .end()?;
        }
    }
    // Log lines of accounts deleted since: cleaned (their user becomes unknown).
    for k in 0..how_many(n.into(), 0.002) {
        log_id += 1;
        g.dirty("user_activity_logs", log_id, "orphan_user");
        logs.int(log_id)
            .int(i64::from(n) + 1_000 + k as i64)
            .text("LOGIN")
            .text("SUCCESS")
            .text(&ip(&mut rng))
            .text("legacy session")
            .ts(g.cutover - Duration::days(400 + k as i64))
            .end()?;
    }

    let mut assignment_id = 0;
    for (user, created) in &managers {
        for _ in 0..rng.gen_range(1..=2) {
            assignment_id += 1;
            let acc = catalog.good_accommodations[rng.gen_range(0..catalog.good_accommodations.len())];
            assignments.int(assignment_id).int(*user).int(acc).int(4).ts(*created).end()?;
        }
    }
    for k in 0..how_many(managers.len() as u64, 0.05) {
        assignment_id += 1;
        g.bad("asset_manager_assignments", assignment_id, "orphan_accommodation");
        let user = managers.get(k % managers.len().max(1)).map_or(2, |m| m.0);
        assignments
            .int(assignment_id)
            .int(user)
            .int(catalog.last_accommodation_id + 40 + k as i64)
            .int(4)
            .ts(g.cutover - Duration::days(800))
            .end()?;
    }
    g.close(vec![users, creds, user_roles, sessions, logs, assignments])?;
    Ok(Users { people, bookers, operators })
}

struct Partners {
    /// Good partners: id and commission (basis points).
    good: Vec<(i64, i64)>,
}

fn partners(g: &mut Gen) -> anyhow::Result<Partners> {
    let mut rng = g.rng(3);
    let n_good = content::PARTNERS.len() as u32 + (g.opts.scale / 100_000).min(20);
    let n_bad = how_many(n_good.into(), 0.05) as u32;
    let total = n_good + n_bad;
    let mut taken = HashSet::new();
    let bad: HashSet<u32> = pick(&mut rng, 0, total, n_bad as usize, &mut taken).into_iter().collect();
    let no_code: HashSet<u32> =
        pick(&mut rng, 0, total, how_many(total.into(), 0.15), &mut taken).into_iter().collect();
    let mut partners = g.open(
        "api_partners",
        "id, name, code, contact_email, commission_pct, settlement_cycle, status, rate_limit, bank_account_name, \
         bank_ifsc, bank_account_number, created_at, updated_at",
    );
    let mut creds =
        g.open("api_credentials", "id, partner_id, api_key, label, expires_at, revoked, last_used_at, created_at");
    let mut settlements = g.open(
        "partner_settlements",
        "id, partner_id, period_start, period_end, bookings_count, gross_amount, refund_amount, commission_pct, \
         commission_amount, tds_amount, payout_amount, status, paid_on, utr, created_at",
    );
    let mut logs = g.open(
        "api_access_logs",
        "id, partner_id, api_key, http_method, path, status_code, response_ms, ip_address, created_at",
    );
    let joined = at(g.start, 0) - Duration::days(60);
    let mut good = Vec::new();
    let mut keys: Vec<(i64, String)> = Vec::new();
    let (mut cred_id, mut settlement_id) = (0i64, 0i64);
    let mut good_seen = 0usize;
    for i in 0..total {
        let id = i64::from(i) + 1;
        let is_bad = bad.contains(&i);
        let name = if is_bad {
            format!("Test Partner {id}")
        } else {
            let k = good_seen;
            good_seen += 1;
            match content::PARTNERS.get(k) {
                Some(n) => n.to_string(),
                None => {
                    format!("{} {}", content::PARTNERS[k % content::PARTNERS.len()], k / content::PARTNERS.len() + 1)
                }
            }
        };
        let code = (!no_code.contains(&i)).then(|| slugify(&name));
        if code.is_none() {
            g.dirty("api_partners", id, "code_missing");
        }
        let commission_bp = if is_bad {
            g.bad("api_partners", id, "commission_out_of_range");
            // Typed in basis points into a percentage column.
            [12_500, 80_000, 15_000][i as usize % 3]
        } else {
            rng.gen_range(10..=30) * 50
        };
        let account = (!is_bad).then(|| format!("{:012}", rng.gen_range(10_000_000_000u64..1_000_000_000_000)));
        let email_domain = slugify(&name).replace('-', "");
        partners
            .int(id)
            .text(&name)
            .opt_text(code.as_deref())
            .text(&format!("Bookings@{}.in", &email_domain[..email_domain.len().min(20)]))
            .money(commission_bp)
            .text(["WEEKLY", "Weekly", "fortnightly", "MONTHLY"][i as usize % 4])
            .text(if is_bad { "inactive" } else { "ACTIVE" })
            .opt_int((i % 3 != 0).then_some(300))
            .opt_text(account.is_some().then(|| format!("{name} Pvt Ltd")).as_deref())
            .opt_text(
                account
                    .is_some()
                    .then(|| format!("{}0{:06}", content::IFSC_BANKS[i as usize % 5], 100_000 + id))
                    .as_deref(),
            )
            .opt_text(account.as_deref())
            .ts(joined + Duration::days(i64::from(i) * 20))
            .opt_ts(None)
            .end()?;
        if is_bad {
            continue;
        }
        good.push((id, commission_bp));
        for k in 0..rng.gen_range(1..=2) {
            cred_id += 1;
            let key = format!("TTAPI-{}", hex(&mut rng, 32).to_uppercase());
            creds
                .int(cred_id)
                .int(id)
                .text(&key)
                .text(if k == 0 { "production" } else { "staging" })
                .opt_ts((k == 1).then(|| g.cutover + Duration::days(365)))
                .text(if k == 1 && rng.gen_range(0..2) == 0 { "Y" } else { "N" })
                .opt_ts(Some(g.cutover - Duration::seconds(rng.gen_range(60..86_400 * 5))))
                .ts(joined + Duration::days(i64::from(i) * 20))
                .end()?;
            if k == 0 {
                keys.push((id, key));
            }
        }
        // Monthly settlements up to the month before cutover.
        let mut month = NaiveDate::from_ymd_opt(g.start.year(), g.start.month(), 1).expect("a month");
        let last = NaiveDate::from_ymd_opt(2026, 2, 1).expect("a month");
        while month < last {
            let next = month.checked_add_months(chrono::Months::new(1)).expect("a month");
            settlement_id += 1;
            let gross = rng.gen_range(50_000_00..5_00_000_00i64);
            let refunds = share(gross, rng.gen_range(0..1_000));
            let commission = share(gross - refunds, commission_bp);
            let tds = share(commission, 500);
            let status = if next >= last {
                "PENDING"
            } else if next + Duration::days(31) >= last {
                "Approved"
            } else {
                "PAID"
            };
            let paid = (status == "PAID").then(|| at(next, 0) + Duration::days(7) + Duration::hours(11));
            settlements
                .int(settlement_id)
                .int(id)
                .date(month)
                .date(next - Duration::days(1))
                .opt_int(Some(rng.gen_range(5..400)))
                .money(gross)
                .money(refunds)
                .money(commission_bp)
                .money(commission)
                .money(tds)
                .money(commission - tds)
                .text(status)
                .opt_ts(paid)
                .opt_text(
                    paid.map(|_| {
                        format!(
                            "{}{:012}",
                            content::IFSC_BANKS[id as usize % 5],
                            rng.gen_range(0..1_000_000_000_000u64)
                        )
                    })
                    .as_deref(),
                )
                .ts(at(next, 0) + Duration::hours(2))
                .end()?;
            month = next;
        }
    }
    // A payout typed by hand that no longer balances.
    for k in 0..how_many(settlement_id as u64, 0.01) {
        settlement_id += 1;
        g.bad("partner_settlements", settlement_id, "payout_does_not_balance");
        let (partner, bp) = good[k % good.len()];
        let month = NaiveDate::from_ymd_opt(2019, 1 + (k as u32 % 12), 1).expect("a month");
        let commission = share(1_00_000_00, bp);
        settlements
            .int(settlement_id)
            .int(partner)
            .date(month)
            .date(month + Duration::days(27))
            .null()
            .money(1_00_000_00)
            .money(0)
            .money(bp)
            .money(commission)
            .money(share(commission, 500))
            .money(commission)
            .text("PAID")
            .opt_ts(Some(at(month, 0) + Duration::days(40)))
            .null()
            .ts(at(month, 0) + Duration::days(30))
            .end()?;
    }
    let n_logs = u64::from(g.opts.scale).max(500);
    let mut taken = HashSet::new();
    let timed_out: HashSet<u32> =
        pick(&mut rng, 0, n_logs as u32, how_many(n_logs, 0.001), &mut taken).into_iter().collect();
    let orphan: HashSet<u32> =
        pick(&mut rng, 0, n_logs as u32, how_many(n_logs, 0.002), &mut taken).into_iter().collect();
    let span = (g.cutover - at(g.start, 0)).num_seconds();
    for i in 0..n_logs as u32 {
        let id = i64::from(i) + 1;
        let (partner, key) = &keys[rng.gen_range(0..keys.len())];
        let partner = if orphan.contains(&i) {
            g.dirty("api_access_logs", id, "orphan_partner");
            i64::from(total) + 5
        } else {
            *partner
        };
        let status = if timed_out.contains(&i) {
            g.bad("api_access_logs", id, "status_out_of_range");
            0
        } else {
            [200, 200, 200, 200, 201, 200, 404, 409, 422, 500][rng.gen_range(0..10)]
        };
        let (method, path) = match rng.gen_range(0..4) {
            0 => ("POST", "/api/v2/bookings".to_string()),
            1 => ("GET", format!("/api/v2/bookings/{}", rng.gen_range(1..=g.opts.scale))),
            _ => ("GET", format!("/api/v2/availability?accommodation={}", rng.gen_range(1..=40))),
        };
        logs.int(id)
            .int(partner)
            .text(&key[..14])
            .text(method)
            .text(&path)
            .int(status)
            .opt_int((status != 0).then(|| rng.gen_range(8..900)))
            .text(&ip(&mut rng))
            .ts(at(g.start, 0) + Duration::seconds(span * i64::from(i) / n_logs as i64))
            .end()?;
    }
    g.close(vec![partners, creds, settlements, logs])?;
    Ok(Partners { good })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Confirmed,
    Pending,
    Cancelled,
    CancelledUnpaid,
    Failed,
}

enum BadBooking {
    OrphanUser,
    DatesReversed,
    AmountsDoNotAddUp,
    UnknownStatus,
    ConfirmedWithoutPayment,
}

/// Confirmed rooms per cell, blocked rooms per cell, and the oversold cells with the
/// confirmed bookings on each.
type BookingsOut = (Vec<u32>, Vec<u32>, BTreeMap<usize, Vec<i64>>);

fn bookings(g: &mut Gen, catalog: &Catalog, users: &Users, partners: &Partners) -> anyhow::Result<BookingsOut> {
    let mut rng = g.rng(4);
    let n = g.opts.scale;
    let days = g.days;
    let cells = catalog.room_types.len() * days as usize;
    let mut confirmed = vec![0u32; cells];
    let mut pending = vec![0u32; cells];
    let cutover_day = (g.cutover.date() - g.start).num_days();

    // Plans by booking index.
    let mut taken = HashSet::new();
    let mut bad_at: HashMap<u32, BadBooking> = HashMap::new();
    for (kind, rate) in [
        (BadBooking::OrphanUser as u8, 0.0005),
        (BadBooking::DatesReversed as u8, 0.0005),
        (BadBooking::AmountsDoNotAddUp as u8, 0.0005),
        (BadBooking::UnknownStatus as u8, 0.0005),
        (BadBooking::ConfirmedWithoutPayment as u8, 0.0005),
    ] {
        for i in pick(&mut rng, 0, n, how_many(n.into(), rate), &mut taken) {
            let bad = match kind {
                0 => BadBooking::OrphanUser,
                1 => BadBooking::DatesReversed,
                2 => BadBooking::AmountsDoNotAddUp,
                3 => BadBooking::UnknownStatus,
                _ => BadBooking::ConfirmedWithoutPayment,
            };
            bad_at.insert(i, bad);
        }
    }
    // Oversold nights: three confirmed bookings forced onto each, in the past.
    let mut oversold_at: HashMap<u32, usize> = HashMap::new();
    let mut oversold: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    let n_oversold = (n as usize / 20_000).clamp(2, 50);
    if n >= 3 * n_oversold as u32 + 10 {
        for _ in 0..n_oversold {
            let cell = loop {
                let rt = rng.gen_range(0..catalog.room_types.len());
                let day = rng.gen_range(10..cutover_day - 10);
                let cell = rt * days as usize + day as usize;
                if !oversold.contains_key(&cell) {
                    break cell;
                }
            };
            oversold.insert(cell, Vec::new());
            for i in pick(&mut rng, 0, n, 3, &mut taken) {
                oversold_at.insert(i, cell);
            }
        }
    }
    let in_flight: HashSet<u32> =
        pick(&mut rng, 0, n, how_many(n.into(), 0.003).max(3), &mut taken).into_iter().collect();
    let owed =
        |rng: &mut ChaCha8Rng, rate: f64| Owed::new(pick(rng, 0, n, how_many(n.into(), rate), &mut HashSet::new()));
    let mut o_status = owed(&mut rng, 0.01);
    let mut o_guests = owed(&mut rng, 0.005);
    let mut o_room_type = owed(&mut rng, 0.005);
    let mut o_name = owed(&mut rng, 0.003);
    let mut o_phone = owed(&mut rng, 0.005);
    let mut o_reason = owed(&mut rng, 0.002);
    let mut o_currency = owed(&mut rng, 0.005);
    let mut o_pay_status = owed(&mut rng, 0.005);
    let mut o_orphan_customer = owed(&mut rng, 0.0005);
    let mut o_orphan_item = owed(&mut rng, 0.0005);
    let mut o_gst = owed(&mut rng, 0.0005);
    let mut o_orphan_payment = owed(&mut rng, 0.0005);
    let mut o_foreign = owed(&mut rng, 0.0005);
    let mut o_refund = owed(&mut rng, 0.0005);
    let mut o_dup_gateway = owed(&mut rng, 0.0005);
    let mut o_orphan_bp = owed(&mut rng, 0.0005);
    let mut o_zero_bp = owed(&mut rng, 0.0005);

    let mut bookings = g.open(
        "bookings",
        "id, booking_ref, user_id, partner_id, channel, accommodation_id, package_id, room_type, check_in, check_out, \
         num_rooms, num_guests, base_amount, gst_amount, total_amount, amount_paid, status, failure_reason, \
         cancellation_policy_id, cancelled_at, cancel_reason, refund_amount, version, created_at, updated_at",
    );
    let mut customers = g.open("booking_customers", "id, booking_id, full_name, is_lead, created_at");
    let mut contacts = g.open("booking_customer_contacts", "id, customer_id, contact_type, contact_value, created_at");
    let mut items = g.open(
        "booking_items",
        "id, booking_id, item_type, stay_date, num_rooms, seats, rate, amount, gst_rate, gst_amount, created_at",
    );
    let mut overrides = g.open(
        "booking_overrides",
        "id, booking_id, override_type, old_value, new_value, reason, created_by, created_at",
    );
    let mut versions = g.open("booking_versions", "id, booking_id, version_no, status, snapshot, created_at");
    let mut audits =
        g.open("booking_audit_logs", "id, booking_id, action, actor_user_id, actor, ip_address, details, created_at");
    let mut access = g.open("booking_access_policies", "id, booking_id, principal, can_view, can_change");
    let mut payments = g.open(
        "payments",
        "id, booking_id, amount, currency, status, gateway, method, gateway_order_id, gateway_payment_id, \
         captured_amount, refunded_amount, failure_reason, created_at, updated_at",
    );
    let mut booking_payments =
        g.open("booking_payments", "id, booking_id, payment_id, txn_type, amount, gateway_ref, created_at");

    let mut booking_ids = Ids::new(250);
    let mut payment_ids = Ids::new(500);
    let (mut customer_id, mut contact_id, mut item_id, mut override_id, mut version_id) =
        (0i64, 0i64, 0i64, 0i64, 0i64);
    let (mut audit_id, mut access_id, mut bp_id) = (0i64, 0i64, 0i64);
    // The last captured payment: id, booking, gateway payment id, amount.
    let mut last_capture: Option<(i64, i64, String, i64)> = None;
    let gateway_tag = alnum(&mut rng, 6);
    let last_check_in = days - 8;

    for i in 0..n {
        let id = booking_ids.next();
        for o in [
            &mut o_status,
            &mut o_guests,
            &mut o_room_type,
            &mut o_name,
            &mut o_phone,
            &mut o_reason,
            &mut o_currency,
            &mut o_pay_status,
            &mut o_orphan_customer,
            &mut o_orphan_item,
            &mut o_gst,
            &mut o_orphan_payment,
            &mut o_foreign,
            &mut o_refund,
            &mut o_dup_gateway,
            &mut o_orphan_bp,
            &mut o_zero_bp,
        ] {
            o.pass(i);
        }

        // What is booked, when, by whom.
        let forced_cell = oversold_at.get(&i).copied();
        let is_package = forced_cell.is_none() && !in_flight.contains(&i) && rng.gen_range(0..20) == 0;
        let (rt_index, check_in_day) = match forced_cell {
            Some(cell) => (cell / days as usize, (cell % days as usize) as i64),
            None if in_flight.contains(&i) => {
                (rng.gen_range(0..catalog.room_types.len()), rng.gen_range(cutover_day + 3..last_check_in))
            }
            None => (rng.gen_range(0..catalog.room_types.len()), rng.gen_range(0..last_check_in)),
        };
        let check_in = g.start + Duration::days(check_in_day);
        let package = is_package.then(|| &catalog.packages[rng.gen_range(0..catalog.packages.len())]);
        let nights = match package {
            Some(p) => i64::from(p.nights),
            None => [1, 1, 2, 2, 2, 3, 3, 4][rng.gen_range(0..8)],
        };
        let rooms = if package.is_some() { 0 } else { [1, 1, 1, 2, 2, 3][rng.gen_range(0..6)] };
        let guests: i64 = if package.is_some() { rng.gen_range(1..=6) } else { rng.gen_range(rooms..=rooms * 2) };
        let by_partner = forced_cell.is_none() && rng.gen_range(0..100) < 15;
        let partner = by_partner.then(|| partners.good[rng.gen_range(0..partners.good.len())]);
        let user = (!by_partner).then(|| users.bookers[rng.gen_range(0..users.bookers.len())]);
        let created = if in_flight.contains(&i) {
            g.cutover - Duration::seconds(rng.gen_range(60..36 * 3_600))
        } else {
            g.created_before(&mut rng, check_in, 1, 90)
        };
        let status = if forced_cell.is_some() {
            Status::Confirmed
        } else if in_flight.contains(&i) {
            Status::Pending
        } else {
            match rng.gen_range(0..100) {
                0..=83 => Status::Confirmed,
                84..=92 => Status::Cancelled,
                93..=94 => Status::CancelledUnpaid,
                _ => Status::Failed,
            }
        };
        let rt = &catalog.room_types[rt_index];

        // Money: nights × rooms at the tariff with its GST, or seats at the package price.
        let gst_bp = match package {
            Some(_) => 500,
            None if rt.tariff <= 7_500_00 => 1_200,
            None => 1_800,
        };
        let (base, gst) = match package {
            Some(p) => (p.price * guests, share(p.price * guests, gst_bp)),
            None => (rt.tariff * rooms * nights, share(rt.tariff * rooms, gst_bp) * nights),
        };
        let total = base + gst;
        let legacy_ref = format!("TT/{}/{id:06}", created.format("%Y"));

        if let Some(bad) = bad_at.get(&i) {
            // Planted bad bookings stand alone: no customers, items, payments or history.
            let (case, user_id, check_out, total, status) = match bad {
                BadBooking::OrphanUser => (
                    "orphan_user",
                    Some(users.people.len() as i64 + 5_000 + i64::from(i)),
                    check_in + Duration::days(nights.max(1)),
                    total,
                    "FAILED",
                ),
                BadBooking::DatesReversed => ("dates_reversed", user, check_in - Duration::days(1), total, "FAILED"),
                BadBooking::AmountsDoNotAddUp => {
                    ("amounts_do_not_add_up", user, check_in + Duration::days(nights.max(1)), total + 1, "FAILED")
                }
                BadBooking::UnknownStatus => (
                    "unknown_status",
                    user,
                    check_in + Duration::days(nights.max(1)),
                    total,
                    ["TEST", "?", "ON HOLD", "X"][rng.gen_range(0..4)],
                ),
                BadBooking::ConfirmedWithoutPayment => {
                    ("confirmed_without_payment", user, check_in + Duration::days(nights.max(1)), total, "CONFIRMED")
                }
            };
            g.bad("bookings", id, case);
            bookings
                .int(id)
                .text(&legacy_ref)
                .opt_int(user_id.or(user))
                .opt_int(partner.map(|p| p.0))
                .text(if partner.is_some() { "API" } else { "WEB" })
                .int(rt.accommodation_id)
                .null()
                .text(rt.name)
                .date(check_in)
                .date(check_out)
                .int(rooms.max(1))
                .int(guests)
                .money(base)
                .money(gst)
                .money(total)
                .null()
                .text(status)
                .null()
                .int(1)
                .null()
                .null()
                .null()
                .int(1)
                .ts(created)
                .opt_ts(None)
                .end()?;
            continue;
        }

        let check_out = check_in + Duration::days(nights);
        let status_text = match status {
            Status::Confirmed => "CONFIRMED",
            Status::Pending => "PENDING",
            Status::Cancelled | Status::CancelledUnpaid => "CANCELLED",
            Status::Failed => "FAILED",
        };
        let status_text = if o_status.take() {
            g.dirty("bookings", id, "status_spelling");
            let variants: &[&str] = match status {
                Status::Confirmed => &["Confirmed", "confirmd", "confirmed", "COMPLETED"],
                Status::Pending => &["AWAITING_PAYMENT", "Unpaid", "pending payment"],
                Status::Cancelled | Status::CancelledUnpaid => &["canceled", "Cancelled", "CANCELED"],
                Status::Failed => &["payment failed", "Failed"],
            };
            variants[rng.gen_range(0..variants.len())]
        } else {
            status_text
        };
        if status == Status::Pending {
            g.dirty("bookings", id, "in_flight_at_cutover");
        }
        if status == Status::CancelledUnpaid {
            g.dirty("bookings", id, "cancelled_before_payment");
        }
        let guests_col = if o_guests.take() {
            g.dirty("bookings", id, "guests_missing");
            None
        } else {
            Some(guests)
        };
        let room_type_text = if package.is_some() {
            None
        } else if o_room_type.take() {
            g.dirty("bookings", id, "room_type_spelling");
            Some(if rng.gen_range(0..2) == 0 { rt.name.to_uppercase() } else { format!("{} ", rt.name.to_lowercase()) })
        } else {
            Some(rt.name.to_string())
        };

        // Room-nights counted for the availability written after the bookings.
        if package.is_none() && matches!(status, Status::Confirmed | Status::Pending) {
            for d in check_in_day..check_in_day + nights {
                let cell = rt_index * days as usize + d as usize;
                if status == Status::Confirmed {
                    confirmed[cell] += rooms as u32;
                    if let Some(list) = oversold.get_mut(&cell) {
                        list.push(id);
                    }
                } else {
                    pending[cell] += rooms as u32;
                }
            }
        }

        let paid = matches!(status, Status::Confirmed | Status::Cancelled);
        let cancelled_at = matches!(status, Status::Cancelled | Status::CancelledUnpaid).then(|| {
            let latest = (at(check_in, 0).min(g.cutover) - created).num_seconds().max(120);
            created + Duration::seconds(rng.gen_range(60..latest))
        });
        let refund = match (status, cancelled_at) {
            (Status::Cancelled, Some(when)) => {
                let before = (check_in - when.date()).num_days();
                let (policy_days, half_days) = if package.is_some() { (30, 15) } else { (7, 2) };
                let pct = if before >= policy_days {
                    100
                } else if before >= half_days {
                    50
                } else {
                    0
                };
                Some(share(total, pct * 100))
            }
            (Status::CancelledUnpaid, _) => Some(0),
            _ => None,
        };
        let updated = cancelled_at.unwrap_or(created + Duration::minutes(rng.gen_range(2..30)));
        let n_versions = match status {
            Status::Confirmed | Status::Failed | Status::CancelledUnpaid => 2,
            Status::Pending => 1,
            Status::Cancelled => 3,
        };
        bookings
            .int(id)
            .text(&legacy_ref)
            .opt_int(user)
            .opt_int(partner.map(|p| p.0))
            .text(if partner.is_some() {
                ["API", "Partner"][rng.gen_range(0..2)]
            } else {
                ["WEB", "web", "WEB", "phone"][rng.gen_range(0..4)]
            })
            .opt_int(package.is_none().then_some(rt.accommodation_id))
            .opt_int(package.map(|p| p.id))
            .opt_text(room_type_text.as_deref())
            .date(check_in)
            .date(check_out)
            .int(rooms)
            .opt_int(guests_col)
            .money(base)
            .money(gst)
            .money(total)
            .opt_money(paid.then_some(total))
            .text(status_text)
            .opt_text((status == Status::Failed).then_some("Payment declined by bank"))
            .int(if package.is_some() { 2 } else { 1 })
            .opt_ts(cancelled_at)
            .opt_text(cancelled_at.map(|_| {
                ["Change of plans", "Medical emergency", "Flight cancelled", "Booked by mistake"][rng.gen_range(0..4)]
            }))
            .opt_money(refund)
            .int(n_versions)
            .ts(created)
            .ts(updated)
            .end()?;

        // The party: the lead (the booker, for direct bookings) and a companion or two.
        let lead_person = user.and_then(|u| users.people[u as usize - 1]).unwrap_or_else(|| Person::draw(&mut rng));
        let party = (guests.min(3)) as usize;
        let name_missing_at = o_name.take().then(|| rng.gen_range(0..party));
        for k in 0..party {
            customer_id += 1;
            let name = if k == 0 { lead_person.name() } else { Person::draw(&mut rng).name() };
            let name = if name_missing_at == Some(k) {
                g.dirty("booking_customers", customer_id, "name_missing");
                None
            } else {
                Some(name)
            };
            customers
                .int(customer_id)
                .int(id)
                .opt_text(name.as_deref())
                .text(if k == 0 { "Y" } else { "N" })
                .ts(created)
                .end()?;
            if k == 0 {
                contact_id += 1;
                let email = match user {
                    Some(u) => lead_person.email(u),
                    None => lead_person.email(1_000_000 + id),
                };
                contacts.int(contact_id).int(customer_id).text("EMAIL").text(&email).ts(created).end()?;
            }
            if k == 0 || rng.gen_range(0..10) < 3 {
                contact_id += 1;
                let number = if k == 0 && o_phone.take() {
                    g.dirty("booking_customer_contacts", contact_id, "phone_format");
                    phone_typed(&mut rng)
                } else {
                    phone(&mut rng)
                };
                contacts.int(contact_id).int(customer_id).text("MOBILE").text(&number).ts(created).end()?;
            }
        }
        if o_orphan_customer.take() {
            customer_id += 1;
            g.bad("booking_customers", customer_id, "orphan_booking");
            customers.int(customer_id).int(booking_ids.gap()).text(&lead_person.name()).text("Y").ts(created).end()?;
        }

        // Items: a night each (a stay) or the party's seats (a package).
        match package {
            Some(p) => {
                item_id += 1;
                items
                    .int(item_id)
                    .int(id)
                    .text("PACKAGE")
                    .date(check_in)
                    .int(0)
                    .int(guests)
                    .money(p.price)
                    .money(base)
                    .money(gst_bp)
                    .money(gst)
                    .ts(created)
                    .end()?;
            }
            None => {
                let odd_gst = rt.tariff <= 7_500_00 && o_gst.take();
                for d in 0..nights {
                    item_id += 1;
                    let mut rate_bp = gst_bp;
                    if odd_gst && d == 0 {
                        // A rate the monolith's tax table once held and GST never had.
                        g.bad("booking_items", item_id, "unknown_gst_rate");
                        rate_bp = 1_500;
                    }
                    let amount = rt.tariff * rooms;
                    items
                        .int(item_id)
                        .int(id)
                        .opt_text((item_id % 9 != 0).then_some("ROOM"))
                        .date(check_in + Duration::days(d))
                        .int(rooms)
                        .null()
                        .money(rt.tariff)
                        .money(amount)
                        .money(rate_bp)
                        .money(share(amount, gst_bp))
                        .ts(created)
                        .end()?;
                }
            }
        }
        if o_orphan_item.take() {
            item_id += 1;
            g.bad("booking_items", item_id, "orphan_booking");
            items
                .int(item_id)
                .int(booking_ids.gap())
                .text("ROOM")
                .date(check_in)
                .int(1)
                .null()
                .money(rt.tariff)
                .money(rt.tariff)
                .money(1_200)
                .money(share(rt.tariff, 1_200))
                .ts(created)
                .end()?;
        }

        // History.
        let history: &[(&str, &str)] = match status {
            Status::Confirmed => &[("PENDING", "BOOKING_CREATED"), ("CONFIRMED", "PAYMENT_RECEIVED")],
            Status::Pending => &[("PENDING", "BOOKING_CREATED")],
            Status::Cancelled => {
                &[("PENDING", "BOOKING_CREATED"), ("CONFIRMED", "PAYMENT_RECEIVED"), ("CANCELLED", "BOOKING_CANCELLED")]
            }
            Status::CancelledUnpaid => &[("PENDING", "BOOKING_CREATED"), ("CANCELLED", "BOOKING_CANCELLED")],
            Status::Failed => &[("PENDING", "BOOKING_CREATED"), ("FAILED", "PAYMENT_FAILED")],
        };
        let client = ip(&mut rng);
        for (v, (vstatus, action)) in history.iter().enumerate() {
            let when = if v == 0 {
                created
            } else if *vstatus == "CANCELLED" {
                updated
            } else {
                created + Duration::minutes(v as i64 * 7)
            };
            version_id += 1;
            versions
                .int(version_id)
                .int(id)
                .int(v as i64 + 1)
                .text(vstatus)
                .text(&format!(
                    "{{\"status\": \"{vstatus}\", \"check_in\": \"{check_in}\", \"check_out\": \"{check_out}\", \"rooms\": {rooms}, \"total\": \"{}.{:02}\"}}",
                    total / 100,
                    total % 100
                ))
                .ts(when)
                .end()?;
            audit_id += 1;
            let (actor_user, actor) = match (v, user, partner) {
                (0, Some(u), _) => (Some(u), "customer".to_string()),
                (0, None, Some(p)) => (None, format!("partner-api:{}", p.0)),
                _ if *vstatus == "CANCELLED" => (user, "customer".to_string()),
                _ => (None, "system".to_string()),
            };
            audits
                .int(audit_id)
                .int(id)
                .text(action)
                .opt_int(actor_user)
                .text(&actor)
                .opt_text((v == 0).then_some(client.as_str()))
                .text(&format!("{{\"version\": {}}}", v + 1))
                .ts(when)
                .end()?;
        }
        access_id += 1;
        let principal = match (user, partner) {
            (Some(u), _) => format!("user:{u}"),
            (None, Some(p)) => format!("partner:{}", p.0),
            _ => unreachable!("a booking has a user or a partner"),
        };
        access.int(access_id).int(id).text(&principal).text("Y").text("Y").end()?;
        let reason_missing = o_reason.take();
        if reason_missing || (status == Status::Confirmed && rng.gen_range(0..100) == 0) {
            override_id += 1;
            if reason_missing {
                g.dirty("booking_overrides", override_id, "reason_missing");
            }
            overrides
                .int(override_id)
                .int(id)
                .text("PRICE")
                .text(&format!("{}.{:02}", total / 100, total % 100))
                .text(&format!("{}.{:02}", total / 100, total % 100))
                .opt_text((!reason_missing).then_some("Complimentary upgrade approved by the manager"))
                .opt_int(users.operators.first().copied())
                .ts(created + Duration::hours(2))
                .end()?;
        }

        // Payments: an attempt that failed, sometimes; then the one that decided the booking.
        let mut emit_payment = |g: &mut Gen,
                                rng: &mut ChaCha8Rng,
                                status: &'static str,
                                captured: Option<i64>,
                                refunded: Option<i64>,
                                when: NaiveDateTime|
         -> anyhow::Result<(i64, Option<String>)> {
            let pid = payment_ids.next();
            let gateway_payment = (status != "PENDING").then(|| format!("pay_{gateway_tag}{pid:010}"));
            let status_col = if o_pay_status.take() {
                g.dirty("payments", pid, "status_spelling");
                match status {
                    "SUCCESS" => ["success", "Captured"][rng.gen_range(0..2)],
                    "FAILED" => "failed",
                    "REFUNDED" => "refunded",
                    "PARTIAL_REFUND" => "partially refunded",
                    _ => "initiated",
                }
            } else {
                status
            };
            let currency = if o_currency.take() {
                g.dirty("payments", pid, "currency_missing");
                [None, Some("Rs"), Some("Rs.")][rng.gen_range(0..3)]
            } else {
                Some("INR")
            };
            payments
                .int(pid)
                .int(id)
                .money(total)
                .opt_text(currency)
                .text(status_col)
                .text("razorpay")
                .text(["card", "upi", "netbanking", "upi"][rng.gen_range(0..4)])
                .text(&format!("order_{gateway_tag}{pid:010}"))
                .opt_text(gateway_payment.as_deref())
                .opt_money(captured)
                .opt_money(refunded)
                .opt_text((status == "FAILED").then_some("BAD_REQUEST_ERROR: Payment failed"))
                .ts(when)
                .opt_ts(Some(when + Duration::minutes(3)))
                .end()?;
            Ok((pid, gateway_payment))
        };
        let paid_at = created + Duration::minutes(rng.gen_range(1..15));
        if status == Status::Failed || (paid && rng.gen_range(0..20) == 0) {
            emit_payment(g, &mut rng, "FAILED", None, None, created + Duration::minutes(1))?;
        }
        if status == Status::Pending && rng.gen_range(0..2) == 0 {
            emit_payment(g, &mut rng, "PENDING", None, None, paid_at)?;
        }
        if paid {
            let refunded = refund.filter(|r| *r > 0);
            let pay_status = match refunded {
                Some(r) if r == total => "REFUNDED",
                Some(_) => "PARTIAL_REFUND",
                None => "SUCCESS",
            };
            let (pid, gateway_payment) = emit_payment(g, &mut rng, pay_status, Some(total), refunded, paid_at)?;
            let gateway_payment = gateway_payment.expect("a captured payment has a gateway id");
            bp_id += 1;
            booking_payments
                .int(bp_id)
                .int(id)
                .int(pid)
                .text("CAPTURE")
                .money(total)
                .text(&gateway_payment)
                .ts(paid_at)
                .end()?;
            if let (Some(r), Some(when)) = (refunded, cancelled_at) {
                bp_id += 1;
                let gateway_ref = (rng.gen_range(0..10) > 0).then(|| format!("rfnd_{gateway_tag}{pid:010}"));
                booking_payments
                    .int(bp_id)
                    .int(id)
                    .int(pid)
                    .text(["REFUND", "Refund"][rng.gen_range(0..2)])
                    .money(r)
                    .opt_text(gateway_ref.as_deref())
                    .ts(when + Duration::hours(1))
                    .end()?;
            }
            last_capture = Some((pid, id, gateway_payment, total));
        }

        // Planted bad money rows ride on confirmed bookings, beside their good payment.
        if status == Status::Confirmed {
            if o_orphan_payment.take() {
                let pid = payment_ids.next();
                g.bad("payments", pid, "orphan_booking");
                payments
                    .int(pid)
                    .int(booking_ids.gap())
                    .money(total)
                    .text("INR")
                    .text("SUCCESS")
                    .text("razorpay")
                    .text("card")
                    .text(&format!("order_{gateway_tag}{pid:010}"))
                    .text(&format!("pay_{gateway_tag}{pid:010}"))
                    .money(total)
                    .money(0)
                    .null()
                    .ts(paid_at)
                    .opt_ts(None)
                    .end()?;
            }
            if o_foreign.take() {
                let pid = payment_ids.next();
                g.bad("payments", pid, "foreign_currency");
                payments
                    .int(pid)
                    .int(id)
                    .money(share(total, 120))
                    .text("USD")
                    .text("FAILED")
                    .text("paypal")
                    .text("card")
                    .text(&format!("order_{gateway_tag}{pid:010}"))
                    .null()
                    .null()
                    .null()
                    .text("Currency not supported")
                    .ts(paid_at)
                    .opt_ts(None)
                    .end()?;
            }
            if o_refund.take() {
                let pid = payment_ids.next();
                g.bad("payments", pid, "refund_exceeds_capture");
                payments
                    .int(pid)
                    .int(id)
                    .money(total)
                    .text("INR")
                    .text("REFUNDED")
                    .text("razorpay")
                    .text("upi")
                    .text(&format!("order_{gateway_tag}{pid:010}"))
                    .text(&format!("pay_{gateway_tag}{pid:010}"))
                    .money(total)
                    .money(total + 500_00)
                    .null()
                    .ts(paid_at)
                    .opt_ts(None)
                    .end()?;
            }
            if let Some((_, _, gateway_payment, amount)) = last_capture.as_ref().filter(|_| o_dup_gateway.owed > 0) {
                o_dup_gateway.take();
                let pid = payment_ids.next();
                g.bad("payments", pid, "duplicate_gateway_payment_id");
                // A webhook replayed into a second row.
                payments
                    .int(pid)
                    .int(id)
                    .money(*amount)
                    .text("INR")
                    .text("SUCCESS")
                    .text("razorpay")
                    .text("upi")
                    .text(&format!("order_{gateway_tag}{pid:010}"))
                    .text(gateway_payment)
                    .money(*amount)
                    .money(0)
                    .null()
                    .ts(paid_at + Duration::minutes(1))
                    .opt_ts(None)
                    .end()?;
            }
            if o_orphan_bp.take() {
                bp_id += 1;
                g.bad("booking_payments", bp_id, "orphan_payment");
                booking_payments
                    .int(bp_id)
                    .int(id)
                    .int(payment_ids.gap())
                    .text("CAPTURE")
                    .money(total)
                    .text(&format!("pay_{gateway_tag}x{bp_id:09}"))
                    .ts(paid_at)
                    .end()?;
            }
            if let Some((pid, booking, _, _)) = last_capture.as_ref().filter(|_| o_zero_bp.owed > 0) {
                o_zero_bp.take();
                bp_id += 1;
                g.bad("booking_payments", bp_id, "non_positive_amount");
                booking_payments
                    .int(bp_id)
                    .int(*booking)
                    .int(*pid)
                    .text("REFUND")
                    .money(0)
                    .text(&format!("rfnd_{gateway_tag}z{bp_id:09}"))
                    .ts(paid_at)
                    .end()?;
            }
        }
    }
    g.close(vec![
        bookings,
        customers,
        contacts,
        items,
        overrides,
        versions,
        audits,
        access,
        payments,
        booking_payments,
    ])?;
    Ok((confirmed, pending, oversold))
}

fn availability(
    g: &mut Gen,
    catalog: &Catalog,
    confirmed: &[u32],
    pending: &[u32],
    oversold_cells: BTreeMap<usize, Vec<i64>>,
) -> anyhow::Result<Vec<Oversold>> {
    let mut rng = g.rng(5);
    let mut sink = g.open(
        "accommodation_availability",
        "id, accommodation_id, room_type, stay_date, total_rooms, booked_rooms, blocked_rooms, rate, max_occupancy, \
         stop_sell, updated_at",
    );
    let days = g.days as usize;
    let mut id = 0i64;
    let mut oversold = Vec::new();
    for (r, rt) in catalog.room_types.iter().enumerate() {
        for d in 0..days {
            id += 1;
            let cell = r * days + d;
            let night = g.start + Duration::days(d as i64);
            let booked = i64::from(confirmed[cell]);
            let blocked = i64::from(pending[cell]);
            let total = match oversold_cells.get(&cell) {
                Some(list) => {
                    let total = booked - 1;
                    g.dirty("accommodation_availability", id, "oversold");
                    oversold.push(Oversold {
                        availability_id: id,
                        accommodation_id: rt.accommodation_id,
                        room_type: rt.name.to_string(),
                        night: night.to_string(),
                        total_rooms: total,
                        booked_rooms: booked,
                        bookings: list.clone(),
                    });
                    total
                }
                None => rt.allotment.max(booked + blocked),
            };
            sink.int(id)
                .int(rt.accommodation_id)
                .text(rt.name)
                .date(night)
                .int(total)
                .int(booked)
                .opt_int((blocked > 0 || rng.gen_range(0..3) > 0).then_some(blocked))
                .money(rt.tariff)
                .opt_int((rng.gen_range(0..20) > 0).then_some(i64::from(rt.occupancy)))
                .opt_text((d % 5 != 0).then_some("N"))
                .ts(at(night, 0) - Duration::days(rng.gen_range(1..60)))
                .end()?;
        }
    }
    g.close(vec![sink])?;
    Ok(oversold)
}
