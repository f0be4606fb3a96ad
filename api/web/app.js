// The travellers' pages: search, a stay, sign-in, booking, the booking's live state and
// "my bookings", drawn from the public API. Every element is built with `h` (text is
// never parsed as HTML), and the API's own checks and messages are shown as they are.

const main = document.getElementById("main");

// ---------------------------------------------------------------------------------------
// DOM and formatting helpers

/** An element with attributes (`on…` functions become listeners) and children. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function show(title, ...content) {
  document.title = title ? `${title} · Tripura Tourism` : "Tripura Tourism";
  main.replaceChildren(...content.flat());
}

const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" });
/** `{amount, currency}` in paise as "₹12,345.00". */
function money(m) {
  if (!m) return "—";
  if (m.currency && m.currency !== "INR") {
    return new Intl.NumberFormat("en-IN", { style: "currency", currency: m.currency }).format(m.amount / 100);
  }
  return rupees.format(m.amount / 100);
}

const dateFormat = new Intl.DateTimeFormat("en-IN", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
function day(iso) {
  return dateFormat.format(new Date(`${iso}T00:00:00Z`));
}
function isoDay(date) {
  return date.toISOString().slice(0, 10);
}
function addDays(iso, days) {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return isoDay(d);
}
function nightsBetween(checkIn, checkOut) {
  return Math.round((new Date(`${checkOut}T00:00:00Z`) - new Date(`${checkIn}T00:00:00Z`)) / 86400000);
}
function todayInIndia() {
  return isoDay(new Date(Date.now() + 5.5 * 3600 * 1000));
}

/** A polite live region: what changes there is read out by screen readers. */
function notice(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

// ---------------------------------------------------------------------------------------
// The API and the session

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.field = error.details && error.details.field;
    this.retryAfter = null;
  }
}

/** The signed-in traveller: the access token lives here only, never in storage. */
const session = { token: null, expiresAt: 0, me: null, refreshing: null };

/** Renews the access token from the `HttpOnly` session cookie; one renewal at a time. */
function refreshSession() {
  if (!session.refreshing) {
    session.refreshing = fetch("/api/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: "{}",
      credentials: "same-origin",
    })
      .then(async (response) => {
        if (!response.ok) {
          session.token = null;
          session.me = null;
          return false;
        }
        adopt(await response.json());
        return true;
      })
      .catch(() => false)
      .finally(() => {
        session.refreshing = null;
      });
  }
  return session.refreshing;
}

function adopt(tokens) {
  session.token = tokens.access_token;
  session.expiresAt = Date.now() + (tokens.expires_in - 30) * 1000;
}

/** One API call: JSON in and out, the access token attached and renewed when it lapses. */
async function api(path, { method = "GET", body, headers = {}, auth = false } = {}) {
  if (auth && session.token && Date.now() > session.expiresAt) await refreshSession();
  const send = () =>
    fetch(path, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        ...(auth && session.token ? { Authorization: `Bearer ${session.token}` } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  let response = await send();
  if (response.status === 401 && auth && (await refreshSession())) response = await send();
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    error.retryAfter = Number(response.headers.get("Retry-After")) || null;
    throw error;
  }
  return parsed;
}

async function loadMe() {
  if (!session.token) return null;
  try {
    session.me = await api("/api/auth/me", { auth: true });
  } catch {
    session.me = null;
  }
  return session.me;
}

function drawAccount() {
  const slot = document.getElementById("account");
  if (session.me) {
    slot.replaceChildren(
      h("span", { class: "who" }, session.me.full_name),
      " ",
      h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
    );
  } else {
    const next = encodeURIComponent(location.pathname + location.search);
    slot.replaceChildren(h("a", { href: `/sign-in?next=${next}` }, "Sign in"));
  }
}

async function signOut() {
  await fetch("/api/auth/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: "{}",
  }).catch(() => {});
  session.token = null;
  session.me = null;
  go("/");
}

