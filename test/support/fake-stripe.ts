import { text } from 'node:stream/consumers';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received. `form` is the decoded, nested form body. */
export interface StripeRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  form: Record<string, unknown>;
  rawBody: string;
}

export interface FakeStripeOptions {
  /** Only this key is accepted; by default any `sk_test_…` key is. */
  secretKey?: string;
  /** Known price ids; when set, checkout with another price fails like Stripe ("No such price"). */
  prices?: string[];
}

type StripeObject = Record<string, unknown> & { id: string };

/** Stripe's error envelope. */
interface StripeErrorBody {
  error: { type: string; message: string; code?: string; param?: string };
}

/** A local stand-in for api.stripe.com speaking its v1 protocol (form bodies, bearer keys, idempotency). */
export interface FakeStripe {
  /** e.g. http://127.0.0.1:40123, for STRIPE_API_BASE. */
  readonly url: string;
  readonly requests: StripeRequest[];
  readonly checkoutSessions: Map<string, StripeObject>;
  readonly portalSessions: Map<string, StripeObject>;
  readonly customers: Map<string, StripeObject>;
  readonly subscriptions: Map<string, StripeObject>;
  /** Adds a customer the API knows, returning its id. */
  addCustomer(fields?: { email?: string; name?: string }): string;
  /** Puts a subscription (current API shape: period on the items) and returns it. */
  addSubscription(fields: { customer: string; price: string; status?: string; metadata?: Record<string, string>; created?: number }): StripeObject;
  /**
   * Completes a checkout as a paying customer would: creates the customer (and the subscription in
   * subscription mode) and returns the events Stripe would then deliver, in the current API shape.
   */
  completeCheckout(sessionId: string, options?: { email?: string; at?: number }): FakeStripeEvent[];
  /** Cancels a subscription at once (as from the billing portal), returning the `customer.subscription.deleted` event. */
  cancelSubscription(subscriptionId: string, options?: { at?: number }): FakeStripeEvent;
  /** Expires an open checkout as Stripe does after its `expires_at`, returning the `checkout.session.expired` event. */
  expireCheckout(sessionId: string, options?: { at?: number }): FakeStripeEvent;
  /** The next `times` requests fail with this status and Stripe error body. */
  failNext(status: number, options?: { times?: number; type?: string; message?: string }): void;
  close(): Promise<void>;
}

export interface FakeStripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
  data: { object: StripeObject };
}

/** Stripe-like ids: prefix plus random base62. */
function stripeId(prefix: string, length = 24): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `${prefix}${[...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('')}`;
}

function setPath(target: Record<string, unknown>, keys: string[], value: string): void {
  let node: Record<string, unknown> | unknown[] = target;
  keys.forEach((key, i) => {
    const last = i === keys.length - 1;
    const nextIsIndex = !last && /^\d*$/.test(keys[i + 1]!);
    const container = node as Record<string, unknown>;
    // `a[]=x` appends; `a[0][b]=x` indexes.
    const slot = Array.isArray(node) && key === '' ? String(node.length) : key;
    if (last) {
      container[slot] = value;
      return;
    }
    if (container[slot] === undefined) container[slot] = nextIsIndex ? [] : {};
    node = container[slot] as Record<string, unknown> | unknown[];
  });
}

/** Decodes Stripe's form encoding: `a[b][c]=v`, `line_items[0][price]=p`, `expand[]=x`. */
export function parseStripeForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(name);
    if (!match) continue;
    const keys = [match[1]!, ...[...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!)];
    setPath(out, keys, value);
  }
  return out;
}


class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
  ) {
    super(body.error.message);
  }
}

const invalid = (message: string, param?: string, code?: string) =>
  new StripeHttpError(400, { error: { type: 'invalid_request_error', message, ...(param ? { param } : {}), ...(code ? { code } : {}) } });

