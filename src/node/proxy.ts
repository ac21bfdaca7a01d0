// Proxies for the Node transport, on npm undici's ProxyAgent (one proxy, forced) and
// EnvHttpProxyAgent (the environment's https_proxy/http_proxy/no_proxy, read by undici's own
// rules: the ones Node's fetch applies with NODE_USE_ENV_PROXY). undici speaks to the proxy; this
// module gives it what the transport promises on top:
// - plain HTTP goes to the proxy in absolute-form (undici 7 would tunnel it), HTTPS through CONNECT;
// - the pool settings hold through the proxy (undici builds the absolute-form pool with none);
// - the connect deadline covers the whole way to a tunnelled origin (TCP to the proxy, its answer to
//   CONNECT, TLS to the origin), not each step apart;
// - what the proxy did wrong is marked as such (a ProxyError, code UND_ERR_PRX_CONN, in the cause
//   chain): the proxy refused, reset, broke the protocol or answered anything but 200 to CONNECT
//   (407 included), or failed an absolute-form request before its response (a 407 there too).
//   undici 7 would retry a CONNECT the proxy cut forever (its UND_ERR_SOCKET is "recoverable"); a
//   ProxyError is not, so the request fails.
// The proxy's credentials (the URL's userinfo) go to undici alone, which sends them as
// Proxy-Authorization: no message, error or field of ours ever holds more than the proxy's origin.

export type ProxyOption = string | URL | false | undefined;

/** Where requests go: straight, through one proxy, or as the environment says. */
export type ProxyRoute =
	| {kind: 'none'}
	| {kind: 'fixed'; uri: string}
	| {kind: 'env'; http: string; https: string};

/** undici's exports this module uses (both majors have them). */
export interface ProxyUndici {
	major: number;
	ProxyAgent?: new (options: Record<string, unknown>) => ProxyDispatcher;
	EnvHttpProxyAgent?: new (options: Record<string, unknown>) => ProxyDispatcher;
	Pool?: new (origin: string, options: Record<string, unknown>) => UndiciPool;
	Client?: new (origin: string, options: Record<string, unknown>) => UndiciPool;
	errors?: {ConnectTimeoutError: new (message?: string) => Error};
}

// The shape of exchange.ts's Dispatcher, written here so this module imports nothing from it.
type ProxyDispatcher = {dispatch(options: Record<string, unknown>, handler: object): boolean; close(): Promise<void>};

interface UndiciPool extends ProxyDispatcher {
	connect(options: Record<string, unknown>, callback?: unknown): Promise<TunnelResult> | void;
}

interface TunnelResult {
	statusCode: number;
	socket: {destroy(): void; on(event: string, listener: () => void): unknown};
}

type Connector = (options: Record<string, unknown>, callback: (error: Error | null, socket?: {destroy(): void}) => void) => unknown;

/** The proxy failed us: anything the proxy did before it handed over a tunnel or a response. */
export class ProxyError extends Error {
	// undici 8's own code for a failed proxy connection; classify.ts reads it as NetworkError `proxy`.
	readonly code = 'UND_ERR_PRX_CONN';
	/** The proxy's answer to CONNECT, when it answered. */
	readonly statusCode: number | undefined;

	constructor(message: string, options: {cause?: unknown; statusCode?: number} = {}) {
		super(message, 'cause' in options ? {cause: options.cause} : undefined);
		this.name = 'ProxyError';
		this.statusCode = options.statusCode;
	}
}

/**
 * A proxy URL from an option or the environment: http: or https:. The error quotes nothing of the
 * value: in a malformed one, credentials may sit anywhere (`user:pass@host:3128` parses with the
 * user name as its scheme).
 */
function proxyUrl(value: string, name: string): string {
	let url: URL | undefined;
	try {
		url = new URL(value);
	} catch {}
	if (url?.protocol !== 'http:' && url?.protocol !== 'https:') throw new TypeError(`${name} must be an http: or https: proxy URL (${url ? 'another scheme, or no scheme' : 'it does not parse'})`);
	return url.href;
}

/**
 * The route for a transport's lifetime. The environment is read once, as EnvHttpProxyAgent reads
 * it when Node's fetch starts with NODE_USE_ENV_PROXY: the lowercase name first, then the
 * uppercase one (a lowercase name set to "" wins: no proxy), and https_proxy falls back to
 * http_proxy. no_proxy is left to undici, which reads it again whenever it changes.
 */