/** Pages that need a signed-in traveller send others to sign in, and back afterwards. */
function requireSignIn() {
  if (session.token) return true;
  go(`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  return false;
}

// ---------------------------------------------------------------------------------------
// Forms: labelled fields whose errors sit next to them

/** A labelled input; `errorId` holds the API's message for the field. */
function field(label, name, attrs = {}) {
  const id = `f-${name.replace(/\W/g, "-")}`;
  const hint = attrs.hint;
  delete attrs.hint;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, name, "aria-describedby": `${id}-error${hint ? ` ${id}-hint` : ""}`, ...attrs }),
    hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null,
    h("p", { class: "field-error", id: `${id}-error` }),
  );
}

function selectField(label, name, options, selected) {
  const id = `f-${name}`;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, name }, options.map(([value, text]) => h("option", { value, selected: value === selected }, text))),
  );
}

/** Shows an API error: next to its field when it names one the form has, else on top. */
function showError(form, error) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-error");
  summary.textContent = "";
  const input = error.field && form.querySelector(`[name="${CSS.escape(error.field)}"]`);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    document.getElementById(`${input.id}-error`).textContent = error.message;
    input.focus();
  } else {
    summary.textContent = error.message;
    summary.focus();
  }
}

function formError() {
  return h("p", { class: "form-error", role: "alert", tabindex: "-1" });
}

// ---------------------------------------------------------------------------------------
// Pages

/** Search: destinations and stays, by destination, dates, rooms and guests, a page at a time. */
async function searchPage(params) {
  const today = todayInIndia();
  const q = {
    destination: params.get("destination") || "",
    check_in: params.get("check_in") || addDays(today, 14),
    check_out: params.get("check_out") || addDays(today, 16),
    rooms: params.get("rooms") || "1",
    guests: params.get("guests") || "2",
    cursor: params.get("cursor") || "",
  };
  const destinations = await api("/api/catalog/destinations?limit=100");
  const form = h(
    "form",
    { class: "search", role: "search", "aria-label": "Find a stay", onsubmit: (e) => {
      e.preventDefault();
      const data = new FormData(form);
      const next = new URLSearchParams();
      for (const key of ["destination", "check_in", "check_out", "rooms", "guests"]) {
        if (data.get(key)) next.set(key, data.get(key));
      }
      go(`/?${next}`);
    } },
    selectField("Destination", "destination", [["", "Anywhere in Tripura"], ...destinations.items.map((d) => [d.code, d.name])], q.destination),
    field("Check-in", "check_in", { type: "date", value: q.check_in, min: today, required: true }),
    field("Check-out", "check_out", { type: "date", value: q.check_out, min: addDays(today, 1), required: true }),
    field("Rooms", "rooms", { type: "number", value: q.rooms, min: 1, max: 9, required: true }),
    field("Guests", "guests", { type: "number", value: q.guests, min: 1, max: 36, required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Search")),
    formError(),
  );
  const results = h("section", { "aria-labelledby": "results-title", class: "results" });
  show("Stays across Tripura", h("h1", {}, "Stays across Tripura"), form, results);

  const rooms = Number(q.rooms) || 1;
  const guests = Number(q.guests) || 1;
  const search = new URLSearchParams({ check_in: q.check_in, check_out: q.check_out, rooms: String(rooms), limit: "8" });
  if (q.destination) search.set("destination", q.destination);
  // Each room must sleep its share of the party.
  search.set("guests", String(Math.min(12, Math.ceil(guests / rooms))));
  if (q.cursor) search.set("cursor", q.cursor);
  let page;
  try {
    page = await api(`/api/catalog/accommodations?${search}`);
  } catch (error) {
    showError(form, error);
    results.replaceChildren(h("h2", { id: "results-title" }, "No results"));
    return;
  }
  const nights = nightsBetween(q.check_in, q.check_out);
  const cards = await Promise.all(page.items.map((stay) => stayCard(stay, q, rooms, guests, nights)));
  const nextParams = new URLSearchParams(params);
  if (page.next_cursor) nextParams.set("cursor", page.next_cursor);
  const firstParams = new URLSearchParams(params);
  firstParams.delete("cursor");
  results.replaceChildren(
    h("h2", { id: "results-title" }, page.items.length
      ? `Free for ${nights} night${nights === 1 ? "" : "s"} from ${day(q.check_in)}`
      : "Nothing free on those dates — try other dates or another destination"),
    h("ul", { class: "cards" }, cards),
    h("nav", { class: "pages", "aria-label": "Result pages" },
      q.cursor ? h("a", { href: `/?${firstParams}` }, "← First page") : null,
      page.next_cursor ? h("a", { href: `/?${nextParams}`, rel: "next" }, "Next page →") : null),
  );
}

/** One result: the stay, its lowest tariff, and the quote for the dates (GST included). */
async function stayCard(stay, q, rooms, guests, nights) {
  const fitting = stay.room_types
    .filter((r) => r.max_occupancy * rooms >= guests)
    .sort((a, b) => a.tariff.amount - b.tariff.amount);
  const cheapest = fitting[0];
  let price = h("p", { class: "price" }, `From ${money(stay.from_price)} a night before GST`);
  if (cheapest) {
    try {
      const quote = await api(`/api/catalog/quote?${new URLSearchParams({
        accommodation: stay.code, room_type: cheapest.room_type, check_in: q.check_in, check_out: q.check_out, rooms: String(rooms),
      })}`);
      price = h("p", { class: "price" },
        h("strong", {}, money(quote.total)),
        ` for ${nights} night${nights === 1 ? "" : "s"}, ${rooms} ${cheapest.name} room${rooms === 1 ? "" : "s"}, GST included`,
        h("br"),
        h("span", { class: "muted" }, `${money({ amount: Math.round(quote.total.amount / nights), currency: quote.total.currency })} a night on average (GST ${money(quote.gst_total)})`));
    } catch {
      // The stay is listed without a total; its page explains why.
    }
  }
  const link = `/stays/${encodeURIComponent(stay.code)}?${new URLSearchParams({ check_in: q.check_in, check_out: q.check_out, rooms: String(rooms), guests: String(guests) })}`;
  return h("li", { class: "card" },
    h("h3", {}, h("a", { href: link }, stay.name)),
    h("p", { class: "muted" }, `${stay.destination.name}, ${stay.destination.district} · ${stay.kind.replace("_", " ")}`),
    h("p", {}, stay.summary),
    price);
}

/** A stay: photos, room types, the night-by-night price, rooms left, and the booking form. */
async function stayPage(code, params) {
  const today = todayInIndia();
  const q = {
    check_in: params.get("check_in") || addDays(today, 14),
    check_out: params.get("check_out") || addDays(today, 16),
    rooms: Number(params.get("rooms") || "1"),
    guests: Number(params.get("guests") || "2"),
    room_type: params.get("room_type") || "",
  };
  let stay;
  try {
    stay = await api(`/api/catalog/accommodations/${encodeURIComponent(code)}`);
  } catch (error) {
    show("Not found", h("h1", {}, "No such stay"), notice(error.message, "error"), h("p", {}, h("a", { href: "/" }, "Back to search")));
    return;
  }
  const place = await api(`/api/catalog/destinations/${encodeURIComponent(stay.destination.code)}`).catch(() => ({ images: [] }));
  const fitting = stay.room_types.filter((r) => r.max_occupancy * q.rooms >= q.guests);
  const chosen = fitting.find((r) => r.room_type === q.room_type) || fitting[0];
  const nights = nightsBetween(q.check_in, q.check_out);

  const dates = h("form", { class: "search compact", "aria-label": "Dates and party", onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(dates);
    go(`/stays/${encodeURIComponent(code)}?${new URLSearchParams([...data.entries()])}`);
  } },
  field("Check-in", "check_in", { type: "date", value: q.check_in, min: today, required: true }),
  field("Check-out", "check_out", { type: "date", value: q.check_out, min: addDays(today, 1), required: true }),
  field("Rooms", "rooms", { type: "number", value: q.rooms, min: 1, max: 9, required: true }),
  field("Guests", "guests", { type: "number", value: q.guests, min: 1, max: 36, required: true }),
  h("input", { type: "hidden", name: "room_type", value: chosen ? chosen.room_type : "" }),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Update")),
  formError());

  const roomList = h("fieldset", { class: "room-types" }, h("legend", {}, "Room type"),
    stay.room_types.map((r) => {
      const fits = r.max_occupancy * q.rooms >= q.guests;
      const id = `room-${r.room_type}`;
      return h("div", { class: "choice" },
        h("input", { type: "radio", id, name: "room_type", value: r.room_type, checked: chosen && r.room_type === chosen.room_type, disabled: !fits,
          onchange: () => go(`/stays/${encodeURIComponent(code)}?${new URLSearchParams({ ...Object.fromEntries(params), room_type: r.room_type })}`, { replace: true }) }),
        h("label", { for: id }, `${r.name} — sleeps ${r.max_occupancy}, ${money(r.tariff)} a night before GST${fits ? "" : " (too small for your party)"}`));
    }));

  const priceSection = h("section", { "aria-labelledby": "price-title" }, h("h2", { id: "price-title" }, "Price and rooms left"));
  const bookSection = h("section", { "aria-labelledby": "book-title" }, h("h2", { id: "book-title" }, "Book"));

  show(stay.name,
    h("p", { class: "crumbs" }, h("a", { href: "/" }, "Stays"), " › ", stay.destination.name),
    h("h1", {}, stay.name),
    h("p", { class: "muted" }, `${stay.destination.name}, ${stay.destination.district} · ${stay.kind.replace("_", " ")}`),
    h("p", {}, stay.summary),
    place.images && place.images.length
      ? h("div", { class: "gallery" }, place.images.map((img) => h("figure", {}, h("img", { src: img.url, alt: img.caption, width: 600, height: 360, loading: "lazy" }), h("figcaption", {}, img.caption))))
      : null,
    dates, roomList, priceSection, bookSection);

  if (!chosen) {
    priceSection.append(notice(`No room type here sleeps ${q.guests} guests in ${q.rooms} room${q.rooms === 1 ? "" : "s"}; add rooms or pick another stay.`, "error"));
    return;
  }
  const range = new URLSearchParams({ accommodation: stay.code, room_type: chosen.room_type, check_in: q.check_in, check_out: q.check_out });
  let quote;
  let availability;
  try {
    [quote, availability] = await Promise.all([
      api(`/api/catalog/quote?${range}&rooms=${q.rooms}`),
      api(`/api/inventory/availability?${new URLSearchParams({ accommodation: stay.code, room_type: chosen.room_type, from: q.check_in, to: q.check_out })}`),
    ]);
  } catch (error) {
    showError(dates, error);
    return;
  }
  const left = new Map(availability.nights.map((n) => [n.night, n.available]));
  const soldOut = quote.lines.some((l) => (left.get(l.night) ?? 0) < q.rooms);
  priceSection.append(
    h("table", {},
      h("caption", {}, `${chosen.name}, ${q.rooms} room${q.rooms === 1 ? "" : "s"}, ${nights} night${nights === 1 ? "" : "s"}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Night"), h("th", { scope: "col" }, "Rooms left"), h("th", { scope: "col" }, "Price"), h("th", { scope: "col" }, "GST"))),
      h("tbody", {}, quote.lines.map((l) => h("tr", {},
        h("th", { scope: "row" }, day(l.night)),
        h("td", {}, String(left.get(l.night) ?? 0)),
        h("td", {}, money(l.base)),
        h("td", {}, `${money(l.gst)} (${l.gst_rate_bp / 100} %)`)))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: 2 }, "Total with GST"), h("td", { colspan: 2, class: "total" }, money(quote.total))))),
  );
  if (soldOut) {
    bookSection.append(notice("Not enough rooms of this type are free on every night; try other dates or another room type.", "error"));
    return;
  }
  if (!session.token) {
    const next = encodeURIComponent(location.pathname + location.search);
    bookSection.append(h("p", {}, h("a", { href: `/sign-in?next=${next}` }, "Sign in"), " or ", h("a", { href: `/sign-up?next=${next}` }, "create an account"), " to book."));
    return;
  }
  bookSection.append(bookingForm(stay, chosen, q, quote));
}

