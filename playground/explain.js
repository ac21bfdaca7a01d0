// Plain-language sentences for what happened: one for a surefetch error (from its fields only:
// kind, phase, code, reason, status, timeout), and one for what raw fetch did.

const ms = (value) => (value === undefined ? "the runtime's own timer" : `${value} ms`);

const timeoutWhy = {
  headers: (e) => `No response headers arrived within the headers deadline (${ms(e.timeout)}).`,
  idle: (e) => `The body stopped flowing: no bytes for ${ms(e.timeout)}, the idle deadline.`,
  attempt: (e) => `One attempt (headers and body) took longer than the attempt deadline (${ms(e.timeout)}).`,
  total: (e) => `The whole call ran out of time: the total deadline (${ms(e.timeout)}) covers every attempt, backoff and the body.`,
  queue: (e) => `The request waited too long for a free slot (queue deadline ${ms(e.timeout)}).`,
  connect: (e) => `The connection was not up within ${ms(e.timeout)}.`,
};

const networkWhy = {
  refused: 'Nothing accepted the connection.',
  reset: 'The server reset the connection.',
  tls: 'The TLS handshake failed.',
  dns: 'The host name does not resolve.',
  unreachable: 'The network cannot reach the host.',
  protocol: 'The server broke the HTTP protocol (framing, encoding, a redirect loop).',
  offline: 'The browser is offline.',
  unknown: 'The connection failed. Browsers do not tell a page why (refused, reset, TLS, CORS and protocol errors all look alike), so the code is "unknown".',
};

const decodeWhy = {
  json: 'The body is not valid JSON.',
  charset: (e) => (e.charset ? `The bytes cannot be decoded as "${e.charset}".` : 'The bytes cannot be decoded in the declared charset.'),
  'too-large': 'The body is larger than maxBodyBytes, so it was not buffered.',
  'content-type': 'decode.json is strict and the media type is not JSON.',
  schema: 'The JSON does not match the schema.',
};

/** One or two sentences on a surefetch failure. */
export function explainFailure(e) {
  switch (e.kind) {
    case 'timeout':
      return timeoutWhy[e.phase]?.(e) ?? `The ${e.phase} deadline fired.`;
    case 'network': {
      const when = e.phase === 'body' ? 'It happened while the body was being read, after the headers.' : 'It happened before any response header arrived.';
      return `${networkWhy[e.code] ?? 'The connection failed.'} ${when}`;
    }
    case 'http':
      return `The server answered ${e.status}${e.statusText ? ` ${e.statusText}` : ''}. The error body was read and decoded for you (error.body).`;
    case 'decode': {
      const why = decodeWhy[e.reason];
      return typeof why === 'function' ? why(e) : (why ?? `The body could not be decoded (${e.reason}).`);
    }
    case 'aborted':
      return e.source === 'client' ? 'The client was closed.' : 'You stopped the request: your AbortSignal fired.';
    case 'circuit-open':
      return `The circuit breaker for ${e.origin} is open: no request was sent.`;
    case 'invalid':
      return `The request could not be made (${e.reason}).`;
    default:
      return '';
  }
}

/** Why there was (or was not) another attempt. `retries`: retries made; `limit`: retry.limit. */
export function explainRetries(e, { retries, limit }) {
  const made = retries === 0 ? '' : `Retried ${retries} time${retries === 1 ? '' : 's'}. `;
  if (e.kind === 'aborted') return made;
  if (!e.retryable) return `${made}Not retried${retries ? ' again' : ''}: the same request would fail the same way (retryable: false).`;
  if (retries >= limit) return `${made}Retryable, but the retry limit (${limit}) is used up.`;
  if (e.kind === 'timeout' && (e.phase === 'total' || e.phase === 'queue')) return `${made}A ${e.phase} deadline is never retried.`;
  return `${made}Retryable, but not retried: the next backoff would have ended after the total deadline.`;
}

/** The outcome of raw fetch, as { tone, title, detail }. */
export function explainRaw(raw, rawTimeout) {
  if (raw.stopped) return { tone: 'muted', title: 'Stopped by you', detail: 'The Stop button aborted it.' };
  if (raw.timedOut) {
    return {
      tone: 'hung',
      title: `Still waiting… aborted after ${raw.ms} ms`,
      detail: `fetch has no deadline of its own. Only the playground's safety AbortSignal.timeout(${rawTimeout}) ended this wait; in an app it would hang ${raw.phase === 'body' ? 'in response.json() / .text()' : 'in await fetch()'} for as long as the server wants.`,
    };
  }
  if (raw.error) {
    const { name } = raw.error;
    if (name === 'SyntaxError') return { tone: 'bad', title: 'Threw a raw SyntaxError', detail: 'response.json() failed to parse. No status, no content type, no snippet of what came.' };
    if (raw.phase === 'body') return { tone: 'bad', title: 'Threw while reading the body', detail: 'The headers had arrived (status 200), then the body read threw. Nothing tells you it was a network failure.' };
    return { tone: 'bad', title: 'Threw a raw error', detail: raw.error.causes.length ? 'The reason is buried in the cause chain.' : 'No cause: the browser does not say why (refused? reset? TLS? CORS?).' };
  }
  if (raw.status !== undefined && !raw.ok) return { tone: 'warn', title: `Returned HTTP ${raw.status} as if it were data`, detail: 'fetch resolves for any status: no error was thrown, the error page came back as the value.' };
  if (raw.replacement) return { tone: 'warn', title: 'Returned wrong text, no error', detail: `Every "\uFFFD" is a byte fetch could not decode: .json() and .text() always decode UTF-8, whatever the Content-Type says${raw.charset ? ` (here: charset=${raw.charset})` : ''}.` };
  return { tone: 'good', title: 'Returned a value', detail: raw.status === 200 ? 'Nothing wrong visible from here.' : `HTTP ${raw.status}.` };
}