export function proxyRoute(option: ProxyOption, env: NodeJS.ProcessEnv = process.env): ProxyRoute {
	if (option === false || option === '') return {kind: 'none'};
	if (option !== undefined) {
		if (typeof option !== 'string' && !(option instanceof URL)) throw new TypeError('proxy must be a proxy URL (a string), or false for none');
		return {kind: 'fixed', uri: proxyUrl(String(option), 'proxy')};
	}
	const http = env.http_proxy ?? env.HTTP_PROXY;
	const https = env.https_proxy ?? env.HTTPS_PROXY;
	if (!http && !https) return {kind: 'none'};
	return {
		kind: 'env',
		http: http ? proxyUrl(http, env.http_proxy === undefined ? 'HTTP_PROXY' : 'http_proxy') : '',
		https: https ? proxyUrl(https, env.https_proxy === undefined ? 'HTTPS_PROXY' : 'https_proxy') : '',
	};
}

export interface PoolSettings {
	connections: number | null;
	keepAliveTimeout: number | undefined;
	pipelining: number | undefined;
}

/** undici's default when no connect deadline is set: the same bound as a direct connection's. */
const defaultConnectTimeout = 10_000;

/**
 * The dispatcher for one connect deadline (`false`: none of ours, undici's 10 s): a ProxyAgent or an
 * EnvHttpProxyAgent whose pools, tunnels and proxy connections are built here.
 */
export function proxyDispatcher(undici: ProxyUndici, route: Exclude<ProxyRoute, {kind: 'none'}>, pool: PoolSettings, tls: Record<string, unknown> | undefined, connect: number | false): ProxyDispatcher {
	const {ProxyAgent, EnvHttpProxyAgent, Pool, Client, errors} = undici;
	if (!ProxyAgent || !EnvHttpProxyAgent || !Pool || !Client || !errors) throw new TypeError('this undici has no ProxyAgent/EnvHttpProxyAgent: surefetch/node needs undici 7 or 8 for a proxy');
	const {ForwardClient, ProxyPool} = classesFor(Pool, Client);
	const timeout = connect === false ? {} : {timeout: connect};
	const budget = connect === false ? defaultConnectTimeout : connect;

	// Every pool undici asks for: to an origin (straight or through a tunnel), or to the proxy for
	// absolute-form requests. undici gives the last only `{connect}`, and passes it our handler
	// through the pool's internal dispatch: its clients tell the handler it goes through a proxy.
	// (Pool options are ours, not undici's copy: Agent passes its own options through JSON.)
	const factory = (origin: string, options: {connect?: unknown}) => {
		const {connect: connector} = options;
		if (typeof connector !== 'function') return pool.connections === 1 ? new Client(origin, {...pool, connect: connector}) : new Pool(origin, {...pool, connect: connector});
		if (Object.keys(options).length === 1) {
			// Always a Pool: undici reaches a Client's internal dispatch directly, a Pool's goes through its clients'.
			const proxy = new URL(origin).origin;
			return new Pool(proxy, {...pool, connect: connector, factory: (o: string, options: Record<string, unknown>) => new ForwardClient(o, options, proxy)});
		}
		const tunnel = withinBudget(connector as Connector, budget, errors.ConnectTimeoutError);
		return pool.connections === 1 ? new Client(origin, {...pool, connect: tunnel}) : new Pool(origin, {...pool, connect: tunnel});
	};
	// The client that asks the proxy for tunnels (CONNECT): what goes wrong there is the proxy's.
	const clientFactory = (url: URL, options: {connect: unknown}) => new ProxyPool(url.origin, {connect: options.connect});

	const common = {
		...pool,
		// Plain HTTP in absolute-form (undici 8's default; undici 7 tunnels it unless told).
		proxyTunnel: false,
		// TLS to the origin through the tunnel; the connection to the proxy itself keeps Node's defaults.
		requestTls: {...tls, ...timeout},
		proxyTls: {...timeout},
		factory,
		clientFactory,
	};
	if (route.kind === 'fixed') return new ProxyAgent({...common, uri: route.uri});
	// The direct agent (no proxy, or no_proxy) takes `connect`; undici ignores it for the proxied ones.
	return new EnvHttpProxyAgent({...common, connect: {...tls, ...timeout}, httpProxy: route.http, httpsProxy: route.https});
}

