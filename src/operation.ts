// One operation per call. It owns the total deadline, the link to the caller's signal, ky's
// retry hooks for this call, and the result. Every outcome leaves through `toFailure`, the one
// boundary where whatever was thrown becomes a member of the union.

import type {KyInstance} from 'ky';
import {classify, fromAbortReason} from './classify.js';
import {CallerAbort, linkSignal, now, SignalNode, unlinkSignal, type LinkTarget} from './deadlines.js';
import {
	HttpError, InvalidRequestError, isFetchError,
	type FailureContext, type FetchFailure, type InvalidReason, type RequestInfo,
} from './errors.js';
import {emit, type Listeners, type Timings} from './events.js';
import {hasHooks, ourTransport, type Config} from './options.js';
import {redactUrl} from './redact.js';
import {delay} from 'abort-controller-x';
import {decideRetry} from './retry.js';
import {runAttempt, type Attempt} from './attempt.js';
import {SurefetchResponse} from './response.js';
import type {Lifecycle} from './lifecycle.js';
import type {Limits} from './limits.js';
import type {Breakers} from './breaker.js';

export type ReaderKind = 'json' | 'text' | 'bytes' | 'arrayBuffer' | 'blob';

/** What every operation of a client family shares: lifecycle, limits, breakers. */
export interface Shared {
	lifecycle: Lifecycle;
	limits: Limits | undefined;
	breakers: Breakers | undefined;
}

/** Per-client settings an operation needs besides Config. */
export interface ClientView {
	shared: Shared;
	config: Config;
	ky: KyInstance;
	listeners: Listeners | undefined;
	/** ky's `throwHttpErrors` as merged for the client (a request may override it). */
	throwHttpErrors: boolean | ((status: number) => boolean);
	prefix: unknown;
	baseUrl: unknown;
	afterResponseHooks: boolean;
	beforeRequestHooks: boolean;
	/** Readers cannot buffer inside the attempt when ky streams the body for these. */
	streamsResponse: boolean;
}

