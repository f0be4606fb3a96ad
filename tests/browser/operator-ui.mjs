// The Temporal Web UI as operators use it (Chromium, through playwright-core), against a
// running platform: a booking is made through the API, then
//
// 1. an operator signs in on the codec's sign-in page of the Web UI's origin and opens the
//    booking's saga in the UI: the lead traveller's name shows in clear, with no setting
//    changed in the browser;
// 2. a traveller's sign-in there is refused, and the same page shows the workflow input as
//    it is stored, sealed (`binary/encrypted`): its ciphertext, not the name.
//
//   node tests/browser/operator-ui.mjs API_URL WEB_UI_URL ARTIFACT_DIR
//
// Environment: CHROMIUM (default /usr/bin/chromium), TT_TEMPORAL_NAMESPACE (default
// `default`, the dev server's). The last line is `operators: N passed, M failed`
// (scripts/browser-tests.sh adds it into its `browser:` line); the exit status is 1 when
// any test failed.

import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import path from "node:path";

const api = (process.argv[2] || "http://127.0.0.1:8080").replace(/\/$/, "");
const ui = (process.argv[3] || "http://127.0.0.1:8233").replace(/\/$/, "");
const artifacts = process.argv[4] || "target/browser-artifacts";
mkdirSync(artifacts, { recursive: true });

