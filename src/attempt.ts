// One attempt: what ky calls as its `fetch`. It waits for a slot (queue deadline), asks the breaker,
// dispatches with the headers and attempt deadlines, and then deals with the body: read it here when
// a reader will want it (so a body failure is retried like a failure before headers), read an error
// body for HttpError.body, or wrap it so the caller's own reading is watched (idle deadline).

import {BodyTooLarge, cancelBody, readWhole, watchBody} from './body.js';
import {decodeErrorBody, tooLarge} from './readers.js';
import {IdleWatch, now, SignalNode} from './deadlines.js';
import {DecodeError, isFetchError, type FetchFailure} from './errors.js';
import {emit, type Timings} from './events.js';
import {isJsonMediaType, parseContentType} from './charset.js';
import type {Operation} from './operation.js';
import type {BreakerTicket} from './breaker.js';
import {race, type Dispatched} from './hedge.js';
import {isRetryableMethod} from './retry.js';
import {connectDeadline} from './options.js';
import {SurefetchResponse} from './response.js';

const acceptFor = {json: 'application/json', text: 'text/*', bytes: '*/*', arrayBuffer: '*/*', blob: '*/*'} as const;
const allowedSchemes = new Set(['http:', 'https:', 'data:', 'blob:']);

export class Attempt {
	readonly node: SignalNode;
	number = 0;
	/** The response's Content-Type, for DecodeErrors of this attempt. */
	contentType: string | undefined = undefined;
	/** Set when another (hedged) attempt won: this one's failure means nothing. */
	superseded = false;
	private readonly queuedAt = now();
	private dispatchedAt = 0;
	private headersAt = 0;
	private bodyEndedAt = 0;
	private release: (() => void) | undefined = undefined;
	private finished = false;

	constructor(readonly op: Operation) {
		this.node = new SignalNode(op.node);
		// Only a hedged call has rivals to abort; others need no registry.
		if (op.config.hedge !== false) (op.live ??= new Set()).add(this);
		op.lastAttempt = this;
	}

	dispatched(release: (() => void) | undefined): void {
		this.release = release;
		this.dispatchedAt = now();
		this.op.queueMs += this.dispatchedAt - this.queuedAt;
		this.number = ++this.op.attempts;
	}

	headersArrived(): void {
		this.headersAt = now();
		this.node.disarm('headers');
	}

	/** The attempt is over (body read, failed, cancelled): clear its timers and free its slot. */
	finish(): void {
		if (this.finished) return;
		this.finished = true;
		this.op.live?.delete(this);
		this.bodyEndedAt = now();
		this.node.release();
		const release = this.release;
		this.release = undefined;
		release?.();
	}

	/** A raw error of this attempt -> the union; the attempt is finished. */
	fail(error: unknown, phase: 'headers' | 'body'): unknown {
		if (error instanceof BodyTooLarge) {
			this.finish();
			return tooLarge(this.op, error, this.contentType);
		}
		const failure = isFetchError(error) ? error : this.op.classify(error, phase, this.node);
		this.finish();
		return failure;
	}

	timings(total: number): Timings {
		const headers = this.headersAt ? this.headersAt - this.dispatchedAt : 0;
		const body = this.bodyEndedAt && this.headersAt ? this.bodyEndedAt - this.headersAt : 0;
		return {queue: this.op.queueMs, headers, body, total};
	}
}

export async function runAttempt(op: Operation, request: Request, init: RequestInit | undefined): Promise<Response> {
	const {url} = request; // a getter that serializes the URL each time
	op.lastRequest = request;
	op.url = url;
	op.method = request.method;
	if (op.node.aborted) throw op.abortFailure();
	const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
	if (!allowedSchemes.has(scheme)) throw op.invalid('url', undefined, `unsupported URL scheme "${scheme}" (surefetch speaks http: and https:)`);
	if (op.reader && !request.headers.has('accept')) request.headers.set('accept', acceptFor[op.reader]);

	const {hedge, retry} = op.config;
	const hedged = hedge !== false && isRetryableMethod(retry, request.method, request.headers.has('idempotency-key'));
	const {attempt, response, ticket} = hedged
		? await race(op, request, hedge, (req, mode) => dispatch(op, req, init, mode))
		: (await dispatch(op, request, init, 'wait'))!;

	const {shared, listeners} = op.client;
	if (listeners?.response) emit(listeners.response, {request: op.requestInfo(), attempt: attempt.number, status: response.status, timings: attempt.timings(op.elapsed())});
	try {
		const handed = await handleBody(op, attempt, response);
		if (ticket) shared.breakers!.record(ticket, response.status >= 500 ? response.status : undefined);
		return handed;
	} catch (error) {
		if (ticket) shared.breakers!.record(ticket, error);
		throw error;
	}
}

