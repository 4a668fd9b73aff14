// The dashboard's one way to the API. The access token lives only in this module's memory; the
// refresh token is an httpOnly cookie the browser sends to /v1/auth alone, so no script (ours or an
// injected one) can read either from storage. Every request carries X-Requested-With, which the
// server requires before it reads the cookie (a page on another site cannot send it).

/** An answer of the API that is not a success, with the words it gave. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Creator {
  id: string;
  email: string;
  name: string;
}

const COOKIE_MODE = { 'X-Requested-With': 'coachbot-dashboard' };

let accessToken: string | null = null;
let signedOut: () => void = () => undefined;
let refreshing: Promise<Creator | null> | null = null;

/** Called when the session has ended (the refresh cookie is spent or revoked) so the app can show sign-in. */
export function onSignedOut(handler: () => void): void {
  signedOut = handler;
}

/** The error an unsuccessful response carries, in the API's words when it gave some. */
async function errorFrom(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(response.status, body.error.code ?? 'ERROR', body.error.message);
  } catch {
    // Not JSON: a proxy's page, or nothing.
  }
  const words =
    response.status >= 500
      ? 'The server could not do this just now; please try again in a moment.'
      : response.status === 429
        ? 'Too many requests; wait a little and try again.'
        : `The request was refused (HTTP ${response.status}).`;
  return new ApiError(response.status, 'HTTP_' + response.status, words);
}

async function sessionRequest(path: string, body: unknown): Promise<Creator> {
  const response = await fetch(path, {
    method: 'POST',
    headers: { ...COOKIE_MODE, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (!response.ok) throw await errorFrom(response);
  const session = (await response.json()) as { accessToken: string; creator: Creator };
  accessToken = session.accessToken;
  return session.creator;
}

/** Signs in; the server sets the session cookie. */
export function signIn(email: string, password: string): Promise<Creator> {
  return sessionRequest('/v1/auth/login', { email, password });
}

/** Creates an account and signs in. */
export function signUp(name: string, email: string, password: string): Promise<Creator> {
  return sessionRequest('/v1/auth/signup', { name, email, password });
}

/** Asks for a password-reset email (the answer never says whether the address has an account). */
export async function requestPasswordReset(email: string): Promise<void> {
  const response = await fetch('/v1/auth/password-reset', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) });
  if (!response.ok) throw await errorFrom(response);
}

/** A JSON request that needs no session (the emailed links' confirmations); resolves to the parsed body, undefined for 204. */
export async function publicRequest<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw await errorFrom(response);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/**
 * A new access token from the session cookie (at start, and when the token expired); null when
 * there is no session. Concurrent callers share one request: the cookie's token is single-use.
 */
export function refreshSession(): Promise<Creator | null> {
  refreshing ??= (async () => {
    try {
      const response = await fetch('/v1/auth/refresh', { method: 'POST', headers: COOKIE_MODE, credentials: 'same-origin' });
      if (response.status === 401) {
        accessToken = null;
        return null;
      }
      if (!response.ok) throw await errorFrom(response);
      const session = (await response.json()) as { accessToken: string; creator: Creator };
      accessToken = session.accessToken;
      return session.creator;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Ends this browser's session: the server revokes the cookie's token and clears the cookie. */
export async function signOut(): Promise<void> {
  try {
    await call('/v1/auth/logout', { method: 'POST' });
  } finally {
    accessToken = null;
  }
}

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** JSON, or FormData for an upload. */
  body?: unknown;
  signal?: AbortSignal;
}

/** Sends an authenticated request, refreshing the access token once when it has expired. */
async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const send = () => {
    const headers: Record<string, string> = { ...COOKIE_MODE };
    if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
    let body: BodyInit | undefined;
    if (options.body instanceof FormData) body = options.body;
    else if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return fetch(path, { method: options.method ?? 'GET', headers, body: body ?? null, signal: options.signal ?? null, credentials: 'same-origin' });
  };
  let response = await send();
  if (response.status === 401) {
    const creator = await refreshSession();
    if (!creator) {
      signedOut();
      throw new ApiError(401, 'UNAUTHORIZED', 'Your session has ended; please sign in again.');
    }
    response = await send();
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

/** An authenticated JSON request; resolves to the parsed body (undefined for 204). */
export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await call(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** An authenticated request whose answer is a stream of server-sent events, yielded one by one. */
export async function* apiEvents(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<{ event: string; data: unknown }> {
  const response = await call(path, { method: 'POST', body, signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { event, data: JSON.parse(data.join('\n')) as unknown };
    }
  }
}

/** The words to show for any failure. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return 'The server could not be reached; check your connection and try again.';
  return err instanceof Error ? err.message : String(err);
}

/**
 * The address of a bot's live events for an EventSource (which cannot send headers): a short-lived
 * ticket for that bot in the query, never the access token; `lastEventId` resumes after an event.
 */
export async function botEventsUrl(botId: string, lastEventId?: string): Promise<string> {
  const { ticket } = await api<{ ticket: string }>(`/v1/bots/${encodeURIComponent(botId)}/events/ticket`, { method: 'POST' });
  const query = new URLSearchParams({ ticket, ...(lastEventId ? { lastEventId } : {}) });
  return `/v1/bots/${encodeURIComponent(botId)}/events?${query}`;
}