const NAMESPACE = process.env.TT_TEMPORAL_NAMESPACE || "default";
const DEMO_PASSWORD = "Tripura-demo-2026";
const OPERATOR = "operator@demo.tripura.travel";
const TRAVELLER = "traveller@demo.tripura.travel";
const SEALED = "binary/encrypted";
const PAGE_MS = 45_000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function apiJson(url, init = {}) {
  const response = await fetch(`${api}${url}`, { ...init, headers: { Accept: "application/json", "Content-Type": "application/json", ...(init.headers || {}) } });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error(`${init.method || "GET"} ${url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A confirmed booking of the demo traveller, for a lead traveller named `name`. */
async function book(name) {
  const { access_token: token } = await apiJson("/api/auth/login", { method: "POST", body: JSON.stringify({ email: TRAVELLER, password: DEMO_PASSWORD }) });
  const start = new Date();
  start.setUTCDate(start.getUTCDate() + 20 + Math.floor(Math.random() * 150));
  const checkIn = start.toISOString().slice(0, 10);
  start.setUTCDate(start.getUTCDate() + 1);
  const checkOut = start.toISOString().slice(0, 10);
  const auth = { Authorization: `Bearer ${token}` };
  const { booking_ref: ref } = await apiJson("/api/bookings", {
    method: "POST",
    headers: { ...auth, "Idempotency-Key": randomUUID() },
    body: JSON.stringify({
      accommodation: "ujjayanta-heritage-hotel", room_type: "deluxe_double", check_in: checkIn, check_out: checkOut, rooms: 1, guests: 2,
      lead_traveller: { name, email: "operator-ui-test@example.in", phone: "+919876543210" },
      payment: { method: "card", card_token: "tok_success" },
    }),
  });
  const booking = await apiJson(`/api/bookings/${ref}?wait=20`, { headers: auth });
  check(booking.status === "confirmed", `booking ${ref} is ${booking.status}, not confirmed`);
  return ref;
}

/** Signs in on the codec's sign-in page of the Web UI's origin; the answer's status. */
async function codecSignIn(page, email) {
  await page.goto(`${ui}/api/codec/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${ui}/api/codec/sign-in` && r.request().method() === "POST"),
    page.getByRole("button", { name: "Sign in" }).click(),
  ]);
  return answer.status();
}

/** Opens the saga's page in the Web UI, noting the status of every codec request it makes. */
async function openSaga(page, ref) {
  const decodes = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname.endsWith("/decode")) decodes.push({ url: r.url(), status: r.status() });
  });
  await page.goto(`${ui}/namespaces/${NAMESPACE}/workflows/booking-${ref}`);
  return decodes;
}

/** Waits until the page's text contains `text`, or fails naming what it shows. */
async function waitForText(page, text, what) {
  try {
    await page.waitForFunction((t) => document.body && document.body.innerText.includes(t), text, { timeout: PAGE_MS });
  } catch {
    throw new Error(`${what}: "${text}" never showed on ${page.url()}`);
  }
}

const bodyText = (page) => page.evaluate(() => document.body.innerText);

/** The saga's input as the server stores it (through the Web UI's own API): its metadata
 * must say it is sealed; the start of its ciphertext, as the UI shows undecoded data. */
async function storedInput(ref) {
  const url = `${ui}/api/v1/namespaces/${NAMESPACE}/workflows/booking-${ref}/history?maximumPageSize=1`;
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  check(response.ok, `GET ${url}: ${response.status}`);
  const [started] = (await response.json()).history.events;
  const [payload] = started.workflowExecutionStartedEventAttributes.input.payloads;
  const encoding = Buffer.from(payload.metadata.encoding, "base64").toString();
  check(encoding === SEALED, `the saga's input is stored as ${encoding}, not ${SEALED}`);
  return payload.data.slice(0, 40);
}

/** The codec cookie the browser holds for the Web UI's host, if any. */
async function codecCookie(context) {
  const host = new URL(ui).hostname;
  return (await context.cookies()).find((c) => c.name === "tt_codec" && c.domain.replace(/^\./, "") === host);
}

// -----------------------------------------------------------------------------------------

const name = `Sunita Kalai ${randomUUID().slice(0, 8)}`;
let ref;
const tests = [];
const test = (title, fn) => tests.push({ title, fn });

test("an operator signed in on the Web UI's origin reads the lead traveller's name in the saga", async ({ page, context }) => {
  ref = await book(name);
  check((await codecSignIn(page, OPERATOR)) === 200, "the operator's codec sign-in was not accepted");
  await page.getByText(/Signed in for \d+ minutes/).waitFor();
  const cookie = await codecCookie(context);
  check(cookie && cookie.httpOnly && cookie.path === "/api/codec", "no HttpOnly codec cookie for /api/codec on the Web UI's host");
  const ciphertext = await storedInput(ref);
  const decodes = await openSaga(page, ref);
  await waitForText(page, name, "the decoded workflow input");
  await page.screenshot({ path: path.join(artifacts, "operator-ui-decoded.png"), fullPage: true });
  check(!(await bodyText(page)).includes(ciphertext), "the operator's page still shows the input's ciphertext");
  check(decodes.some((d) => d.status === 200), `no codec request answered 200: ${JSON.stringify(decodes)}`);
  check(decodes.every((d) => d.url.startsWith(`${ui}/`)), `a codec request left the Web UI's origin: ${JSON.stringify(decodes)}`);
  check(decodes.every((d) => d.status === 200), `a codec request was refused: ${JSON.stringify(decodes)}`);
});

test("a traveller's sign-in is refused, and the saga's input stays sealed", async ({ page, context }) => {
  ref = ref || (await book(name));
  check((await codecSignIn(page, TRAVELLER)) === 403, "the traveller's codec sign-in was not refused with 403");
  check(!(await codecCookie(context)), "the traveller was given a codec cookie");
  const ciphertext = await storedInput(ref);
  const decodes = await openSaga(page, ref);
  await waitForText(page, ciphertext, "the sealed workflow input's ciphertext");
  await page.screenshot({ path: path.join(artifacts, "operator-ui-sealed.png"), fullPage: true });
  check(!(await bodyText(page)).includes(name), "the lead traveller's name shows to a traveller");
  check(decodes.length > 0 && decodes.every((d) => d.status === 401), `the codec did not refuse every request: ${JSON.stringify(decodes)}`);
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
let passed = 0;
let failed = 0;
for (const [i, { title, fn }] of tests.entries()) {
  // A fresh context each: no cookie, and none of the Web UI's settings (localStorage).
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: "en-IN" });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const started = Date.now();
  try {
    await fn({ page, context });
    passed += 1;
    console.log(`ok    ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${title}\n      ${String(error.message || error).split("\n").join("\n      ")}`);
    await page.screenshot({ path: path.join(artifacts, `failed-operator-ui-${i + 1}.png`), fullPage: true }).catch(() => {});
    console.log(`      at ${page.url()}; screenshot in ${artifacts}`);
  }
  await context.close();
}
await browser.close();
console.log(`operators: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