// ky checks the method against `retry.methods` before it asks `shouldRetry`; surefetch decides
// the method rule itself (Idempotency-Key makes any method retryable), so ky must let every method
// through. Its default list already holds the common ones; the full list is only handed over when
// needed, because ky normalizes the retry options twice per call (a copy of every array each time).
const everyMethod = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace', 'query', 'connect'];
const kyRetryMethods = new Set(['GET', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY']);
// ky sleeps `retry.delay` after `shouldRetry`; surefetch has slept already (see shouldRetry).
// A ky.retry() forced from an afterResponse hook sleeps its own `delay` or none.
const noDelay = () => 0;

export class Operation implements LinkTarget {
	readonly node: SignalNode;
	readonly started = now();
	attempts = 0;
	reader: ReaderKind | undefined = undefined;
	method: string;
	url: string;
	/** The request of the latest attempt (for the Idempotency-Key rule). */
	lastRequest: Request | undefined = undefined;
	/** The response handed to the caller, once known. */
	response: Response | undefined = undefined;
	/** A body a late reader read from a Response surefetch did not build (a hook's own). */
	readBytes: {response: Response; bytes: Uint8Array} | undefined = undefined;
	readonly promise: Promise<Response>;
	throwHttpErrors: boolean | ((status: number) => boolean);
	streamsResponse: boolean;
	afterResponseHooks: boolean;
	queueMs = 0;
	/** Attempts not finished yet, kept only when hedging (the hedge aborts the losers). */
	live: Set<Attempt> | undefined = undefined;
	/** The latest attempt, for the timings of the final event. */
	lastAttempt: Attempt | undefined = undefined;
	private lastFailure: FetchFailure | undefined = undefined;
	private info: RequestInfo | undefined = undefined;
	private infoUrl = '';
	private settled = false;
	private errorReported = false;
	/** The HttpError made for a response (ky's shouldRetry and the final boundary ask for it twice). */
	private httpError: HttpError | undefined = undefined;

	constructor(
		readonly client: ClientView,
		readonly config: Config,
		input: unknown,
		kyOptions: Record<string, unknown>,
		private readonly callerSignal: AbortSignal | undefined,
		failWith?: (op: Operation) => FetchFailure,
	) {
		const {lifecycle} = client.shared;
		this.method = typeof kyOptions.method === 'string' ? kyOptions.method.toUpperCase() : (input instanceof Request ? input.method : 'GET');
		this.url = describeInput(input, kyOptions.prefix ?? client.prefix, kyOptions.baseUrl ?? client.baseUrl);
		this.throwHttpErrors = (kyOptions.throwHttpErrors as typeof this.throwHttpErrors | undefined) ?? client.throwHttpErrors;
		this.streamsResponse = client.streamsResponse || typeof kyOptions.onDownloadProgress === 'function';
		this.afterResponseHooks = client.afterResponseHooks || hasHooks(kyOptions, 'afterResponse');
		this.node = lifecycle.enter(this);
		if (failWith) {
			this.promise = Promise.reject(failWith(this));
			this.settle();
			return;
		}
		if (this.node.aborted) {
			this.promise = Promise.reject(this.abortFailure());
			this.settle();
			return;
		}
		if (callerSignal) {
			if (callerSignal.aborted) {
				this.node.abort(new CallerAbort('signal', callerSignal.reason));
				this.promise = Promise.reject(this.abortFailure());
				this.settle();
				return;
			}
			linkSignal(callerSignal, this);
		}
		this.node.arm('total', config.deadlines.total);
		let pending: Promise<unknown>;
		try {
			// No `signal` for ky: each attempt gets its own signal from our tree, and the backoff is
			// slept in `shouldRetry` on the operation's signal. Handing ky a signal would only add an
			// AbortSignal.any per call (measured ~18 µs, a fifth of surefetch's own cost per request).
			pending = client.ky(input as string, {
				...kyOptions,
				fetch: this.fetch as typeof globalThis.fetch,
				retry: kyRetryMethods.has(this.method) && !client.beforeRequestHooks && !hasHooks(kyOptions, 'beforeRequest')
					? {limit: config.retry.limit, shouldRetry: this.shouldRetry, delay: noDelay}
					: {limit: config.retry.limit, methods: everyMethod, shouldRetry: this.shouldRetry, delay: noDelay},
				timeout: false,
			});
		} catch (error) {
			// ky builds the Request synchronously: a bad URL, header, method or body throws here.
			pending = Promise.reject(this.invalid(diagnose(error, kyOptions), error));
		}
		this.promise = pending.then(
			(response) => this.onResponse(response as Response),
			(error: unknown) => this.onFailure(error),
		);
	}

	/** An operation that fails before it starts (bad per-request options): still a promise, never a throw. */
	static failed(client: ClientView, config: Config, input: unknown, kyOptions: Record<string, unknown>, failWith: (op: Operation) => FetchFailure): Operation {
		return new Operation(client, config, input, kyOptions, undefined, failWith);
	}

	onExternalAbort(reason: unknown): void {
		this.node.abort(new CallerAbort('signal', reason));
	}

	/** ky's `fetch`: one call per attempt (hedges run inside it). */
	private readonly fetch = (request: Request, init?: RequestInit): Promise<Response> => runAttempt(this, request, init);

	private readonly shouldRetry = async ({error, retryCount}: {error: unknown; retryCount: number}): Promise<boolean> => {
		const failure = this.toFailure(error);
		if (!isFetchError(failure)) return false;
		this.lastFailure = failure;
		const remaining = this.remaining();
		const verdict = await decideRetry(this.config.retry, {
			error: failure,
			attempt: retryCount,
			method: this.method,
			idempotencyKey: this.lastRequest?.headers.has('idempotency-key') ?? false,
			remaining,
		});
		if (!verdict.retry) return false;
		const listener = this.client.listeners?.retry;
		if (listener) emit(listener, {request: this.requestInfo(), attempt: this.attempts, error: failure, delay: verdict.delay});
		// The backoff, on the operation's signal: the total deadline, the caller's signal and close()
		// all cut it short (the rejection leaves through ky and becomes the union at toFailure).
		if (verdict.delay > 0) await delay(this.node.signal, verdict.delay);
		return true;
	};

	/** ms left before the total deadline. */
	remaining(): number {
		const {total} = this.config.deadlines;
		return total === false ? Number.POSITIVE_INFINITY : total - (now() - this.started);
	}

	elapsed(): number {
		return now() - this.started;
	}

	requestInfo(): RequestInfo {
		if (!this.info || this.infoUrl !== this.url || this.info.method !== this.method) {
			this.infoUrl = this.url;
			this.info = {method: this.method, url: redactUrl(this.url, this.config.redact)};
		}
		return this.info;
	}

	context(cause?: unknown): FailureContext {
		return {request: this.requestInfo(), attempts: this.attempts, elapsed: this.elapsed(), cause};
	}

	invalid(reason: InvalidReason, cause: unknown, detail?: string): InvalidRequestError {
		const message = detail ?? (cause instanceof Error ? cause.message : String(cause));
		return new InvalidRequestError({...this.context(cause), reason, detail: message});
	}

	/** The failure for an aborted operation node (deadline, caller, close). */
	abortFailure(cause?: unknown): FetchFailure {
		return fromAbortReason(this.node.reason, this.context(cause ?? this.lastFailure))
			?? new InvalidRequestError({...this.context(cause), reason: 'option', detail: 'aborted for an unknown reason'});
	}

	/** Classifies a raw error of an attempt (the attempt knows its phase and its own abort reason). */
	classify(error: unknown, phase: 'headers' | 'body', attemptNode?: SignalNode): unknown {
		const abortReason = attemptNode?.aborted ? attemptNode.reason : this.node.aborted ? this.node.reason : undefined;
		return classify(error, {...this.context(error), phase, abortReason, customFetch: this.config.fetch !== undefined && !isOurTransport(this.config.fetch)});
	}

	/** The one boundary: whatever ky or the runtime threw -> the union (or the caller's own error, unchanged). */
	toFailure(error: unknown): unknown {
		if (isFetchError(error)) return error;
		const response = (error as {response?: unknown} | undefined)?.response;
		if ((error as {name?: unknown})?.name === 'HTTPError' && response instanceof Response) return this.httpFailure(response, error);
		if (this.node.aborted) return this.abortFailure(error === this.node.reason ? undefined : error);
		const fromReason = fromAbortReason(error, this.context(this.lastFailure));
		if (fromReason) return fromReason;
		return error;
	}

	private httpFailure(response: Response, kyError: unknown): HttpError {
		if (this.httpError?.response !== response) {
			const ours = response instanceof SurefetchResponse && response.hasErrorBody;
			const body = ours ? response.errorBody : (kyError as {data?: unknown}).data;
			this.httpError = new HttpError({...this.context(), response, body});
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
		this.settle();
		if (isFetchError(failure)) this.reportFailure(failure);
		throw failure;
	}

	/** `on.error`, once per call, wherever the final failure surfaced (ky, a reader, the caller's own read). */
	reportFailure(failure: FetchFailure): void {
		if (this.errorReported) return;
		this.errorReported = true;
		const listener = this.client.listeners?.error;
		if (listener) emit(listener, {request: failure.request, attempt: this.attempts, error: failure, timings: this.timings(this.lastAttempt)});
	}

	/** A watched body ended; if it is the one the caller holds, the operation is over. */
	bodySettled(response: SurefetchResponse): void {
		response.open = false;
		if (this.response === response) this.settle();
	}

	timings(attempt?: Attempt): Timings {
		const total = this.elapsed();
		if (!attempt) return {queue: this.queueMs, headers: 0, body: 0, total};
		return attempt.timings(total);
	}

	/** Releases everything the operation holds. Idempotent. */
	settle(): void {
		if (this.settled) return;
		this.settled = true;
		this.node.release();
		if (this.callerSignal) unlinkSignal(this.callerSignal, this);
		this.client.shared.lifecycle.leave(this);
	}

	get isSettled(): boolean {
		return this.settled;
	}
}

/** The Node transport of `surefetch/node` throws undici errors that the table knows: not "custom". */
function isOurTransport(fetch: unknown): boolean {
	return Boolean((fetch as Record<symbol, unknown>)[ourTransport]);
}

/** The URL for messages before ky has built the Request (which then gives the exact one). */
function describeInput(input: unknown, prefix: unknown, baseUrl: unknown): string {
	if (typeof input === 'string') {
		let url = input;
		if (typeof prefix === 'string' && prefix) url = `${prefix.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
		if (typeof baseUrl === 'string' || baseUrl instanceof URL) {
			try {
				return new URL(url, baseUrl).href;
			} catch {}
		}
		return url;
	}
	if (input instanceof URL) return input.href;
	if (input instanceof Request) return input.url;
	return String(input);
}

// After ky failed to build the Request: name the part that was wrong.
const token = /^[!#$%&'*+\-.^_`|~\dA-Za-z]+$/;

function diagnose(error: unknown, options: Record<string, unknown>): InvalidReason {
	const method = options.method;
	if (method !== undefined && (typeof method !== 'string' || !token.test(method) || /^(?:connect|trace|track)$/i.test(method))) return 'method';
	if (options.headers !== undefined && !headersAreValid(options.headers)) return 'header';
	const m = typeof method === 'string' ? method.toUpperCase() : 'GET';
	if ((m === 'GET' || m === 'HEAD') && (options.body != null || options.json !== undefined)) return 'body';
	const message = error instanceof Error ? error.message : '';
	if (/url|scheme|protocol|input/i.test(message)) return 'url';
	if (/body|json|stringify/i.test(message)) return 'body';
	if (/header/i.test(message)) return 'header';
	if (/method/i.test(message)) return 'method';
	return 'option';
}

function headersAreValid(headers: unknown): boolean {
	try {
		const entries: Array<[unknown, unknown]> = headers instanceof Headers
			? [...headers]
			: Array.isArray(headers) ? headers as Array<[unknown, unknown]> : Object.entries(headers as object);
		for (const [name, value] of entries) {
			if (typeof name !== 'string' || !token.test(name)) return false;
			if (value !== undefined && /[\r\n\0]/.test(String(value))) return false;
		}
		return true;
	} catch {
		return false;
	}
}
