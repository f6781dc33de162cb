// The demo store: a merchant's own page on the public API, with a publishable key and nothing
// else. It starts a checkout, watches its status by short polling with the checkout's client
// secret, opens the bank's page when 3-D Secure asks, pays again after a decline, lists the
// customer's orders and cancels one (refunded once paid). The customer id and the client secrets
// stay in this browser's localStorage: a client secret is the customer's key to their own orders.

const CURRENCY = "USD";
/** ISO 4217 minor units: every amount the API gives or takes is an integer in them. */
const EXPONENTS = { USD: 2, EUR: 2, GBP: 2, JPY: 0, KWD: 3, BHD: 3 };
const CATALOG = [
  { sku: "tee-black", name: "Black T-shirt", unitAmount: 1999 },
  { sku: "tee-white", name: "White T-shirt", unitAmount: 1799 },
  { sku: "hoodie", name: "Hoodie", unitAmount: 4500 },
  { sku: "socks", name: "Socks (pair)", unitAmount: 599 },
];
const SCENARIOS = [
  { id: "approve", token: "tok_approve", label: "Approve", hint: "the bank approves at once" },
  { id: "decline", token: "tok_decline", label: "Decline", hint: "card_declined: you may pay again with another card" },
  { id: "3ds", token: "tok_3ds", label: "3-D Secure", hint: "the bank asks you to authenticate on its page" },
  { id: "slow", token: "tok_slow", label: "Slow", hint: "approved after a few seconds" },
];
const FINAL_CHECKOUT = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);
const FINAL_ORDER = new Set(["DELIVERED", "CANCELLED", "PAYMENT_FAILED", "REFUNDED"]);
const CANCELLABLE_ORDER = new Set(["PENDING_PAYMENT", "PAID"]);
const CHECKOUT_POLL_MS = 700;
/** After a purchase or a cancel, the orders list is refreshed this often, for this long (the delivery timer). */
const ORDERS_POLL_MS = 2000;
const ORDERS_WATCH_MS = 120_000;
const STORAGE_KEY = "checkout-store/v1";

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Money: integers in minor units, formatted for display only.

/** 3998, 2 → "39.98": exact, as a decimal string (Intl formats strings without going through a float). */
function decimalString(amount, exponent) {
  const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent ? `.${digits.slice(digits.length - exponent)}` : "";
  return `${amount < 0 ? "-" : ""}${whole}${fraction}`;
}

