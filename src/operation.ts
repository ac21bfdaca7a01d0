// One operation per call. It owns the total deadline, the link to the caller's signal, the bridge
// to ky (its `fetch`, its retry decision, its hooks) and the result. Every outcome leaves through
// `toFailure`, the one place where whatever ky or a hook threw becomes a member of the union.

import type {KyInstance} from 'ky';
import {delay} from 'abort-controller-x';
import {classify, fromAbortReason} from './classify.js';
import {after, CallerAbort, cancel, linkSignal, now, unlinkSignal, type Due, type LinkTarget, type SignalNode} from './deadlines.js';
import {
	HttpError, InvalidRequestError, isFetchError, TimeoutError,
	type FailureContext, type FetchFailure, type InvalidReason, type RequestInfo,
} from './errors.js';
import {channels, emit, type Listeners, type Timings} from './events.js';
import type {Lifecycle} from './lifecycle.js';
import {ourTransport, resolveRetry, type Config} from './options.js';
import type {CallContext, Policies, PolicyEvent} from './policy.js';
import {redactUrl, secretsOf as urlSecrets} from './redact.js';
import {decideRetry} from './retry.js';
import {runTry, type Attempt} from './attempt.js';
import {SurefetchResponse} from './response.js';

export type ReaderKind = 'json' | 'text' | 'bytes' | 'arrayBuffer' | 'blob';

export type ParseJson = (text: string, context: {request: Request; response: Response}) => unknown;

/** Per-client settings an operation reads besides Config. */
export interface ClientView {
	lifecycle: Lifecycle;
	config: Config;
	ky: KyInstance;
	listeners: Listeners | undefined;
	policies: Policies | undefined;
	/** ky options the operation looks at (merged for the client; a request may override them). */
	prefix: unknown;
	baseUrl: unknown;
	throwHttpErrors: boolean | ((status: number) => boolean);
	parseJson: ParseJson | undefined;
	/** ky hands afterResponse hooks a clone: a body a reader consumed must be kept readable for them. */
	afterResponseHooks: boolean;
	/** A beforeRequest hook may change the method after surefetch looked at it. */
	beforeRequestHooks: boolean;
	initHooks: boolean;
	/** beforeError or beforeRetry hooks: they get the union, so ky's errors must be traceable to their operation. */
	errorHooks: boolean;
	/** ky streams the body to report download progress: a reader cannot buffer it inside the attempt then. */
	streamsResponse: boolean;
	/** The client's header sources (to name a bad one when ky cannot build the Request). */
	headers: unknown[];
}