/** The key that makes one checkout one booking: kept for the same stay, dates and party
 * until that booking ends, so a double click or a reload finds the same booking. */
function checkoutKey(selection) {
  const name = `checkout:${selection}`;
  let entry = null;
  try {
    entry = JSON.parse(sessionStorage.getItem(name) || "null");
  } catch {
    entry = null;
  }
  if (!entry) {
    entry = { key: crypto.randomUUID(), booking_ref: null };
    sessionStorage.setItem(name, JSON.stringify(entry));
  }
  return { name, entry };
}

/** A booking that ended without a stay frees its checkout key: booking again is a new booking. */
function forgetCheckout(bookingRef) {
  for (let i = sessionStorage.length - 1; i >= 0; i--) {
    const name = sessionStorage.key(i);
    if (!name || !name.startsWith("checkout:")) continue;
    try {
      if (JSON.parse(sessionStorage.getItem(name)).booking_ref === bookingRef) sessionStorage.removeItem(name);
    } catch {
      sessionStorage.removeItem(name);
    }
  }
}

function bookingForm(stay, room, q, quote) {
  const me = session.me || {};
  const form = h("form", { class: "book", "aria-label": "Lead traveller" },
    h("p", {}, `You pay ${money(quote.total)} on the payment gateway's page; the rooms are held for you while you pay.`),
    field("Lead traveller's name", "lead_traveller.name", { value: me.full_name || "", autocomplete: "name", required: true }),
    field("Email", "lead_traveller.email", { type: "email", value: me.email || "", autocomplete: "email", required: true }),
    field("Phone", "lead_traveller.phone", { type: "tel", value: me.phone || "", autocomplete: "tel", required: true, hint: "With the country code, e.g. +91 98765 43210" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, `Book and pay ${money(quote.total)}`)),
    formError());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return;
    button.disabled = true;
    button.textContent = "Booking…";
    const data = new FormData(form);
    const request = {
      accommodation: stay.code,
      room_type: room.room_type,
      check_in: q.check_in,
      check_out: q.check_out,
      rooms: q.rooms,
      guests: q.guests,
      lead_traveller: { name: data.get("lead_traveller.name"), email: data.get("lead_traveller.email"), phone: data.get("lead_traveller.phone") },
      payment: { method: "checkout" },
    };
    const { name, entry } = checkoutKey(JSON.stringify([request.accommodation, request.room_type, request.check_in, request.check_out, request.rooms, request.guests]));
    try {
      const accepted = await api("/api/bookings", { method: "POST", body: request, auth: true, headers: { "Idempotency-Key": entry.key } });
      sessionStorage.setItem(name, JSON.stringify({ ...entry, booking_ref: accepted.booking_ref }));
      go(`/bookings/${encodeURIComponent(accepted.booking_ref)}`);
    } catch (error) {
      // A refused request (a wrong field) booked nothing: the next try may reuse the key
      // only with the same details, so a corrected form gets a new one.
      if (error.status === 422) sessionStorage.removeItem(name);
      showError(form, error);
      button.disabled = false;
      button.textContent = `Book and pay ${money(quote.total)}`;
    }
  });
  return form;
}