const API_VERSION = '2026-10-28.endive';
const MONTH = 30 * 86_400;

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const requests: StripeRequest[] = [];
  const checkoutSessions = new Map<string, StripeObject>();
  const portalSessions = new Map<string, StripeObject>();
  const customers = new Map<string, StripeObject>();
  const subscriptions = new Map<string, StripeObject>();
  const idempotent = new Map<string, { fingerprint: string; status: number; body: unknown }>();
  let failures: { status: number; times: number; type: string; message: string } | null = null;
  const now = () => Math.floor(Date.now() / 1000);

  function authenticate(request: IncomingMessage): string {
    const header = request.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!key) {
      throw new StripeHttpError(401, {
        error: {
          type: 'invalid_request_error',
          message: "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        },
      });
    }
    const accepted = options.secretKey ? key === options.secretKey : key.startsWith('sk_test_');
    if (!accepted) {
      throw new StripeHttpError(401, {
        error: { type: 'invalid_request_error', message: `Invalid API Key provided: ${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` },
      });
    }
    return key;
  }

  function addCustomer(fields: { email?: string; name?: string } = {}): string {
    const id = stripeId('cus_', 14);
    customers.set(id, { id, object: 'customer', created: now(), email: fields.email ?? null, name: fields.name ?? null, livemode: false, metadata: {} });
    return id;
  }

  function addSubscription(fields: { customer: string; price: string; status?: string; metadata?: Record<string, string>; created?: number }): StripeObject {
    const created = fields.created ?? now();
    const id = stripeId('sub_');
    const subscription: StripeObject = {
      id,
      object: 'subscription',
      billing_cycle_anchor: created,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: 'charge_automatically',
      created,
      currency: 'usd',
      customer: fields.customer,
      ended_at: null,
      items: {
        object: 'list',
        data: [
          {
            id: stripeId('si_', 14),
            object: 'subscription_item',
            created,
            current_period_start: created,
            current_period_end: created + MONTH,
            metadata: {},
            price: { id: fields.price, object: 'price', active: true, currency: 'usd', recurring: { interval: 'month', interval_count: 1 }, type: 'recurring', unit_amount: 1500 },
            quantity: 1,
            subscription: id,
          },
        ],
        has_more: false,
        total_count: 1,
        url: `/v1/subscription_items?subscription=${id}`,
      },
      latest_invoice: stripeId('in_'),
      livemode: false,
      metadata: fields.metadata ?? {},
      start_date: created,
      status: fields.status ?? 'active',
    };
    subscriptions.set(id, subscription);
    return subscription;
  }

  function createCheckoutSession(form: Record<string, unknown>): StripeObject {
    const mode = form.mode;
    if (mode === undefined) throw invalid('Missing required param: mode.', 'mode', 'parameter_missing');
    if (mode !== 'payment' && mode !== 'subscription' && mode !== 'setup') throw invalid(`Invalid mode: must be one of payment, setup, or subscription`, 'mode');
    if (form.customer && form.customer_email) throw invalid('You may only specify one of these parameters: customer, customer_email.', 'customer');
    if (typeof form.customer === 'string' && !customers.has(form.customer)) throw invalid(`No such customer: '${form.customer}'`, 'customer', 'resource_missing');
    if (!form.success_url && form.ui_mode !== 'embedded') throw invalid('Missing required param: success_url.', 'success_url', 'parameter_missing');
    const lineItems = Array.isArray(form.line_items) ? (form.line_items as Array<Record<string, unknown>>) : [];
    if (mode !== 'setup' && lineItems.length === 0) throw invalid('You must specify either `line_items` or `mode: setup`.', 'line_items', 'parameter_missing');
    lineItems.forEach((item, i) => {
      const price = item.price;
      if (typeof price !== 'string') throw invalid(`Missing required param: line_items[${i}][price].`, `line_items[${i}][price]`, 'parameter_missing');
      if (options.prices && !options.prices.includes(price)) throw invalid(`No such price: '${price}'`, `line_items[${i}][price]`, 'resource_missing');
    });
    const id = stripeId('cs_test_', 58);
    const created = now();
    const session: StripeObject = {
      id,
      object: 'checkout.session',
      amount_subtotal: 1500 * lineItems.length,
      amount_total: 1500 * lineItems.length,
      cancel_url: form.cancel_url ?? null,
      client_reference_id: form.client_reference_id ?? null,
      created,
      currency: 'usd',
      customer: form.customer ?? null,
      customer_creation: mode === 'payment' && !form.customer ? 'if_required' : null,
      customer_details: null,
      customer_email: form.customer_email ?? null,
      expires_at: created + 86_400,
      livemode: false,
      locale: null,
      metadata: form.metadata ?? {},
      mode,
      payment_intent: null,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      status: 'open',
      subscription: null,
      success_url: form.success_url ?? null,
      ui_mode: 'hosted',
      url: `https://checkout.stripe.com/c/pay/${id}`,
      // Kept so completeCheckout can create what Stripe would; not part of Stripe's object.
      _line_items: lineItems,
      _subscription_data: form.subscription_data ?? null,
      _payment_intent_data: form.payment_intent_data ?? null,
    };
    checkoutSessions.set(id, session);
    return session;
  }

  function publicView(object: StripeObject): StripeObject {
    return Object.fromEntries(Object.entries(object).filter(([k]) => !k.startsWith('_'))) as StripeObject;
  }

  function createPortalSession(form: Record<string, unknown>): StripeObject {
    const customer = form.customer;
    if (typeof customer !== 'string') throw invalid('Missing required param: customer.', 'customer', 'parameter_missing');
    if (!customers.has(customer)) throw invalid(`No such customer: '${customer}'`, 'customer', 'resource_missing');
    const id = stripeId('bps_');
    const session: StripeObject = {
      id,
      object: 'billing_portal.session',
      configuration: 'bpc_default',
      created: now(),
      customer,
      flow: null,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: form.return_url ?? null,
      url: `https://billing.stripe.com/p/session/test_${stripeId('', 32)}`,
    };
    portalSessions.set(id, session);
    return session;
  }

  function route(method: string, path: string, form: Record<string, unknown>): { status: number; body: unknown } {
    if (method === 'POST' && path === '/v1/checkout/sessions') return { status: 200, body: publicView(createCheckoutSession(form)) };
    if (method === 'POST' && path === '/v1/billing_portal/sessions') return { status: 200, body: createPortalSession(form) };
    const sub = /^\/v1\/subscriptions\/([^/]+)$/.exec(path);
    if (method === 'GET' && sub) {
      const found = subscriptions.get(decodeURIComponent(sub[1]!));
      if (!found) throw new StripeHttpError(404, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such subscription: '${sub[1]}'` } });
      return { status: 200, body: found };
    }
    const session = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path);
    if (method === 'GET' && session) {
      const found = checkoutSessions.get(decodeURIComponent(session[1]!));
      if (!found) throw new StripeHttpError(404, { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'session', message: `No such checkout.session: '${session[1]}'` } });
      return { status: 200, body: publicView(found) };
    }
    throw new StripeHttpError(404, {
      error: { type: 'invalid_request_error', message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.` },
    });
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const rawBody = await text(request);
    const path = (request.url ?? '/').split('?')[0]!;
    const method = request.method ?? 'GET';
    const query = (request.url ?? '').includes('?') ? (request.url ?? '').slice((request.url ?? '').indexOf('?') + 1) : '';
    const form = parseStripeForm(method === 'GET' ? query : rawBody);
    requests.push({ method, path, headers: request.headers, form, rawBody });
    const requestId = stripeId('req_', 14);
    const send = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, 'stripe-version': API_VERSION, ...extra });
      response.end(JSON.stringify(body));
    };
    try {
      const key = authenticate(request);
      if (failures && failures.times > 0) {
        failures.times--;
        const { status, type, message } = failures;
        if (failures.times === 0) failures = null;
        return send(status, { error: { type, message } }, { 'stripe-should-retry': String(status >= 500) });
      }
      const idempotencyKey = typeof request.headers['idempotency-key'] === 'string' ? request.headers['idempotency-key'] : undefined;
      if (method === 'POST' && idempotencyKey) {
        const slot = `${key}:${idempotencyKey}`;
        const previous = idempotent.get(slot);
        const fingerprint = `${path}?${rawBody}`;
        if (previous) {
          if (previous.fingerprint !== fingerprint) {
            return send(400, {
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
              },
            });
          }
          return send(previous.status, previous.body, { 'idempotency-key': idempotencyKey, 'idempotent-replayed': 'true', 'original-request': requestId });
        }
        const result = route(method, path, form);
        idempotent.set(slot, { fingerprint, ...result });
        return send(result.status, result.body, { 'idempotency-key': idempotencyKey });
      }
      const result = route(method, path, form);
      return send(result.status, result.body);
    } catch (err) {
      if (err instanceof StripeHttpError) return send(err.status, err.body);
      return send(500, { error: { type: 'api_error', message: (err as Error).message } });
    }
  }

  function eventOf(type: string, object: StripeObject, at: number): FakeStripeEvent {
    return {
      id: stripeId('evt_'),
      object: 'event',
      api_version: API_VERSION,
      created: at,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object: structuredClone(object) },
    };
  }

  function openSession(sessionId: string): StripeObject {
    const session = checkoutSessions.get(sessionId);
    if (!session) throw new Error(`fake Stripe has no checkout session ${sessionId}`);
    if (session.status !== 'open') throw new Error(`checkout session ${sessionId} is ${String(session.status)}, not open`);
    return session;
  }

  function completeCheckout(sessionId: string, completion: { email?: string; at?: number } = {}): FakeStripeEvent[] {
    const session = openSession(sessionId);
    const at = completion.at ?? now();
    const email = completion.email ?? (session.customer_email as string | null) ?? 'payer@example.com';
    const customer = (session.customer as string | null) ?? addCustomer({ email });
    const events: FakeStripeEvent[] = [];
    const event = (type: string, object: StripeObject) => eventOf(type, object, at);
    let subscription: StripeObject | null = null;
    if (session.mode === 'subscription') {
      const items = session._line_items as Array<Record<string, unknown>>;
      const metadata = ((session._subscription_data as Record<string, unknown> | null)?.metadata ?? {}) as Record<string, string>;
      subscription = addSubscription({ customer, price: String(items[0]?.price), metadata, created: at });
      events.push(event('customer.subscription.created', subscription));
    }
    Object.assign(session, {
      customer,
      customer_details: { email, name: null, phone: null, tax_exempt: 'none', tax_ids: [] },
      payment_status: 'paid',
      status: 'complete',
      subscription: subscription?.id ?? null,
      payment_intent: session.mode === 'payment' ? stripeId('pi_') : null,
      url: null,
    });
    events.push(event('checkout.session.completed', publicView(session)));
    return events;
  }

  function cancelSubscription(subscriptionId: string, cancellation: { at?: number } = {}): FakeStripeEvent {
    const subscription = subscriptions.get(subscriptionId);
    if (!subscription) throw new Error(`fake Stripe has no subscription ${subscriptionId}`);
    const at = cancellation.at ?? now();
    Object.assign(subscription, { status: 'canceled', canceled_at: at, ended_at: at });
    return eventOf('customer.subscription.deleted', subscription, at);
  }

  function expireCheckout(sessionId: string, expiry: { at?: number } = {}): FakeStripeEvent {
    const session = openSession(sessionId);
    Object.assign(session, { status: 'expired', url: null });
    return eventOf('checkout.session.expired', publicView(session), expiry.at ?? now());
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((err: Error) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { type: 'api_error', message: err.message } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    checkoutSessions,
    portalSessions,
    customers,
    subscriptions,
    addCustomer,
    addSubscription,
    completeCheckout,
    cancelSubscription,
    expireCheckout,
    failNext(status, opts = {}) {
      failures = {
        status,
        times: opts.times ?? 1,
        type: opts.type ?? (status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error'),
        message: opts.message ?? (status >= 500 ? 'An unknown error occurred' : 'Request failed'),
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