/** One physical attempt up to the response headers. `mode: 'now'` (a hedge) skips when no slot is free. */
async function dispatch(op: Operation, request: Request, init: RequestInit | undefined, mode: 'wait' | 'now'): Promise<Dispatched | undefined> {
	const attempt = new Attempt(op);
	const {shared, listeners} = op.client;
	const {deadlines} = op.config;
	let release: (() => void) | undefined;
	let ticket: BreakerTicket | undefined;
	try {
		if (shared.limits) {
			if (mode === 'now') {
				release = shared.limits.tryAcquire(request.url);
				if (!release) {
					attempt.finish();
					return undefined;
				}
			} else {
				attempt.node.arm('queue', deadlines.queue);
				release = await shared.limits.acquire(request.url, attempt.node);
				attempt.node.disarm('queue');
			}
			// Aborted while the slot was being handed over (close() aborts requests one by one).
			if (attempt.node.aborted) throw attempt.node.reason;
		}
		ticket = shared.breakers?.check(op, request.url);
	} catch (error) {
		release?.();
		throw attempt.fail(error, 'headers');
	}
	attempt.dispatched(release);
	if (listeners?.request) emit(listeners.request, {request: op.requestInfo(), attempt: attempt.number});

	const {node} = attempt;
	node.arm('headers', deadlines.headers);
	node.arm('attempt', deadlines.attempt);
	const transport = op.config.fetch ?? globalThis.fetch;
	// A hedge must not wait behind the attempt it hedges: browsers hold identical GETs behind one
	// HTTP-cache entry lock, so a hedge bypasses the cache.
	const hedgeInit = mode === 'now' && request.cache === 'default' ? {cache: 'no-store' as RequestCache} : undefined;
	// The connect deadline is run by a transport that can see the connection (surefetch/node).
	const connectInit = deadlines.connect === false ? undefined : {[connectDeadline]: deadlines.connect};
	try {
		const response = await transport(request, init || hedgeInit || connectInit ? {...init, ...hedgeInit, ...connectInit, signal: node.signal} : {signal: node.signal});
		attempt.headersArrived();
		attempt.contentType = response.headers.get('content-type') ?? undefined;
		return {attempt, response, ticket};
	} catch (error) {
		const failure = attempt.fail(error, 'headers');
		if (ticket) shared.breakers!.record(ticket, attempt.superseded ? null : failure);
		throw failure;
	}
}

function throwsFor(op: Operation, response: Response): boolean {
	if (response.ok || response.type === 'opaque') return false;
	const rule = op.throwHttpErrors;
	return typeof rule === 'function' ? rule(response.status) : rule;
}

// A Response built from bytes copies them (fetch's "extract a body"); past this size the bytes are
// handed over as a one-chunk stream instead, which does not copy.
const copyLimit = 64 * 1024;

function replayable(bytes: Uint8Array): BodyInit {
	if (bytes.byteLength <= copyLimit) return bytes as Uint8Array<ArrayBuffer>;
	return new ReadableStream<Uint8Array>({
		pull(controller) {
			controller.enqueue(bytes);
			controller.close();
		},
	});
}

/** Statuses that never carry a body (Chromium still hands an empty stream for some of them). */
const nullBodyStatuses = new Set([101, 103, 204, 205, 304]);

async function handleBody(op: Operation, attempt: Attempt, response: Response): Promise<Response> {
	const {body} = response;
	if (!body || nullBodyStatuses.has(response.status)) {
		cancelBody(body);
		attempt.finish();
		return response instanceof Response ? response : new SurefetchResponse(null, response);
	}
	const {config} = op;
	const idleMs = config.deadlines.idle;
	const idle = idleMs === false ? undefined : new IdleWatch(attempt.node, idleMs);

	// An error status: read the body now for HttpError.body (bounded, lenient). A body that cannot
	// be read leaves `body` undefined; only a deadline or abort of the whole operation wins over the status.
	if (throwsFor(op, response)) {
		let bytes: Uint8Array | undefined;
		try {
			bytes = await readWhole(response, config.maxBodyBytes, idle);
		} catch (error) {
			if (op.node.aborted) throw attempt.fail(error, 'body');
			cancelBody(body);
		}
		attempt.finish();
		const rebuilt = new SurefetchResponse((bytes ?? null) as BodyInit | null, response);
		rebuilt.hasErrorBody = true;
		rebuilt.errorBody = bytes === undefined ? undefined : decodeErrorBody(bytes, response.headers, config);
		return rebuilt;
	}

	// A reader is waiting: read the whole body inside the attempt, so ky retries a failure here.
	if (op.reader && !op.streamsResponse) {
		const contentType = attempt.contentType;
		if (op.reader === 'json' && config.decode.json === 'strict' && !isJsonMediaType(parseContentType(contentType).essence)) {
			cancelBody(body);
			attempt.finish();
			throw new DecodeError({...op.context(), reason: 'content-type', contentType: contentType ?? '', detail: 'decode.json is strict and the media type is not JSON'});
		}
		let bytes: Uint8Array;
		try {
			bytes = await readWhole(response, config.maxBodyBytes, idle);
		} catch (error) {
			throw attempt.fail(error, 'body');
		}
		attempt.finish();
		// (A transport's own Response class — npm undici's — is rebuilt, so callers always get `instanceof Response`.)
		if (!op.afterResponseHooks && response instanceof Response) {
			// Nobody else reads this body: hand ky the original Response (its body used, like after
			// any fetch reader) and keep the bytes for our reader. A rebuilt Response costs ~20-30 µs.
			op.readBytes = {response, bytes};
			return response;
		}
		const rebuilt = new SurefetchResponse(replayable(bytes), response);
		rebuilt.bodyBytes = bytes;
		return rebuilt;
	}

	// The caller reads the body: hand on a watched stream; the attempt ends with the body.
	let rebuilt: SurefetchResponse | undefined;
	const watched = watchBody(body, {
		idle,
		failure: (error) => {
			const failure = isFetchError(error) ? error : attempt.fail(error, 'body');
			if (rebuilt) rebuilt.bodyFailure = failure;
			// The caller reads this body: if the call is already theirs, this is its final failure.
			if (rebuilt && op.response === rebuilt && isFetchError(failure)) op.reportFailure(failure);
			return failure;
		},
		settled: () => {
			attempt.finish();
			if (rebuilt) op.bodySettled(rebuilt);
		},
		onAbort: (callback) => {
			attempt.node.onAbort = callback;
		},
	});
	rebuilt = new SurefetchResponse(watched, response);
	rebuilt.open = true;
	return rebuilt;
}

export type {FetchFailure};