const STEPS = [
  ["pending", "Request received"],
  ["held", "Rooms held"],
  ["awaiting_payment", "Waiting for your payment"],
  ["confirmed", "Confirmed"],
];
const ENDED = new Set(["confirmed", "failed", "expired", "cancelled"]);

/** A booking as it moves through its saga, followed live; a reload picks up where it is. */
async function bookingPage(ref, params) {
  if (!requireSignIn()) return;
  const gatewaySaid = params.get("error[description]")
    ? notice(`The payment gateway said: ${params.get("error[description]")}`, "error")
    : params.get("razorpay_payment_id") ? notice("The gateway has your payment; confirming the booking…") : null;
  const live = h("div", { "aria-live": "polite", class: "live" });
  show(`Booking ${ref}`, h("p", { class: "crumbs" }, h("a", { href: "/bookings" }, "My bookings"), " › ", ref), h("h1", {}, `Booking ${ref}`), gatewaySaid, live);
  const page = location.pathname;
  // Just asked to cancel: the booking reads confirmed until the cancellation saga has
  // fixed its terms, so keep following it a while.
  const cancelAskedAt = params.get("cancelling") ? Date.now() : null;
  const settled = (v) => ENDED.has(v.status) && !(v.status === "confirmed" && cancelAskedAt && Date.now() - cancelAskedAt < 60_000);
  let view = null;
  let failures = 0;
  for (;;) {
    const asked = Date.now();
    const before = view && view.status;
    try {
      // The API holds the answer until the booking settles (at most `wait` seconds).
      const wait = view && !ENDED.has(view.status) ? 20 : 0;
      view = await api(`/api/bookings/${encodeURIComponent(ref)}${wait ? `?wait=${wait}` : ""}`, { auth: true });
      failures = 0;
    } catch (error) {
      if (location.pathname !== page) return;
      if (error.status === 404 || error.status === 401) {
        live.replaceChildren(notice(error.message, "error"));
        return;
      }
      failures += 1;
      live.replaceChildren(...(view ? drawBooking(view) : []), notice("Reconnecting…"));
      await new Promise((r) => setTimeout(r, Math.min(10, failures * 2) * 1000));
      continue;
    }
    if (location.pathname !== page) return;
    // The cancellation was accepted: show it as under way while the record catches up.
    const shown = cancelAskedAt && view.status === "confirmed" && !settled(view) ? { ...view, status: "cancelling" } : view;
    live.replaceChildren(...drawBooking(shown));
    if (view.status === "failed" || view.status === "expired") forgetCheckout(ref);
    if (settled(view)) return;
    // A state the API does not hold answers for (a cancellation under way) is asked
    // again after a second, not at once.
    if (view.status === before && Date.now() - asked < 1000) await new Promise((r) => setTimeout(r, 1000));
  }
}