// ky checks the method against `retry.methods` before it asks `shouldRetry`; surefetch decides the
// method rule itself (an Idempotency-Key makes any method retryable), so ky must let every method
// through. Its default list already holds the common ones: the full list is handed over only when
// needed (ky normalises the retry options twice per call, copying every array each time).
const everyMethod = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace', 'query', 'connect'];
const kyDefaultMethods = ['GET', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'];
// ky sleeps `retry.delay` after `shouldRetry`; surefetch has slept already (see shouldRetry).
const noDelay = () => 0;
/** After an abort, ky's own pipeline gets this long to settle (so `beforeError` hooks still apply) before the operation settles without it. */
const grace = 20;

/** The operation being started: its `init` hook finds it (ky runs init hooks synchronously). */
let starting: Operation | undefined;

export class Operation implements LinkTarget, CallContext {
	readonly node: SignalNode;
	readonly started = now();
	attempts = 0;
	reader: ReaderKind | undefined = undefined;
	method: string;
	/** The URL for messages: described from the input until ky's Request gives the exact one. */
	#url: string | undefined;
	#describe: [unknown, unknown, unknown];
	/** The request of the latest try (the Idempotency-Key rule). */
	lastRequest: Request | undefined = undefined;
	/** The response handed to the caller, once known. */
	response: Response | undefined = undefined;
	/** A body read whole for a reader, with the Response it belongs to. */
	readBytes: {response: Response; bytes: Uint8Array} | undefined = undefined;
	readonly promise: Promise<Response>;
	config: Config;
	queueMs = 0;
	/** Physical attempts not finished yet (only when policies send them). */
	live: Set<Attempt> | undefined = undefined;
	/** The latest attempt, for the timings of the final event. */
	lastAttempt: Attempt | undefined = undefined;
	parseJson: ParseJson | undefined;
	throwHttpErrors: boolean | ((status: number) => boolean);
	afterResponseHooks: boolean;
	streamsResponse: boolean;
	/** ky may show a hook this operation's Request (ky's TimeoutError): it is registered in `owners`. */
	mapsErrors: boolean;
	private observers: Array<(event: PolicyEvent) => void> | undefined = undefined;
	private lastFailure: FetchFailure | undefined = undefined;
	private info: RequestInfo | undefined = undefined;
	private settled = false;
	private ended = false;
	private errorReported = false;
	/** The HttpError made for a response (ky asks for it twice: shouldRetry, then the final boundary). */
	private httpError: HttpError | undefined = undefined;

	constructor(
		readonly client: ClientView,
		config: Config,
		input: unknown,
		kyOptions: Record<string, unknown>,
		private readonly callerSignal: AbortSignal | undefined,
		failWith?: (op: Operation) => FetchFailure,
	) {
		this.config = config;
		const k = kyOptions as {method?: unknown; prefix?: unknown; baseUrl?: unknown; parseJson?: ParseJson; throwHttpErrors?: Operation['throwHttpErrors']; onDownloadProgress?: unknown};
		this.method = typeof k.method === 'string' ? k.method.toUpperCase() : input instanceof Request ? input.method : 'GET';
		this.#describe = [input, k.prefix ?? client.prefix, k.baseUrl ?? client.baseUrl];
		this.parseJson = k.parseJson ?? client.parseJson;
		this.throwHttpErrors = k.throwHttpErrors ?? client.throwHttpErrors;
		this.streamsResponse = client.streamsResponse || typeof k.onDownloadProgress === 'function';
		this.afterResponseHooks = client.afterResponseHooks || hasHook(kyOptions, 'afterResponse');
		this.mapsErrors = client.errorHooks || hasHook(kyOptions, 'beforeError') || hasHook(kyOptions, 'beforeRetry');
		this.node = client.lifecycle.enter();
		let failure = failWith?.(this);
		if (!failure && callerSignal?.aborted) this.node.abort(new CallerAbort('signal', callerSignal.reason));
		if (!failure && this.node.aborted) failure = this.abortFailure();
		if (failure) {
			this.promise = Promise.reject(failure);
			this.settle(failure);
			return;
		}
		if (callerSignal) linkSignal(callerSignal, this);
		this.node.arm('total', config.deadlines.total);
		const calls = client.policies?.call;
		const run = () => this.run(input, kyOptions);
		const start = (): Promise<Response> => {
			let pipeline: Promise<Response>;
			try {
				pipeline = calls?.length ? callChain(this, calls, 0, run) : run();
			} catch (error) {
				pipeline = Promise.reject(error); // a call policy threw synchronously: its own error
			}
			return this.guard(pipeline);
		};
		// In Node, a subscriber to `surefetch:request` sees the call start and end (nothing is built otherwise).
		this.promise = channels?.request.hasSubscribers ? channels.request.tracePromise(start, traceContext(this)) : start();
	}

	/** An operation that fails before it starts (bad per-request options): a rejected promise, never a throw. */
	static failed(client: ClientView, config: Config, input: unknown, kyOptions: Record<string, unknown>, failWith: (op: Operation) => FetchFailure): Operation {
		return new Operation(client, config, input, kyOptions, undefined, failWith);
	}

	/** ky, started. Its `fetch` is this operation's (one call per try); its retry decision is ours. */
	private run(input: unknown, kyOptions: Record<string, unknown>): Promise<Response> {
		const {client} = this;
		const options: Record<string, unknown> = {...kyOptions, fetch: this.fetch};
		const retry = {limit: this.config.retry.limit, shouldRetry: this.shouldRetry, delay: noDelay} as Record<string, unknown>;
		if (!kyDefaultMethods.includes(this.method) || client.beforeRequestHooks || hasHook(kyOptions, 'beforeRequest')) retry.methods = everyMethod;
		const inits = client.initHooks || hasHook(kyOptions, 'init');
		if (inits) {
			// Init hooks see the caller's retry options, as in ky; `captureInit` puts ours back after them.
			options.retry = cloneRetry(this.config.given.retry);
			const hooks = (kyOptions.hooks ?? {}) as Record<string, unknown[] | undefined>;
			options.hooks = {...hooks, init: [...(hooks.init ?? []), captureInit]};
			(this as {kyRetry?: object}).kyRetry = retry;
		} else {
			options.retry = retry;
		}
		starting = this;
		try {
			return client.ky(input as string, options) as unknown as Promise<Response>;
		} catch (error) {
			// An init hook's own error propagates unchanged; ky builds the Request synchronously: a bad URL, header, method or body throws here.
			if (initErrors.has(error as object)) return Promise.reject(error);
			const [reason, detail] = diagnose(error, kyOptions, client.headers);
			return Promise.reject(this.invalid(reason, error, detail, headerSecrets(...client.headers, kyOptions.headers)));
		} finally {
			starting = undefined;
		}
	}

	/**
	 * The caller's promise: ky's result through onResponse/onFailure, or, once the operation is
	 * aborted, its failure after a short grace without ky (a hook that never returns cannot hang it).
	 */
	private guard(pipeline: Promise<Response>): Promise<Response> {
		return new Promise<Response>((resolve, reject) => {
			let due: Due | undefined;
			const fail = (error: unknown) => {
				try {
					this.onFailure(error);
				} catch (failure) {
					reject(failure);
				}
			};
			const giveUp = () => {
				due = after(grace, () => fail(this.node.reason));
			};
			const off = this.node.watch(giveUp);
			// Aborted already (a call policy or an init hook took long enough): the grace starts now.
			if (this.node.aborted) giveUp();
			pipeline.then((response) => {
				cancel(due);
				// A response that comes after the operation gave up is nobody's: its body is cancelled.
				if (off() || !this.settled) resolve(this.onResponse(response));
				else void response?.body?.cancel().catch(() => {});
			}, (error: unknown) => {
				cancel(due);
				if (off() || !this.settled) fail(error);
			});
		});
	}

	onExternalAbort(reason: unknown): void {
		this.node.abort(new CallerAbort('signal', reason));
	}

	/** ky's `fetch`: one call per try. */
	private readonly fetch = (request: Request, init?: RequestInit): Promise<Response> => runTry(this, request, init);

	private readonly shouldRetry = async ({error, retryCount}: {error: unknown; retryCount: number}): Promise<boolean> => {
		const failure = this.toFailure(error);
		if (!isFetchError(failure) || this.node.aborted) return false;
		this.lastFailure = failure;
		const verdict = await decideRetry(this.config.retry, {
			error: failure,
			attempt: retryCount,
			method: this.method,
			idempotencyKey: this.lastRequest?.headers.has('idempotency-key') ?? false,
			remaining: this.remaining,
		});
		if (!verdict.retry) return false;
		const event = {request: this.request, attempt: this.attempts, error: failure, delay: verdict.delay};
		emit(this.client.listeners?.retry, event);
		if (channels?.retry.hasSubscribers) channels.retry.publish(event);
		this.notify({type: 'retry', attempt: this.attempts, error: failure, delay: verdict.delay});
		// The backoff, on the operation's node: the total deadline, the caller's signal and close() all
		// cut it short (the rejection leaves through ky and becomes the union at toFailure).
		if (verdict.delay > 0) await delay(this.node.signal, verdict.delay);
		return true;
	};

	get url(): string {
		return (this.#url ??= describeInput(...this.#describe));
	}

	set url(url: string) {
		this.#url = url;
	}

	// --- CallContext (what policies see of the call) ---

	get request(): RequestInfo {
		const info = this.info;
		if (info && info.method === this.method && (info as {raw?: string}).raw === this.url) return info;
		const next = {method: this.method, url: redactUrl(this.url, this.config.redact)};
		Object.defineProperty(next, 'raw', {value: this.url});
		return (this.info = next);
	}

	get signal(): AbortSignal {
		return this.node.signal;
	}

	/** ms left before the total deadline. */
	get remaining(): number {
		const {total} = this.config.deadlines;
		return total === false ? Number.POSITIVE_INFINITY : total - this.elapsed;
	}

	get elapsed(): number {
		return now() - this.started;
	}

	listen(listener: (event: PolicyEvent) => void): void {
		(this.observers ??= []).push(listener);
	}

	notify(event: PolicyEvent): void {
		if (this.observers) for (const observer of this.observers) emit(observer, event);
	}

	// --- failures ---

	context(cause?: unknown, secrets?: readonly string[]): FailureContext {
		const {url} = this;
		const fromUrl = url.includes('@') || url.includes('?') ? urlSecrets(url, this.config.redact) : [];
		return {request: this.request, attempts: this.attempts, elapsed: this.elapsed, cause, secrets: secrets ? [...fromUrl, ...secrets] : fromUrl};
	}

	invalid(reason: InvalidReason, cause: unknown, detail: string, secrets?: readonly string[]): InvalidRequestError {
		return new InvalidRequestError({...this.context(cause, secrets), reason, detail});
	}

	/** The failure for an aborted node (a deadline, the caller, close). */
	abortFailure(cause?: unknown): FetchFailure {
		return fromAbortReason(this.node.reason, this.context(cause ?? this.lastFailure))
			?? new InvalidRequestError({...this.context(cause), reason: 'option', detail: 'aborted for an unknown reason'});
	}

	/** A raw error of an attempt -> the union (the attempt knows its phase and its own abort reason). */
	classify(error: unknown, phase: 'headers' | 'body', node?: SignalNode): unknown {
		// An attempt's own node decides (a shared attempt outlives the operation that sent it).
		const from = node ?? this.node;
		const abortReason = from.aborted ? from.reason : undefined;
		const fetch = this.config.fetch as Record<symbol, unknown> | undefined;
		return classify(error, {...this.context(error), phase, abortReason, customFetch: fetch !== undefined && !fetch[ourTransport]});
	}

	/** The one boundary: whatever ky, a hook or the runtime threw -> the union (or the caller's own error, unchanged). */
	toFailure(error: unknown): unknown {
		if (isFetchError(error)) return error;
		const e = error as {name?: unknown; response?: unknown; request?: unknown} | undefined;
		if (e?.name === 'HTTPError' && e.response instanceof Response) return this.httpFailure(e.response);
		if (this.node.aborted) return this.abortFailure(error === this.node.reason ? undefined : error);
		// ky's own timer: an init hook set ky's `timeout`.
		if (e?.name === 'TimeoutError' && e.request instanceof Request) return new TimeoutError({...this.context(error), phase: 'attempt', timeout: undefined});
		// ky wraps an error it takes for the network's (a custom fetch's bare TypeError): classify what it wraps.
		if (e?.name === 'NetworkError' && e.request instanceof Request) return this.classify((error as {cause?: unknown}).cause ?? error, 'headers');
		return fromAbortReason(error, this.context(this.lastFailure)) ?? error;
	}

	httpFailure(response: Response): HttpError {
		if (this.httpError?.response !== response) {
			this.httpError = new HttpError({...this.context(), response, body: response instanceof SurefetchResponse ? response.errorBody : undefined});
		}
		return this.httpError;
	}

	private onResponse(response: Response): Response {
		this.response = response;
		// A watched body keeps the operation (and its total deadline) alive until it ends.
		if (!(response instanceof SurefetchResponse && response.open)) this.settle();
		return response;
	}

	private onFailure(error: unknown): never {
		const failure = this.toFailure(error);
		if (isFetchError(failure)) this.reportFailure(failure);
		this.settle(failure);
		throw failure;
	}

	/** `on.error`, once per call, wherever the final failure surfaced (ky, a reader, the caller's own read). */
	reportFailure(failure: FetchFailure): void {
		if (this.errorReported) return;
		this.errorReported = true;
		emit(this.client.listeners?.error, {request: failure.request, attempt: this.attempts, error: failure, timings: this.timings(this.lastAttempt)});
		this.end(failure);
	}

	/** The call is over for the policies: its body read (or not wanted), or its final failure. Once. */
	end(error?: unknown): void {
		if (this.ended || !this.observers) return;
		this.ended = true;
		const failure = isFetchError(error) ? error : undefined;
		this.notify({type: 'end', attempts: this.attempts, status: failure?.kind === 'http' ? failure.status : this.response?.status, error: failure});
	}

	/** A watched body ended; if it is the one the caller holds, the operation is over. */
	bodySettled(response: SurefetchResponse): void {
		response.open = false;
		if (this.response === response) this.settle();
	}

	timings(attempt?: Attempt): Timings {
		const total = this.elapsed;
		return attempt ? attempt.timings(total) : {queue: this.queueMs, headers: 0, body: 0, total};
	}

	/** Releases everything the operation holds. Idempotent. */
	settle(error?: unknown): void {
		if (this.settled) return;
		this.settled = true;
		// Attempts a policy sent and left unfinished are given up (their bodies cancelled, their slots freed).
		if (this.live) for (const attempt of [...this.live]) attempt.abandon();
		this.node.release();
		if (this.callerSignal) unlinkSignal(this.callerSignal, this);
		this.client.lifecycle.leave();
		// With a reader, the call ends when the reader has its result (readers.ts).
		if (error || !this.reader) this.end(error);
	}

	get isSettled(): boolean {
		return this.settled;
	}
}

/** What `surefetch:request` subscribers see: the request (redacted), and as the call goes its attempts, timings and status. */
function traceContext(op: Operation): object {
	return {
		get request() {
			return op.request;
		},
		get attempts() {
			return op.attempts;
		},
		get timings() {
			return op.timings(op.lastAttempt);
		},
		get status() {
			return (this as {result?: Response}).result?.status;
		},
	};
}

function callChain(op: Operation, calls: Policies['call'], i: number, run: () => Promise<Response>): Promise<Response> {
	if (i === calls.length) return run();
	return calls[i]!.call!(op, () => callChain(op, calls, i + 1, run));
}

function hasHook(options: Record<string, unknown>, kind: string): boolean {
	const list = (options.hooks as Record<string, unknown> | undefined)?.[kind];
	return Array.isArray(list) && list.length > 0;
}

/** Errors thrown by a caller's init hook (they propagate unchanged). */
export const initErrors = new WeakSet<object>();

/** Runs after the caller's init hooks: reads the retry options they left and puts surefetch's in for ky. */
function captureInit(options: Record<string, unknown>): void {
	const op = starting;
	if (!op) return;
	op.config = {...op.config, retry: resolveRetry(options.retry as never)};
	options.retry = {...(op as {kyRetry?: object}).kyRetry, limit: op.config.retry.limit};
}

/** The caller's retry options as ky would hand them to an init hook (arrays copied, as ky copies them). */
function cloneRetry(retry: unknown): unknown {
	if (typeof retry !== 'object' || retry === null) return retry;
	const out: Record<string, unknown> = {...retry};
	for (const key of ['methods', 'statusCodes', 'afterStatusCodes']) if (Array.isArray(out[key])) out[key] = [...(out[key] as unknown[])];
	return out;
}

/** The URL for messages before ky has built the Request (which then gives the exact one). */
function describeInput(input: unknown, prefix: unknown, baseUrl: unknown): string {
	if (input instanceof URL) return input.href;
	if (input instanceof Request) return input.url;
	let url = String(input);
	if (typeof prefix === 'string' && prefix) url = `${prefix.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
	if (typeof baseUrl === 'string' || baseUrl instanceof URL) {
		try {
			return new URL(url, baseUrl).href;
		} catch {}
	}
	return url;
}

// After ky failed to build the Request: name the part that was wrong, never quote a header value.
const token = /^[!#$%&'*+\-.^_`|~\dA-Za-z]+$/;

function headerEntries(headers: unknown): Array<[unknown, unknown]> {
	try {
		return headers instanceof Headers ? [...headers] : Array.isArray(headers) ? headers as Array<[unknown, unknown]> : Object.entries(headers ?? {});
	} catch {
		return [];
	}
}

/** What is wrong with the first header fetch would refuse (its name, never its value). */
function badHeader(...lists: unknown[]): string | undefined {
	for (const [name, value] of lists.flatMap(headerEntries)) {
		const shown = String(name).replace(/[^\x21-\x7e]/g, '?');
		if (typeof name !== 'string' || !token.test(name)) return `the header name "${shown}" is not a valid token`;
		// CR, LF and NUL, or a character above U+00FF, are refused in a value.
		if (value !== undefined && /[\r\n\0]|[^\x00-\xff]/.test(String(value))) return `the value of header "${shown}" is not a valid header value (CR, LF, NUL or a character above U+00FF)`;
	}
	return undefined;
}

/** Every header value given: texts that must never appear in a cause's message. */
function headerSecrets(...lists: unknown[]): string[] {
	return lists.flatMap(headerEntries).map(([, value]) => String(value)).filter((value) => value.length > 2);
}

/** After ky failed to build the Request: [reason, a message that names the part, never a header value]. */
function diagnose(error: unknown, options: Record<string, unknown>, clientHeaders: unknown[]): [InvalidReason, string] {
	const message = error instanceof Error ? error.message : String(error);
	const method = options.method;
	if (method !== undefined && (typeof method !== 'string' || !token.test(method) || /^(?:connect|trace|track)$/i.test(method))) return ['method', message];
	const header = badHeader(...clientHeaders, options.headers);
	if (header) return ['header', header];
	const m = typeof method === 'string' ? method.toUpperCase() : 'GET';
	if ((m === 'GET' || m === 'HEAD') && (options.body != null || options.json !== undefined)) return ['body', message];
	if (/url|scheme|protocol|input/i.test(message)) return ['url', message];
	if (/header|ByteString/i.test(message)) return ['header', 'a header name or value is not valid'];
	if (/body|json|stringify/i.test(message)) return ['body', message];
	return [/method/i.test(message) ? 'method' : 'option', message];
}
