// Razorpay and Stripe as a browser meets them, on loopback: the APIs
// KiteMate calls (a subscription with its hosted page, a Checkout Session),
// the hosted pages a person pays on, and the signed webhooks each provider
// then sends KiteMate, shaped as their documentation and our Rust fakes
// (crates/kitemate/tests/it/support/fake_payments.rs) shape them.
import http from "node:http";
import crypto from "node:crypto";

export const STRIPE_SECRET = "sk_test_browser";
export const STRIPE_WEBHOOK = "whsec_browser";
export const RAZORPAY_KEY = "rzp_test_browser";
export const RAZORPAY_SECRET = "browser-key-secret";
export const RAZORPAY_WEBHOOK = "browser-webhook-secret";
export const PRICE = { monthly: "price_browser_monthly", yearly: "price_browser_yearly" };
export const RZP_PLAN = { monthly: "plan_browser_monthly", yearly: "plan_browser_yearly" };
const AMOUNT = 29_900; // ₹299 in paise, as the fake charges it

type Checkout = { provider: "stripe" | "razorpay"; user: string; plan: string; success?: string; customer: string };

export class FakePayments {
  private server: http.Server;
  private checkouts = new Map<string, Checkout>();
  private n = 0;
  /** Webhooks sent, as KiteMate answered them. */
  readonly delivered: { kind: string; status: number }[] = [];

  constructor(
    readonly port: number,
    private kitemate: string,
  ) {
    this.server = http.createServer((req, res) => this.handle(req, res).catch((e) => this.send(res, 500, { error: String(e) })));
  }

  start(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private send(res: http.ServerResponse, status: number, body: unknown, type = "application/json") {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": type });
    res.end(text);
  }

  private async body(req: http.IncomingMessage): Promise<string> {
    let text = "";
    for await (const chunk of req) text += chunk;
    return text;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${this.port}`);
    const body = await this.body(req);
    const auth = req.headers.authorization ?? "";
    if (req.method === "POST" && url.pathname === "/v1/checkout/sessions") {
      if (auth !== `Bearer ${STRIPE_SECRET}`) return this.send(res, 401, { error: { message: "bad key" } });
      const form = new URLSearchParams(body);
      const id = `cs_browser_${++this.n}`;
      const price = form.get("line_items[0][price]") ?? "";
      this.checkouts.set(id, {
        provider: "stripe",
        user: form.get("client_reference_id") ?? "",
        plan: price,
        success: form.get("success_url")?.replace("{CHECKOUT_SESSION_ID}", id),
        customer: `cus_browser_${this.n}`,
      });
      return this.send(res, 200, { id, object: "checkout.session", url: `http://127.0.0.1:${this.port}/pay/${id}` });
    }
    if (req.method === "POST" && url.pathname === "/v1/subscriptions") {
      const basic = `Basic ${Buffer.from(`${RAZORPAY_KEY}:${RAZORPAY_SECRET}`).toString("base64")}`;
      if (auth !== basic) return this.send(res, 401, { error: { code: "BAD_REQUEST_ERROR", description: "bad key" } });
      const json = JSON.parse(body);
      const id = `sub_Browser${++this.n}`;
      this.checkouts.set(id, { provider: "razorpay", user: json.notes?.user_id ?? "", plan: json.plan_id, customer: `cust_Browser${this.n}` });
      return this.send(res, 200, { id, entity: "subscription", status: "created", plan_id: json.plan_id, notes: json.notes, short_url: `http://127.0.0.1:${this.port}/pay/${id}` });
    }
    const pay = url.pathname.match(/^\/pay\/([\w]+)$/);
    if (pay && this.checkouts.has(pay[1])) {
      const id = pay[1];
      const c = this.checkouts.get(id)!;
      if (req.method === "GET") {
        const who = c.provider === "stripe" ? "Stripe Checkout (test)" : "Razorpay (test)";
        return this.send(
          res,
          200,
          `<!doctype html><html lang="en"><title>${who}</title><main><h1>${who}</h1><p>KiteMate Pro, ₹299.00</p>` +
            `<form method="post"><button type="submit">Pay ₹299.00</button></form></main></html>`,
          "text/html; charset=utf-8",
        );
      }
      await this.paid(id, c);
      // Stripe sends the browser back; Razorpay's hosted page says it is done.
      if (c.success) {
        res.writeHead(303, { location: c.success });
        return res.end();
      }
      return this.send(res, 200, `<!doctype html><html lang="en"><title>Paid</title><h1>Payment successful</h1><a href="${this.kitemate}/app/billing">Back to KiteMate</a></html>`, "text/html; charset=utf-8");
    }
    return this.send(res, 400, { error: { code: "BAD_REQUEST_ERROR", description: `not in the fake: ${req.method} ${url.pathname}` } });
  }