function drawBooking(view) {
  const at = STEPS.findIndex(([status]) => status === view.status);
  const parts = [];
  parts.push(h("p", { class: `status status-${view.status}` }, h("span", { class: "visually-hidden" }, "Status: "), statusLabel(view.status)));
  if (at >= 0 || view.status === "compensating") {
    parts.push(h("ol", { class: "steps", "aria-label": "Progress" }, STEPS.map(([status, label], i) =>
      h("li", { class: i < at ? "done" : i === at ? "current" : "todo", "aria-current": i === at ? "step" : false }, label))));
  }
  parts.push(h("dl", { class: "summary" },
    h("dt", {}, "Stay"), h("dd", {}, view.accommodation ? h("a", { href: `/stays/${encodeURIComponent(view.accommodation)}` }, view.accommodation) : "—"),
    h("dt", {}, "Room type"), h("dd", {}, view.room_type.replaceAll("_", " ")),
    h("dt", {}, "Dates"), h("dd", {}, `${day(view.check_in)} to ${day(view.check_out)}`),
    h("dt", {}, "Rooms and guests"), h("dd", {}, `${view.rooms} room${view.rooms === 1 ? "" : "s"}, ${view.guests} guest${view.guests === 1 ? "" : "s"}`),
    h("dt", {}, "Total with GST"), h("dd", {}, money(view.total)),
    view.amount_charged ? [h("dt", {}, "Paid"), h("dd", {}, money(view.amount_charged))] : null,
    view.amount_refunded && view.amount_refunded.amount > 0 ? [h("dt", {}, "Refunded"), h("dd", {}, money(view.amount_refunded))] : null));
  if (view.status === "awaiting_payment" && view.checkout) {
    const back = `${location.origin}/bookings/${encodeURIComponent(view.booking_ref)}`;
    const url = new URL(view.checkout.pay_url, location.href);
    url.searchParams.set("callback_url", back);
    parts.push(h("section", { class: "pay", "aria-labelledby": "pay-title" },
      h("h2", { id: "pay-title" }, "Pay to confirm"),
      h("p", {}, `Your rooms are held until ${new Date(view.checkout.expires_at).toLocaleTimeString("en-IN", { hour: "2-digit", minute: "2-digit" })}. Pay ${money(view.checkout.amount)} on the payment gateway's secure page.`),
      h("a", { class: "button primary", href: url.toString() }, `Pay ${money(view.checkout.amount)}`)));
  }
  if (view.failure) {
    parts.push(notice(`${view.failure.message} (${view.failure.code})`, "error"));
  }
  if (view.status === "failed" || view.status === "expired") {
    parts.push(h("p", {}, "The rooms are back on sale. ", view.accommodation ? h("a", { href: `/stays/${encodeURIComponent(view.accommodation)}?${new URLSearchParams({ check_in: view.check_in, check_out: view.check_out, rooms: String(view.rooms), guests: String(view.guests) })}` }, "Book again") : null));
  }
  if (view.status === "confirmed") parts.push(cancelSection(view));
  return parts;
}

