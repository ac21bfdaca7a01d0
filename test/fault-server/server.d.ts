// Types of server.js (the fault-injection server). See the comments at the top of server.js.

export interface FaultServerOptions {
  /** Interface to listen on. Default '127.0.0.1'. */
  host?: string;
  /** Port of the HTTP listener. Default 0 (any free port). */
  port?: number;
  /** Port of the TLS listener. Default 0 (any free port). */
  tlsPort?: number;
  /**
   * Send CORS headers (reflecting the request's Origin) on every response except /no-cors, and
   * answer OPTIONS preflights with 204. Default true.
   */
  cors?: boolean;
}

export interface FaultServer {
  /** 'http://127.0.0.1:PORT': every route, including the byte-level faults. */
  readonly url: string;
  /**
   * Same as `url`: raw faults are made by hijacking the sockets of the HTTP listener, so there is
   * no separate raw server. Kept so callers can say which kind of route they mean.
   */
  readonly rawUrl: string;
  /** 'https://127.0.0.1:PORT': self-signed TLS; every path answers 200 JSON {"ok":true}. */
  readonly tlsUrl: string;
  /** 'http://127.0.0.1:PORT/': a port that was bound then closed; connecting gives ECONNREFUSED. */
  readonly refusedUrl: string;
  /** The TLS listener's self-signed certificate (PEM), to pass as `ca` to trust it. */
  readonly tlsCert: string;

  // The same counters are served as JSON by GET `${url}/__stats?id=<id>`:
  // { hits, requests, inFlight, maxInFlight, openSockets } (that request is not counted).

  /** Requests seen with `?id=<id>` on any route (OPTIONS preflights are not counted). */
  hits(id: string): number;
  /** Requests seen since start or the last resetStats(), preflights included. */
  readonly requests: number;
  /** Requests whose response has not ended or closed yet (a live gauge, never reset). */
  readonly inFlight: number;
  /** Highest `inFlight` since start or the last resetStats(). */
  readonly maxInFlight: number;
  /** Zeroes `requests` and every `hits`, and sets `maxInFlight` to the current `inFlight`. */
  resetStats(): void;
  /** Client sockets currently open on both listeners. */
  openSockets(): number;
  /**
   * Destroys every socket (stalled ones too), clears every pending timer, closes both
   * listeners; resolves when all of them are closed. Idempotent.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface FaultRoute {
  /** e.g. '/flaky' or '/status/:code' */
  readonly path: string;
  /** One line: what the route does and its query parameters. */
  readonly description: string;
}

/** Starts the HTTP and TLS listeners and reserves the refused port. */
export function startFaultServer(options?: FaultServerOptions): Promise<FaultServer>;

/** Every route of the HTTP listener (but /__stats), in the order `node server.js` lists them. */
export const ROUTES: readonly FaultRoute[];

/** The self-signed certificate of the TLS listener (PEM). */
export const TLS_CERT: string;

/** An HTTP-date in one of its three formats (RFC 9110), always GMT. */
export function httpDate(date: Date, format?: 'imf' | '1' | 'rfc850' | 'asctime'): string;