function formatMoney(amount, currency) {
  const exponent =
    EXPONENTS[currency] ?? new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  return new Intl.NumberFormat(navigator.language || "en-US", {
    style: "currency",
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(decimalString(amount, exponent));
}

// ---- What this browser remembers: who the customer is, and the client secrets of their checkouts.

function loadState() {
  try {
    const state = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    return { email: "", customerId: "", secrets: {}, lastCheckout: null, ...state };
  } catch {
    return { email: "", customerId: "", secrets: {}, lastCheckout: null };
  }
}

const state = loadState();
const saveState = () => localStorage.setItem(STORAGE_KEY, JSON.stringify(state));

function rememberCheckout(customerId, checkoutId, clientSecret) {
  state.secrets[customerId] = { ...state.secrets[customerId], [checkoutId]: clientSecret };
  state.lastCheckout = { id: checkoutId, customerId };
  saveState();
}

const secretOf = (customerId, checkoutId) => state.secrets[customerId]?.[checkoutId];
/** Newest first: any of them lets this browser list the customer's orders. */
const secretsOf = (customerId) => Object.values(state.secrets[customerId] ?? {}).reverse();

// ---- The API: same origin, the publishable key, JSON.

let publishableKey;

class ApiError extends Error {
  constructor(status, error) {
    const fields = (error?.fields ?? []).map((f) => `${f.field} ${f.reason}`).join("; ");
    super(`${error?.message ?? `The API answered ${status}.`}${fields ? ` (${fields})` : ""}`);
    this.status = status;
    this.code = error?.code;
  }
}

async function api(method, path, body, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${publishableKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(res.status, json?.error);
  return json;
}

const withSecret = (path, secret) => `${path}${path.includes("?") ? "&" : "?"}client_secret=${encodeURIComponent(secret)}`;

/** One per click of Pay: a retried request of that click finds its checkout, a new click starts a new one. */
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `store-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// ---- The catalog and the basket.

function renderCatalog() {
  for (const item of CATALOG) {
    const li = document.createElement("li");
    const label = document.createElement("label");
    label.htmlFor = `qty-${item.sku}`;
    label.textContent = `${item.name}, ${formatMoney(item.unitAmount, CURRENCY)}`;
    const input = document.createElement("input");
    Object.assign(input, { id: `qty-${item.sku}`, type: "number", min: "0", max: "10", value: "0", inputMode: "numeric" });
    input.addEventListener("input", renderTotal);
    li.append(label, " ", input);
    $("catalog").append(li);
  }
  renderTotal();
}

function basket() {
  return CATALOG.map((item) => ({ ...item, quantity: Number.parseInt($(`qty-${item.sku}`).value, 10) || 0 })).filter(
    (item) => item.quantity > 0,
  );
}

function renderTotal() {
  const total = basket().reduce((sum, item) => sum + item.quantity * item.unitAmount, 0);
  $("basket-total").textContent = formatMoney(total, CURRENCY);
}

function renderScenarios(container, name, prefix) {
  for (const [index, scenario] of SCENARIOS.entries()) {
    const id = `${prefix}-${scenario.id}`;
    const input = Object.assign(document.createElement("input"), { type: "radio", name, id, value: scenario.token });
    input.checked = index === 0;
    const label = Object.assign(document.createElement("label"), { htmlFor: id });
    label.append(`${scenario.label} `, Object.assign(document.createElement("small"), { textContent: `(${scenario.hint})` }));
    const row = document.createElement("div");
    row.append(input, " ", label);
    container.append(row);
  }
}

const chosenToken = (form, name) => new FormData(form).get(name);

// ---- Paying.

async function pay(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  const customerId = $("customer-id").value.trim();
  const items = basket();
  const problem = !items.length
    ? "Choose at least one item."
    : !/^[^\s@]+@[^\s@]+$/.test(email)
      ? "Enter your email address."
      : !/^[A-Za-z0-9_.:-]{1,100}$/.test(customerId)
        ? "Enter a customer id: letters, digits and _ . : - only."
        : "";
  $("form-error").textContent = problem;
  if (problem) return;
  Object.assign(state, { email, customerId });
  saveState();
  $("pay").disabled = true;
  try {
    const answer = await api(
      "POST",
      "/checkouts",
      {
        customer: { id: customerId, email },
        items: items.map(({ sku, name, quantity, unitAmount }) => ({ sku, name, quantity, unitAmount })),
        currency: CURRENCY,
        payment: { provider: "sandbox", token: chosenToken($("checkout-form"), "scenario") },
        metadata: { source: "store" },
      },
      { "idempotency-key": newIdempotencyKey() },
    );
    rememberCheckout(customerId, answer.id, answer.clientSecret);
    watchCheckout(customerId, answer.id);
  } catch (err) {
    $("form-error").textContent = `The checkout did not start: ${err.message}`;
  } finally {
    $("pay").disabled = false;
  }
}

// ---- Watching a checkout: short polling with its client secret, each new status shown.

let watching; // the checkout the page shows; a newer one stops the older one's polling
const MESSAGES = {
  RUNNING: () => "Processing your payment…",
  REQUIRES_ACTION: () => "Your bank asks you to authenticate: open its page, then come back here.",
  REQUIRES_PAYMENT_METHOD: (view) => `The payment was declined (${view.failureReason ?? "declined"}). Choose another card.`,
  COMPLETED: () => "Paid. Thank you for your order!",
  FAILED: (view) => `The payment failed: ${view.failureReason ?? "no reason given"}.`,
  CANCELLED: () => "The checkout was cancelled; nothing was charged.",
  EXPIRED: () => "No new payment came in time: the order was cancelled.",
};

async function watchCheckout(customerId, checkoutId) {
  const secret = secretOf(customerId, checkoutId);
  if (!secret) return;
  const watch = { customerId, checkoutId, secret, orderId: null };
  watching = watch;
  $("checkout").hidden = false;
  $("checkout-id").textContent = checkoutId;
  $("status-history").replaceChildren();
  $("checkout-status").textContent = "";
  $("checkout-message").textContent = "";
  $("checkout-order").hidden = true;
  $("pay-again-form").hidden = true;
  $("action").hidden = true;
  let last;
  while (watching === watch) {
    let view;
    try {
      view = await api("GET", withSecret(`/checkouts/${encodeURIComponent(checkoutId)}`, secret));
    } catch (err) {
      $("checkout-message").textContent = `Could not read the checkout: ${err.message}`;
      if (err.status === 404) return;
      await sleep(2000);
      continue;
    }
    if (watching !== watch) return;
    if (view.status !== last) {
      last = view.status;
      const entry = document.createElement("li");
      entry.textContent = `${new Date().toLocaleTimeString()} ${view.status}`;
      $("status-history").append(entry);
      refreshOrders(); // the order's own status moves with it
    }
    renderCheckout(watch, view);
    if (FINAL_CHECKOUT.has(view.status)) {
      watchOrders();
      return;
    }
    await sleep(CHECKOUT_POLL_MS);
  }
}

function renderCheckout(watch, view) {
  $("checkout-status").textContent = view.status;
  $("checkout-message").textContent = (MESSAGES[view.status] ?? (() => ""))(view);
  watch.orderId = view.orderId;
  if (view.orderId) {
    $("checkout-order").hidden = false;
    $("order-id").textContent = view.orderId;
  }
  const actionUrl = view.status === "REQUIRES_ACTION" ? safeUrl(view.payment?.action?.url) : undefined;
  $("action").hidden = !actionUrl;
  if (actionUrl) $("action-link").href = actionUrl;
  const payAgain = view.status === "REQUIRES_PAYMENT_METHOD" && Boolean(view.orderId);
  // Shown once per decline: a repaint while the customer chooses must not reset the choice.
  if (payAgain && $("pay-again-form").hidden) $("pay-again").disabled = false;
  $("pay-again-form").hidden = !payAgain;
}

/** Only a web page may be opened from what the API names (never a javascript: URL). */
function safeUrl(raw) {
  try {
    const url = new URL(raw, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

async function payAgain(event) {
  event.preventDefault();
  const watch = watching;
  if (!watch?.orderId) return;
  $("pay-again").disabled = true;
  try {
    const view = await api("POST", withSecret(`/orders/${encodeURIComponent(watch.orderId)}/payments`, watch.secret), {
      payment: { provider: "sandbox", token: chosenToken($("pay-again-form"), "pay-again-scenario") },
    });
    $("pay-again-form").hidden = true;
    renderCheckout(watch, view);
  } catch (err) {
    $("pay-again").disabled = false;
    $("checkout-message").textContent = `The new payment was refused: ${err.message}`;
  }
}

// ---- Past orders: the customer's, listed with one of their client secrets.

let ordersWatchUntil = 0;
let ordersTimer;

/** Keeps the list fresh for a while (a delivery timer, a refund), as long as an order may still change. */
function watchOrders() {
  ordersWatchUntil = Date.now() + ORDERS_WATCH_MS;
  if (!ordersTimer) ordersTimer = setTimeout(ordersTick, ORDERS_POLL_MS);
}

async function ordersTick() {
  ordersTimer = undefined;
  const orders = await refreshOrders();
  const changing = (orders ?? []).some((order) => !FINAL_ORDER.has(order.status));
  if (changing && Date.now() < ordersWatchUntil) ordersTimer = setTimeout(ordersTick, ORDERS_POLL_MS);
}

async function refreshOrders() {
  const customerId = $("customer-id").value.trim() || state.customerId;
  const secrets = customerId ? secretsOf(customerId) : [];
  if (!secrets.length) {
    $("orders").hidden = true;
    $("orders-message").textContent = customerId ? `No orders from this browser for ${customerId} yet.` : "";
    return [];
  }
  for (const secret of secrets) {
    try {
      const list = await api("GET", withSecret(`/customers/${encodeURIComponent(customerId)}/orders?limit=20`, secret));
      renderOrders(customerId, list.data);
      $("orders-message").textContent = `${list.data.length} order(s)${list.has_more ? ", the 20 newest shown" : ""}.`;
      return list.data;
    } catch (err) {
      if (err.status !== 404) {
        $("orders-message").textContent = `Could not list the orders: ${err.message}`;
        return undefined;
      }
      // Not (or no longer) one of this customer's checkouts: try the next secret.
    }
  }
  $("orders-message").textContent = "The orders of this browser's checkouts are not found (a new database?).";
  return [];
}

function renderOrders(customerId, orders) {
  $("orders").hidden = orders.length === 0;
  $("orders-body").replaceChildren(...orders.map((order) => orderRow(customerId, order)));
  const current = watching && orders.find((order) => order.id === watching.orderId);
  if (current) $("order-status").textContent = current.status;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function orderRow(customerId, order) {
  const tr = document.createElement("tr");
  tr.id = `order-${order.id}`;
  const items = order.items.map((item) => `${item.quantity} × ${item.name}`).join(", ");
  const refund = order.cancellation
    ? order.cancellation.refundId
      ? `Refunded in full (${order.cancellation.refundId})`
      : "Cancelled before payment: nothing charged"
    : "";
  tr.append(
    cell(order.id, "order-id"),
    cell(new Date(order.createdAt).toLocaleString()),
    cell(items),
    cell(formatMoney(order.totalAmount, order.currency), "order-total"),
    cell(order.status, "order-status"),
    cell(refund, "order-refund"),
  );
  const actions = document.createElement("td");
  const secret = secretOf(customerId, order.checkoutId);
  if (secret && CANCELLABLE_ORDER.has(order.status)) {
    const button = Object.assign(document.createElement("button"), { type: "button", id: `cancel-${order.id}` });
    button.textContent = "Cancel";
    button.setAttribute("aria-label", `Cancel order ${order.id}`);
    button.addEventListener("click", () => cancelOrder(order, secret, button));
    actions.append(button);
  }
  tr.append(actions);
  return tr;
}

async function cancelOrder(order, secret, button) {
  button.disabled = true;
  $("orders-message").textContent = `Cancelling order ${order.id}…`;
  try {
    const answer = await api("POST", withSecret(`/orders/${encodeURIComponent(order.id)}/cancel`, secret), {
      reason: "Cancelled by the customer in the store",
    });
    const refundId = answer.cancellation?.refundId;
    await refreshOrders();
    $("orders-message").textContent =
      answer.status !== "CANCELLED"
        ? `Order ${order.id}: the cancel is under way.`
        : refundId
          ? `Order ${order.id} cancelled: refund ${refundId} gives the payment back in full.`
          : `Order ${order.id} cancelled: nothing was charged.`;
  } catch (err) {
    button.disabled = false;
    $("orders-message").textContent = `Order ${order.id} was not cancelled: ${err.message}`;
  }
  watchOrders();
}

// ---- Start: the key from the server (npm start's development key), then what this browser remembers.

async function start() {
  renderCatalog();
  renderScenarios($("scenarios"), "scenario", "scenario");
  renderScenarios($("pay-again-scenarios"), "pay-again-scenario", "pay-again-scenario");
  // A decline's retry is most often another card that works: offer that first.
  $("pay-again-scenario-approve").checked = true;
  $("email").value = state.email;
  $("customer-id").value = state.customerId;
  $("checkout-form").addEventListener("submit", pay);
  $("pay-again-form").addEventListener("submit", payAgain);
  $("refresh-orders").addEventListener("click", () => refreshOrders());
  $("customer-id").addEventListener("change", () => refreshOrders());
  try {
    const res = await fetch("/store/config.json");
    if (!res.ok) throw new Error(`the API answered ${res.status}`);
    publishableKey = (await res.json()).publishableKey;
  } catch (err) {
    $("setup-error").hidden = false;
    $("setup-error").textContent = `This store is not set up (${err.message}): it runs under npm start.`;
    $("pay").disabled = true;
    return;
  }
  document.body.dataset.ready = "true";
  await refreshOrders();
  const last = state.lastCheckout;
  if (last && last.customerId === state.customerId) watchCheckout(last.customerId, last.id);
}

start();