function statusLabel(status) {
  return {
    pending: "Received — holding your rooms",
    held: "Rooms held",
    awaiting_payment: "Waiting for your payment",
    confirmed: "Confirmed",
    compensating: "Something went wrong — giving back what was held or paid",
    failed: "Not booked",
    expired: "Expired — the payment did not arrive in time",
    cancelling: "Cancelling",
    cancelled: "Cancelled",
  }[status] || status;
}

/** Cancel: the refund the policy gives is shown, then confirmed. */
function cancelSection(view) {
  const section = h("section", { class: "cancel", "aria-labelledby": "cancel-title" }, h("h2", { id: "cancel-title" }, "Cancel this booking"));
  const start = h("button", { type: "button", onclick: async () => {
    start.disabled = true;
    try {
      const terms = await api(`/api/bookings/${encodeURIComponent(view.booking_ref)}/cancellation-terms`, { auth: true });
      const confirm = h("button", { type: "button", class: "danger", onclick: async () => {
        confirm.disabled = true;
        try {
          await api(`/api/bookings/${encodeURIComponent(view.booking_ref)}/cancel`, { method: "POST", body: { reason: "cancelled on the web" }, auth: true });
          go(`/bookings/${encodeURIComponent(view.booking_ref)}?cancelling=1`, { replace: true });
        } catch (error) {
          section.append(notice(error.message, "error"));
          confirm.disabled = false;
        }
      } }, `Cancel and refund ${money(terms.refund)}`);
      start.replaceWith(h("div", { class: "terms" },
        h("p", { role: "status" }, terms.refund.amount > 0
          ? `Cancelling now refunds ${money(terms.refund)} of the ${money(terms.charged)} you paid (${terms.refund_bp / 100} % by the ${terms.policy} policy, ${terms.days_before_check_in} days before check-in).`
          : `Cancelling now refunds nothing of the ${money(terms.charged)} you paid (${terms.days_before_check_in} days before check-in, ${terms.policy} policy).`),
        confirm,
        h("button", { type: "button", class: "link", onclick: () => route() }, "Keep the booking")));
      confirm.focus();
    } catch (error) {
      section.append(notice(error.message, "error"));
      start.disabled = false;
    }
  } }, "Cancel booking…");
  section.append(start);
  return section;
}