/**
 * A tunnel's connector (undici's: CONNECT, then TLS to the origin) held to one deadline from start
 * to end: past it the attempt fails as a connect timeout and the CONNECT is aborted (the signal goes
 * to the proxy client's request); a socket that comes later is closed.
 */
function withinBudget(connector: Connector, budget: number, ConnectTimeoutError: new (message?: string) => Error): Connector {
	return (options, callback) => {
		const abort = new AbortController();
		let done = false;
		const timer = setTimeout(() => {
			done = true;
			abort.abort();
			callback(new ConnectTimeoutError(`Connect Timeout Error (through the proxy, timeout: ${budget}ms)`));
		}, budget);
		// The attempt's socket holds the process while it connects; this timer need not.
		timer.unref();
		return connector({...options, signal: abort.signal}, (error, socket) => {
			if (done) {
				socket?.destroy();
				return;
			}
			done = true;
			clearTimeout(timer);
			callback(error, socket);
		});
	};
}

const timeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The proxy's failure, unless it is already marked or is a timeout (a timeout stays one, of its phase). */
export function proxyFailure(error: unknown, proxy: string, what: string): unknown {
	if (error instanceof ProxyError) return error;
	const {code, message} = (typeof error === 'object' && error !== null ? error : {}) as {code?: unknown; message?: unknown};
	if (typeof code === 'string' && timeoutCodes.has(code)) return error;
	return new ProxyError(`proxy ${proxy}: ${what}${typeof message === 'string' && message ? `: ${message}` : ''}`, {cause: error});
}

type PoolClass = new (origin: string, options: Record<string, unknown>) => UndiciPool;

const classes = new WeakMap<PoolClass, {ForwardClient: new (origin: string, options: Record<string, unknown>, proxy: string) => UndiciPool; ProxyPool: PoolClass}>();

/** The two subclasses, once per undici (a test may load both majors). */
function classesFor(Pool: PoolClass, Client: PoolClass) {
	let made = classes.get(Pool);
	if (made) return made;

	/** A connection to the proxy for absolute-form requests: each request learns it goes through a proxy. */
	class ForwardClient extends Client {
		readonly #proxy: string;

		constructor(origin: string, options: Record<string, unknown>, proxy: string) {
			super(origin, options);
			this.#proxy = proxy;
		}

		override dispatch(options: Record<string, unknown>, handler: object): boolean {
			// Our Exchange has the field; undici's own fetch (delegate.ts) does not, and is left as is.
			const exchange = handler as {proxy?: string | null};
			if (exchange.proxy === null) {
				exchange.proxy = this.#proxy;
				// undici's absolute-form wrapper has put a callback of its own on the handler, only to turn
				// a 407 into an InvalidArgumentError (undici 7's also drops the status text): the Exchange
				// reads a 407 itself, and marks it as the proxy's, with its status. Its methods live on its
				// prototype, so an own property can only be that wrapper's.
				if (Object.hasOwn(exchange, 'onResponseStart')) delete (exchange as {onResponseStart?: unknown}).onResponseStart;
				if (Object.hasOwn(exchange, 'onHeaders')) delete (exchange as {onHeaders?: unknown}).onHeaders;
			}
			return super.dispatch(options, handler);
		}
	}

	/** undici's client to the proxy for CONNECT: its failures and its answers other than 200 become ProxyErrors. */
	class ProxyPool extends Pool {
		override connect(options: Record<string, unknown>, callback?: unknown): Promise<TunnelResult> | void {
			if (callback !== undefined) return super.connect(options, callback);
			const proxy = String(options.origin);
			const target = String(options.path);
			return (super.connect(options) as Promise<TunnelResult>).then((result) => {
				if (result.statusCode === 200) return result;
				result.socket.on('error', noop);
				result.socket.destroy();
				throw new ProxyError(`proxy ${proxy}: CONNECT ${target} answered ${result.statusCode}${result.statusCode === 407 ? ' (Proxy Authentication Required)' : ''}`, {statusCode: result.statusCode});
			}, (error: unknown) => {
				// An abort of ours (the connect deadline passed) is not the proxy's doing: nobody hears of it.
				throw (options.signal as AbortSignal | undefined)?.aborted ? error : proxyFailure(error, proxy, `CONNECT ${target} failed`);
			});
		}
	}

	made = {ForwardClient, ProxyPool};
	classes.set(Pool, made);
	return made;
}

function noop(): void {}