  /** What the provider tells KiteMate once the person has paid. */
  private async paid(id: string, c: Checkout) {
    const now = Math.floor(Date.now() / 1000);
    const end = now + 30 * 86_400;
    if (c.provider === "stripe") {
      const sub = `sub_browser_${this.n}`;
      const subscription = {
        id: sub, object: "subscription", status: "active", customer: c.customer, cancel_at_period_end: false,
        metadata: { user_id: c.user },
        items: { object: "list", data: [{ id: "si_1", object: "subscription_item", price: { id: c.plan, object: "price" }, current_period_start: now, current_period_end: end }] },
      };
      const session = { id, object: "checkout.session", mode: "subscription", payment_status: "paid", status: "complete", subscription: sub, customer: c.customer, client_reference_id: c.user, metadata: { user_id: c.user } };
      const invoice = {
        id: `in_browser_${this.n}`, object: "invoice", customer: c.customer, currency: "inr", amount_paid: AMOUNT, status: "paid",
        billing_reason: "subscription_create", status_transitions: { paid_at: now },
        parent: { type: "subscription_details", subscription_details: { subscription: sub, metadata: { user_id: c.user } } },
        lines: { object: "list", data: [{ id: "il_1", amount: AMOUNT, period: { start: now, end }, pricing: { price_details: { price: c.plan } } }] },
      };
      for (const [kind, object] of [["checkout.session.completed", session], ["customer.subscription.created", subscription], ["invoice.paid", invoice]] as const) {
        const event = JSON.stringify({ id: `evt_${kind}_${this.n}`, object: "event", api_version: "2025-03-31.basil", created: now, type: kind, livemode: false, data: { object } });
        const v1 = crypto.createHmac("sha256", STRIPE_WEBHOOK).update(`${now}.${event}`).digest("hex");
        await this.deliver("/webhooks/stripe", kind, event, { "stripe-signature": `t=${now},v1=${v1}` });
      }
    } else {
      const subscription = { id, entity: "subscription", plan_id: c.plan, customer_id: c.customer, status: "active", current_start: now, current_end: end, charge_at: end, notes: { user_id: c.user } };
      const payment = { id: `pay_Browser${this.n}`, entity: "payment", amount: AMOUNT, currency: "INR", status: "captured", created_at: now };
      for (const kind of ["subscription.activated", "subscription.charged"]) {
        const event = JSON.stringify({ entity: "event", event: kind, contains: ["subscription", "payment"], created_at: now, payload: { subscription: { entity: subscription }, payment: { entity: payment } } });
        const signature = crypto.createHmac("sha256", RAZORPAY_WEBHOOK).update(event).digest("hex");
        await this.deliver("/webhooks/razorpay", kind, event, { "x-razorpay-signature": signature, "x-razorpay-event-id": `evt_${kind}_${this.n}` });
      }
    }
  }

  private async deliver(path: string, kind: string, event: string, headers: Record<string, string>) {
    const response = await fetch(`${this.kitemate}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: event });
    this.delivered.push({ kind, status: response.status });
  }
}