/** My bookings, newest first, a page at a time. */
async function myBookingsPage(params) {
  if (!requireSignIn()) return;
  const cursor = params.get("cursor");
  const page = await api(`/api/bookings?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { auth: true });
  show("My bookings", h("h1", {}, "My bookings"),
    page.items.length
      ? h("table", {},
        h("caption", { class: "visually-hidden" }, "Your bookings, newest first"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Booking"), h("th", { scope: "col" }, "Dates"), h("th", { scope: "col" }, "Total"), h("th", { scope: "col" }, "Status"))),
        h("tbody", {}, page.items.map((b) => h("tr", {},
          h("th", { scope: "row" }, h("a", { href: `/bookings/${encodeURIComponent(b.booking_ref)}` }, b.booking_ref)),
          h("td", {}, b.check_in ? `${day(b.check_in)} to ${day(b.check_out)}` : "—"),
          h("td", {}, money(b.total)),
          h("td", {}, b.status.replaceAll("_", " "))))))
      : h("p", {}, "No bookings yet. ", h("a", { href: "/" }, "Find a stay")),
    page.next_cursor ? h("nav", { class: "pages", "aria-label": "Booking pages" }, h("a", { href: `/bookings?cursor=${encodeURIComponent(page.next_cursor)}`, rel: "next" }, "Older bookings →")) : null);
}

/** Where to go after signing in: a page of this site only. */
function nextPage(params) {
  const next = params.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function signInPage(params) {
  const form = h("form", { class: "account", "aria-label": "Sign in" },
    field("Email", "email", { type: "email", autocomplete: "username", required: true }),
    field("Password", "password", { type: "password", autocomplete: "current-password", required: true }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")),
    formError());
  form.addEventListener("submit", (e) => submitAccount(e, form, "/api/auth/login?session=cookie", params));
  show("Sign in", h("h1", {}, "Sign in"), form,
    h("p", {}, "New here? ", h("a", { href: `/sign-up?next=${encodeURIComponent(nextPage(params))}` }, "Create an account")));
}

function signUpPage(params) {
  const form = h("form", { class: "account", "aria-label": "Create an account" },
    field("Full name", "full_name", { autocomplete: "name", required: true }),
    field("Email", "email", { type: "email", autocomplete: "email", required: true }),
    field("Phone (optional)", "phone", { type: "tel", autocomplete: "tel", hint: "With the country code, e.g. +91 98765 43210" }),
    field("Password", "password", { type: "password", autocomplete: "new-password", required: true, minlength: 10, hint: "At least 10 characters" }),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create account")),
    formError());
  form.addEventListener("submit", (e) => submitAccount(e, form, "/api/auth/register?session=cookie", params));
  show("Create an account", h("h1", {}, "Create an account"), form,
    h("p", {}, "Have an account? ", h("a", { href: `/sign-in?next=${encodeURIComponent(nextPage(params))}` }, "Sign in")));
}

async function submitAccount(event, form, path, params) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const body = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => v !== ""));
  try {
    adopt(await api(path, { method: "POST", body }));
    await loadMe();
    go(nextPage(params), { replace: true });
  } catch (error) {
    if (error.status === 401) error.field = null;
    showError(form, error);
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------
// Routing: the address names the page; links within the site do not reload it.

function go(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

async function route() {
  drawAccount();
  const { pathname } = location;
  const params = new URLSearchParams(location.search);
  let match;
  try {
    if (pathname === "/") await searchPage(params);
    else if ((match = pathname.match(/^\/stays\/([^/]+)$/))) await stayPage(decodeURIComponent(match[1]), params);
    else if (pathname === "/bookings") await myBookingsPage(params);
    else if ((match = pathname.match(/^\/bookings\/([^/]+)$/))) await bookingPage(decodeURIComponent(match[1]), params);
    else if (pathname === "/sign-in") signInPage(params);
    else if (pathname === "/sign-up") signUpPage(params);
    else show("Not found", h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Find a stay")));
  } catch (error) {
    show("Something went wrong", h("h1", {}, "Something went wrong"), notice(error.message, "error"),
      h("p", {}, h("button", { type: "button", onclick: () => route() }, "Try again")));
  }
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) main.focus({ preventScroll: true });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener("popstate", () => route());

(async () => {
  await refreshSession();
  await loadMe();
  await route();
})();
