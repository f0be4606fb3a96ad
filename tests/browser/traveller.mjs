// The travellers' pages in a real browser (Chromium, through playwright-core) against a
// running platform: search, sign up, book, pay on the gateway's page, follow the saga to
// confirmed, a declined card, a reload mid-saga, a double click, cancelling with the
// refund shown first. Every page is checked with axe-core (no serious or critical
// violation) and photographed at phone and desktop widths.
//
//   node tests/browser/traveller.mjs BASE_URL ARTIFACT_DIR
//
// Environment: CHROMIUM (default /usr/bin/chromium). The last line is
// `travellers: N passed, M failed` (scripts/browser-tests.sh adds it into its `browser:`
// line); the exit status is 1 when any test failed.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import path from "node:path";

const require = createRequire(import.meta.url);
const AXE_SOURCE = require.resolve("axe-core/axe.min.js");

const base = (process.argv[2] || "http://127.0.0.1:8080").replace(/\/$/, "");
const artifacts = process.argv[3] || "target/browser-artifacts";
mkdirSync(artifacts, { recursive: true });

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const STAY = "ujjayanta-heritage-hotel";
const ROOM_TYPE = "deluxe_double";
const PASSWORD = "Browser-test-2026";
const CONFIRM_MS = 90_000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Two nights 20 to 170 days ahead, so that runs rarely share a night. */
// Check-in dates already taken by this run: the tests book as one traveller and tell their
// bookings apart by check-in date, so no two may share one.
const takenCheckIns = new Set();

function randomStay() {
  let start, checkIn;
  do {
    start = new Date();
    start.setUTCDate(start.getUTCDate() + 20 + Math.floor(Math.random() * 150));
    checkIn = start.toISOString().slice(0, 10);
  } while (takenCheckIns.has(checkIn));
  takenCheckIns.add(checkIn);
  start.setUTCDate(start.getUTCDate() + 2);
  return { checkIn, checkOut: start.toISOString().slice(0, 10) };
}

async function apiJson(url, init = {}) {
  const response = await fetch(`${base}${url}`, { ...init, headers: { Accept: "application/json", "Content-Type": "application/json", ...(init.headers || {}) } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${init.method || "GET"} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Rooms of the test room type left on each night of `stay`. */
async function roomsLeft(stay) {
  const q = new URLSearchParams({ accommodation: STAY, room_type: ROOM_TYPE, from: stay.checkIn, to: stay.checkOut });
  const body = await apiJson(`/api/inventory/availability?${q}`);
  return body.nights.map((n) => n.available);
}

async function bookingsOf(email) {
  const tokens = await apiJson("/api/auth/login", { method: "POST", body: JSON.stringify({ email, password: PASSWORD }) });
  const list = await apiJson("/api/bookings?limit=100", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  return list.items;
}

// -----------------------------------------------------------------------------------------
// Accessibility and screenshots

const audited = [];

/** axe-core on the page as it is: serious and critical violations fail the test. */
async function audit(page, name) {
  await page.addScriptTag({ path: AXE_SOURCE });
  const result = await page.evaluate(async () => {
    const r = await globalThis.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const blocking = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  audited.push({ name, violations: result.length, blocking: blocking.length });
  check(blocking.length === 0, `${name}: accessibility violations ${JSON.stringify(blocking)}`);
}

/** The page at phone and desktop widths, written to the artifact folder. */
async function photograph(page, name) {
  const size = page.viewportSize();
  for (const [label, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(artifacts, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

async function visit(page, name) {
  await audit(page, name);
  await photograph(page, name);
}

// -----------------------------------------------------------------------------------------
// Steps a traveller takes

async function signUp(page, email) {
  await page.getByLabel("Full name").fill("Browser Traveller");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Phone (optional)").fill("+919876543210");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
}

async function openStay(page, stay) {
  const q = new URLSearchParams({ check_in: stay.checkIn, check_out: stay.checkOut, rooms: "1", guests: "2", room_type: ROOM_TYPE });
  await page.goto(`${base}/stays/${STAY}?${q}`);
  await page.getByRole("heading", { name: "Price and rooms left" }).waitFor();
  await page.getByRole("button", { name: /Book and pay/ }).waitFor();
}

/** Books on the stay page and waits for the booking page to ask for the payment. */
async function bookAndReachPayment(page, stay, { doubleClick = false } = {}) {
  await openStay(page, stay);
  const book = page.getByRole("button", { name: /Book and pay/ });
  if (doubleClick) await book.dblclick();
  else await book.click();
  await page.waitForURL(/\/bookings\/TRP-/);
  await page.getByRole("link", { name: /^Pay ₹/ }).waitFor({ timeout: 60_000 });
  return page.url().match(/\/bookings\/(TRP-[A-Z0-9]+)/)[1];
}

/** On the gateway's page: choose the sandbox's card that pays, or the one it declines. */
async function payOnGateway(page, card) {
  await page.getByRole("link", { name: /^Pay ₹/ }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  await page.locator(`input[name="card_token"][value="${card}"]`).check();
  return page;
}

async function waitForStatus(page, text, timeout = CONFIRM_MS) {
  await page.locator(".status").filter({ hasText: text }).waitFor({ timeout });
}

// -----------------------------------------------------------------------------------------
// Tests

const email = `browser-${randomUUID().slice(0, 8)}@example.in`;
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("search, sign up, book, reload during the saga, pay on the checkout page, confirmed", async ({ page }) => {
  const stay = randomStay();
  await page.goto(`${base}/`);
  await page.getByRole("search").waitFor();
  await page.getByLabel("Destination").selectOption("agartala");
  await page.getByLabel("Check-in").fill(stay.checkIn);
  await page.getByLabel("Check-out").fill(stay.checkOut);
  await page.getByRole("button", { name: "Search" }).click();
  const result = page.getByRole("link", { name: "Ujjayanta Heritage Hotel" });
  await result.waitFor();
  await page.locator(".card").filter({ has: result }).getByText(/GST included/).waitFor();
  await visit(page, "1-search");

  await result.click();
  await page.getByRole("heading", { name: "Price and rooms left" }).waitFor();
  await page.getByRole("link", { name: "create an account" }).click();
  await page.getByRole("heading", { name: "Create an account" }).waitFor();
  await visit(page, "2-sign-up");
  await signUp(page, email);
  await page.getByRole("button", { name: /Book and pay/ }).waitFor();
  await visit(page, "3-stay");

  // A wrong phone number: the API's message shows next to the field.
  await page.getByLabel("Phone").fill("12");
  await page.getByRole("button", { name: /Book and pay/ }).click();
  await page.locator("#f-lead_traveller-phone-error").filter({ hasText: /phone number/ }).waitFor();
  check(await page.getByLabel("Phone").getAttribute("aria-invalid") === "true", "the phone field is not marked invalid");
  await page.getByLabel("Phone").fill("+91 98765 43210");

  await page.getByRole("button", { name: /Book and pay/ }).click();
  await page.waitForURL(/\/bookings\/TRP-/);
  await waitForStatus(page, "Waiting for your payment", 60_000);
  const ref = page.url().match(/TRP-[A-Z0-9]+/)[0];
  await visit(page, "4-awaiting-payment");

  // A reload mid-saga: still signed in (the session cookie), the same booking, the same state.
  await page.reload();
  await waitForStatus(page, "Waiting for your payment", 30_000);
  check(await page.getByRole("heading", { name: `Booking ${ref}` }).isVisible(), "the reload shows another booking");
  check(await page.getByText("Browser Traveller").isVisible(), "the reload signed the traveller out");

  await payOnGateway(page, "tok_success");
  await visit(page, "5-gateway-checkout");
  await page.getByRole("button", { name: /^Pay/ }).click();
  await page.waitForURL(new RegExp(`${base}/bookings/${ref}`));
  await waitForStatus(page, "Confirmed");
  check(await page.locator(".summary").getByText("Paid").isVisible(), "no paid amount shown");
  await visit(page, "6-confirmed");

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "My bookings" }).click();
  await page.getByRole("link", { name: ref }).waitFor();
  await visit(page, "7-my-bookings");
});

test("a declined card ends the booking with its reason and puts the rooms back on sale", async ({ page }) => {
  const stay = randomStay();
  await signIn(page);
  const before = await roomsLeft(stay);
  await bookAndReachPayment(page, stay);
  const during = await roomsLeft(stay);
  check(during.every((n, i) => n === before[i] - 1), `the rooms were not held: ${before} then ${during}`);
  await payOnGateway(page, "tok_decline");
  await page.getByRole("button", { name: /^Pay/ }).click();
  await page.waitForURL(new RegExp(`${base}/bookings/TRP-`));
  await waitForStatus(page, "Not booked");
  await page.getByText(/card_declined/).waitFor();
  await page.getByText("The rooms are back on sale.").waitFor();
  const after = await roomsLeft(stay);
  check(after.every((n, i) => n === before[i]), `rooms not back on sale: ${before} before, ${after} after`);
  await visit(page, "8-declined");
});

test("a double click on the booking button makes one booking, and on Pay one payment", async ({ page }) => {
  const stay = randomStay();
  await signIn(page);
  const ref = await bookAndReachPayment(page, stay, { doubleClick: true });
  const mine = (await bookingsOf(email)).filter((b) => b.check_in === stay.checkIn);
  check(mine.length === 1, `expected one booking for ${stay.checkIn}, found ${mine.length}`);
  await payOnGateway(page, "tok_success");
  const gateway = new URL(page.url());
  const orderId = gateway.pathname.split("/").pop();
  await page.getByRole("button", { name: /^Pay/ }).dblclick();
  await page.waitForURL(new RegExp(`${base}/bookings/${ref}`));
  await waitForStatus(page, "Confirmed");
  const ledger = await (await fetch(`${gateway.origin}/v1/sandbox/ledger`)).json();
  const order = ledger.orders.find((o) => o.order_id === orderId);
  check(order && order.payments === 1 && order.captures === 1, `the order was paid more than once: ${JSON.stringify(order)}`);
  // The same form sent again (a reload and a second click) still finds that booking.
  await openStay(page, stay);
  await page.getByRole("button", { name: /Book and pay/ }).click();
  await page.waitForURL(new RegExp(`/bookings/${ref}`));
  const again = (await bookingsOf(email)).filter((b) => b.check_in === stay.checkIn);
  check(again.length === 1, `a second click made another booking: ${again.length}`);
});

test("cancelling shows the refund first, then refunds it", async ({ page }) => {
  const stay = randomStay();
  await signIn(page);
  const ref = await bookAndReachPayment(page, stay);
  await payOnGateway(page, "tok_success");
  await page.getByRole("button", { name: /^Pay/ }).click();
  await page.waitForURL(new RegExp(`${base}/bookings/${ref}`));
  await waitForStatus(page, "Confirmed");
  await page.getByRole("button", { name: "Cancel booking…" }).click();
  const confirm = page.getByRole("button", { name: /^Cancel and refund ₹/ });
  await confirm.waitFor();
  const shown = (await confirm.textContent()).replace("Cancel and refund ", "");
  await visit(page, "9-cancel-terms");
  await confirm.click();
  await waitForStatus(page, "Cancelled");
  const refunded = page.locator('.summary dt:text-is("Refunded") + dd');
  await refunded.waitFor({ timeout: 30_000 });
  const made = await refunded.textContent();
  check(made === shown, `refunded ${made}, shown ${shown} before`);
  await visit(page, "10-cancelled");
});

test("sign-in errors are shown, and signing out ends the session", async ({ page }) => {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: /email or password/i }).waitFor();
  await visit(page, "11-sign-in-error");
  await signIn(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  await page.reload();
  await page.getByRole("link", { name: "Sign in" }).waitFor();
  const cookies = await page.context().cookies();
  check(!cookies.some((c) => c.name === "tt_session" && c.value), "the session cookie outlived the sign-out");
});

async function signIn(page) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  // The refresh token is out of the page's reach: only the HttpOnly cookie holds it.
  const cookie = (await page.context().cookies()).find((c) => c.name === "tt_session");
  check(cookie && cookie.httpOnly && cookie.sameSite === "Strict", "no HttpOnly SameSite=Strict session cookie");
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  check(!/eyJ/.test(stored), "a token was kept in the page's storage");
}

// -----------------------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  // axe is added to each page as a script: the pages' policy would refuse it.
  const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, locale: "en-IN" });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  const started = Date.now();
  try {
    await fn({ page });
    check(consoleErrors.length === 0, `script errors on the page: ${consoleErrors.join("; ")}`);
    passed += 1;
    console.log(`ok    ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${name}\n      ${String(error.message || error).split("\n").join("\n      ")}`);
    await page.screenshot({ path: path.join(artifacts, `failed-${tests.findIndex((t) => t.name === name) + 1}.png`), fullPage: true }).catch(() => {});
    console.log(`      at ${page.url()}; screenshot in ${artifacts}`);
  }
  await context.close();
}
await browser.close();
console.log(`axe: ${audited.length} pages checked, ${audited.reduce((n, a) => n + a.blocking, 0)} serious or critical violations, ${audited.reduce((n, a) => n + a.violations, 0)} in all`);
console.log(`travellers: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
