// One try (what ky calls as its `fetch`) and its attempts. Without `send` policies a try is one
// attempt: admitted by the `admit` policies (the queue deadline runs while they wait), dispatched
// with the headers and attempt deadlines, every wait raced with its node; then its body is read
// here when a reader will want it (so a body failure is retried like a failure before headers),
// read for HttpError.body, or handed on as a watched stream. With `send` policies, their chain
// decides which attempts go out; each attempt's body is watched, so that it is over with its body.

import {BodyTooLarge, cancelBody, declaredLength, readWhole, watchBody} from './body.js';
import {isJsonMediaType, parseContentType} from './charset.js';
import {IdleWatch, now, race, SignalNode} from './deadlines.js';
import {DecodeError, isFetchError, type FailureContext, type FetchFailure, type RequestInfo} from './errors.js';
import {channels, emit, type Listeners, type Timings} from './events.js';
import {connectDeadline, ourTransport, type Config} from './options.js';
import type {AttemptContext, Outcome, Policies, PolicyEvent, Send, SendContext, SendOptions} from './policy.js';
import {decodeErrorBody, tooLarge, type ParseJson} from './readers.js';
import {SurefetchResponse} from './response.js';
import {isRetryableMethod} from './retry.js';

/** What a try needs of its operation. */
export interface Call {
	readonly node: SignalNode;
	readonly config: Config;
	readonly client: {listeners: Listeners | undefined; policies: Policies | undefined; lifecycle: {root: SignalNode}};
	readonly request: RequestInfo;
	readonly elapsed: number;
	readonly remaining: number;
	readonly signal: AbortSignal;
	reader: string | undefined;
	method: string;
	url: string;
	lastRequest: Request | undefined;
	readBytes: {response: Response; bytes: Uint8Array} | undefined;
	response: Response | undefined;
	attempts: number;
	queueMs: number;
	live: Set<Attempt> | undefined;
	lastAttempt: Attempt | undefined;
	throwHttpErrors: boolean | ((status: number) => boolean);
	afterResponseHooks: boolean;
	streamsResponse: boolean;
	mapsErrors: boolean;
	parseJson: ParseJson | undefined;
	context(cause?: unknown): FailureContext;
	invalid(reason: 'url', cause: unknown, detail: string): FetchFailure;
	abortFailure(): FetchFailure;
	classify(error: unknown, phase: 'headers' | 'body', node?: SignalNode): unknown;
	notify(event: PolicyEvent): void;
	reportFailure(failure: FetchFailure): void;
	bodySettled(response: SurefetchResponse): void;
}

/** Who owns a Response or a Request ky may show a hook or an error (HTTPError.response, ky's TimeoutError.request). */
export const owners = new WeakMap<object, Call>();

/** Why a policy gave an attempt up (a lost hedge, no caller left). Never surfaces. */
class GivenUp {}
/** A hedge a policy declined (no room for it now). */
class Declined {}

export class Attempt implements AttemptContext {
	readonly node: SignalNode;
	number = 0;
	status: number | undefined = undefined;
	/** The response's headers, once they came (its Content-Type names a DecodeError of this attempt). */
	headers: Headers | undefined;
	request!: Request;
	#dispatchedAt = 0;
	#headersAt = 0;
	#endedAt = 0;
	#dones: Array<(outcome: Outcome) => void> | undefined;
	#finished = false;
	#origin: string | undefined;

	constructor(readonly op: Call, readonly hedge = false, parent = op.node) {
		this.node = new SignalNode(parent);
		op.lastAttempt = this;
	}

	// --- AttemptContext: what admit policies see ---

	get origin(): string {
		return (this.#origin ??= new URL(this.request.url).origin);
	}

	get signal(): AbortSignal {
		return this.node.signal;
	}

	context(): FailureContext {
		return this.op.context();
	}

	emit(event: Extract<PolicyEvent, {type: 'breaker'}>): void {
		const {type: _, ...data} = event;
		emit(this.op.client.listeners?.breaker, data);
		if (channels?.breaker.hasSubscribers) channels.breaker.publish(data);
		this.op.notify(event);
	}

	// ---

	/** The attempt is over (body read, failed, cancelled, given up): timers cleared, policies told. Once. */
	finish(error?: unknown): void {
		if (this.#finished) return;
		this.#finished = true;
		this.op.live?.delete(this);
		this.#endedAt = now();
		const outcome: Outcome = this.node.reason instanceof GivenUp ? {} : {status: this.status, error: isFetchError(error) ? error : undefined};
		this.node.release();
		if (this.#dones) for (const done of this.#dones) done(outcome);
	}

	/** A raw error of this attempt -> the union; the attempt is over. */
	fail(error: unknown, phase: 'headers' | 'body'): unknown {
		const failure = error instanceof BodyTooLarge ? tooLarge(this.op, error, this.headers?.get('content-type') ?? undefined) : isFetchError(error) ? error : this.op.classify(error, phase, this.node);
		this.finish(failure);
		return failure;
	}

	/** Given up by its operation (settled) or a policy: its body is cancelled, its slot freed. */
	abandon(): void {
		this.node.abort(new GivenUp());
		this.finish();
	}

	timings(total: number): Timings {
		const headers = this.#headersAt;
		return {queue: this.op.queueMs, headers: headers && headers - this.#dispatchedAt, body: headers && this.#endedAt && this.#endedAt - headers, total};
	}

	/** Admission, then the transport, raced with the node: resolves at the response headers. */
	async send(request: Request, init: RequestInit | undefined): Promise<Response> {
		const {op, node} = this;
		const {deadlines, fetch} = op.config;
		this.request = request;
		try {
			// Each admit policy in stage order; the queue deadline runs while one makes the attempt wait.
			for (const policy of op.client.policies?.admit ?? []) {
				let admission = policy.admit!(this);
				if (typeof (admission as Promise<unknown> | undefined)?.then === 'function') {
					node.arm('queue', deadlines.queue);
					// Queue time is time spent waiting to be admitted (admitted or not), nothing else: not a GC pause before dispatch.
					const since = now();
					try {
						// Admitted after the attempt gave up: the slot goes straight back.
						admission = await race(node, admission as Promise<Awaited<typeof admission>>, (late) => typeof late === 'function' && late({}));
					} finally {
						op.queueMs += now() - since;
					}
					node.disarm('queue');
				}
				if (admission === false) throw this.hedge ? new Declined() : new TypeError(`the policy "${policy.name}" declined an attempt that is not a hedge`);
				if (typeof admission === 'function') (this.#dones ??= []).push(admission);
			}
			// Aborted while a slot was being handed over (close() aborts requests one by one).
			if (node.aborted) throw node.reason;
		} catch (error) {
			if (error instanceof Declined || !(isFetchError(error) || node.aborted)) {
				this.finish();
				throw error; // a declined hedge, or a policy's own error, unchanged
			}
			throw this.fail(error, 'headers');
		}
		this.#dispatchedAt = now();
		this.number = ++op.attempts;
		const {listeners} = op.client;
		if (listeners?.request) emit(listeners.request, {request: op.request, attempt: this.number});
		node.arm('headers', deadlines.headers);
		node.arm('attempt', deadlines.attempt);
		const {signal} = node;
		// A custom fetch that reads only its Request argument still sees this attempt's abort.
		const custom = fetch && !(fetch as unknown as Record<symbol, unknown>)[ourTransport];
		try {
			let pending: Promise<Response>;
			try {
				pending = (fetch ?? globalThis.fetch)(custom ? new Request(request, {signal}) : request, {
					...init,
					// A hedge must not wait behind the attempt it hedges: browsers hold identical GETs behind one cache entry.
					...(this.hedge && request.cache === 'default' && {cache: 'no-store'}),
					// The connect deadline is run by a transport that sees the connection (surefetch/node).
					...(deadlines.connect && {[connectDeadline]: deadlines.connect}),
					signal,
				});
			} catch (error) {
				pending = Promise.reject(error);
			}
			const response = await race(node, pending, (late) => cancelBody(late?.body));
			this.#headersAt = now();
			node.disarm('headers');
			this.status = response.status;
			this.headers = response.headers;
			if (listeners?.response) emit(listeners.response, {request: op.request, attempt: this.number, status: response.status, timings: this.timings(op.elapsed)});
			return response;
		} catch (error) {
			throw this.fail(error, 'headers');
		}
	}
}

const acceptFor: Record<string, string> = {json: 'application/json', text: 'text/*'};

/** ky's `fetch`: one try. */
export async function runTry(op: Call, request: Request, init: RequestInit | undefined): Promise<Response> {
	const {url} = request; // a getter that serializes the URL each time
	op.lastRequest = request;
	op.url = url;
	op.method = request.method;
	if (op.mapsErrors) owners.set(request, op);
	if (op.node.aborted) throw op.abortFailure();
	if (!/^(?:https?|data|blob):/i.test(url)) throw op.invalid('url', undefined, `unsupported URL scheme in ${url.slice(0, url.indexOf(':') + 1)} (surefetch speaks http:, https:, data: and blob:)`);
	if (op.reader && !request.headers.get('accept')) request.headers.set('accept', acceptFor[op.reader] ?? '*/*');
	const sends = op.client.policies?.send;
	if (!sends?.length) {
		const attempt = new Attempt(op);
		return handleBody(op, attempt, await attempt.send(request, init));
	}
	// Policies send the attempts; the try waits for their answer, raced with the operation's node.
	op.live ??= new Set();
	const context: SendContext = {
		request,
		retryable: isRetryableMethod(op.config.retry, request.method, request.headers.has('idempotency-key')),
		remaining: op.remaining,
		get signal() {
			return op.signal;
		},
	};
	try {
		return handleBody(op, undefined, await race(op.node, chain(sends, 0, context, {signals: []}, sender(op, init))(request), (late) => cancelBody(late?.body)));
	} catch (error) {
		throw op.node.aborted && !isFetchError(error) ? op.abortFailure() : error;
	}
}

interface Inherited {
	hedge?: boolean | undefined;
	shared?: boolean | undefined;
	signals: AbortSignal[];
}

/** The `next` a policy gets: the next policy, or at the end the attempt itself. What outer policies asked for holds inside. */
function chain(sends: Policies['send'], i: number, context: SendContext, outer: Inherited, send: (request: Request, options: Inherited) => Promise<Response | undefined>): Send {
	return ((request: Request, options: SendOptions = {}) => {
		const merged: Inherited = {
			hedge: outer.hedge || options.hedge,
			shared: outer.shared || options.shared,
			signals: options.signal ? [...outer.signals, options.signal] : outer.signals,
		};
		return i < sends.length ? sends[i]!.send!(Object.create(context, {request: {value: request}}) as SendContext, chain(sends, i + 1, context, merged, send)) : send(request, merged);
	}) as Send;
}

/** The end of the policies' chain: one attempt per call, its body watched. */
function sender(op: Call, init: RequestInit | undefined) {
	return async (request: Request, {hedge, shared, signals}: Inherited): Promise<Response | undefined> => {
		const attempt = new Attempt(op, hedge, shared ? op.client.lifecycle.root : op.node);
		if (!shared) op.live!.add(attempt);
		const giveUp = () => attempt.node.abort(new GivenUp());
		const listen = (on: boolean) => {
			for (const signal of signals) signal[on ? 'addEventListener' : 'removeEventListener']('abort', giveUp);
		};
		if (signals.some((signal) => signal.aborted)) giveUp();
		listen(true);
		if (hedge) op.notify({type: 'hedge', attempt: op.attempts + 1});
		let response: Response;
		try {
			response = await attempt.send(request, init);
		} catch (error) {
			listen(false);
			if (error instanceof Declined) return undefined;
			throw error;
		}
		const {body} = response;
		const {idle} = op.config.deadlines;
		const done = () => {
			listen(false);
			attempt.finish();
		};
		if (!body) {
			done();
			return response;
		}
		return new SurefetchResponse(watchBody(body, {
			node: attempt.node,
			idle: idle === false ? undefined : new IdleWatch(attempt.node, idle),
			limit: false,
			declared: undefined,
			failure: (error) => attempt.fail(error, 'body'),
			settled: done,
		}), response);
	};
}

// A Response built from bytes copies them (fetch's "extract a body"); past this size the bytes are
// handed over as a one-chunk stream instead, which does not copy.
const replayable = (bytes: Uint8Array): BodyInit => (bytes.byteLength <= 65_536 ? bytes as Uint8Array<ArrayBuffer> : new ReadableStream({
	pull(controller) {
		controller.enqueue(bytes);
		controller.close();
	},
}));

/** Statuses that never carry a body (Chromium still hands an empty stream for some of them). */
const nullBodyStatuses = [101, 103, 204, 205, 304];

/**
 * The body of a try's response. `attempt` is the physical attempt when the try is one (no `send`
 * policies): its node, idle deadline and end are the body's. Otherwise the attempt behind the
 * response watches its own body, and the operation's node bounds what is read here.
 */
async function handleBody(op: Call, attempt: Attempt | undefined, response: Response): Promise<Response> {
	const {body, status} = response;
	const {config} = op;
	const done = (error?: unknown) => attempt?.finish(error);
	if (!body || nullBodyStatuses.includes(status)) {
		cancelBody(body);
		done();
		return response;
	}
	const node = attempt?.node ?? op.node;
	const idle = attempt && config.deadlines.idle !== false ? new IdleWatch(node, config.deadlines.idle) : undefined;
	const contentType = () => response.headers.get('content-type') ?? undefined;
	const fail = (error: unknown) => (attempt ? attempt.fail(error, 'body') : error instanceof BodyTooLarge ? tooLarge(op, error, contentType()) : isFetchError(error) ? error : op.classify(error, 'body'));
	const rule = op.throwHttpErrors;

	// An error status: read the body now for HttpError.body (bounded, lenient). A body that cannot be
	// read leaves `body` undefined; only a deadline or abort of the whole operation wins over the status.
	if (!response.ok && response.type !== 'opaque' && (typeof rule === 'function' ? rule(status) : rule)) {
		const bytes = await readWhole(response, config.maxBodyBytes, node, idle).catch((error: unknown) => {
			if (op.node.aborted) throw fail(error);
			cancelBody(body);
		});
		done();
		const rebuilt = new SurefetchResponse((bytes ?? null) as BodyInit | null, response);
		rebuilt.errorBody = bytes && await decodeErrorBody(op, bytes, response);
		owners.set(rebuilt, op);
		return rebuilt;
	}

	// A reader is waiting: read the whole body inside the attempt, so ky retries a failure here.
	if (op.reader && !op.streamsResponse) {
		if (op.reader === 'json' && config.decode.json === 'strict' && !isJsonMediaType(parseContentType(contentType()).essence)) {
			cancelBody(body);
			const failure = new DecodeError({...op.context(), reason: 'content-type', contentType: contentType() ?? '', detail: 'decode.json is strict'});
			done(failure);
			throw failure;
		}
		const bytes = await readWhole(response, config.maxBodyBytes, node, idle).catch((error: unknown) => {
			throw fail(error);
		});
		done();
		if (!op.afterResponseHooks) {
			// Nobody else reads this body: ky gets the original Response (its body used, as after any
			// fetch reader) and our reader the bytes. Rebuilding one costs ~20-30 µs.
			op.readBytes = {response, bytes};
			return response;
		}
		const rebuilt = new SurefetchResponse(replayable(bytes), response);
		rebuilt.bodyBytes = bytes;
		return rebuilt;
	}

	// The caller reads the body: a watched stream; the attempt ends with the body.
	let rebuilt: SurefetchResponse | undefined;
	const watched = watchBody(body, {
		node,
		idle,
		limit: config.maxBodyBytes,
		declared: declaredLength(response.headers),
		failure(error) {
			const failure = fail(error);
			if (rebuilt) rebuilt.bodyFailure = failure;
			// The caller reads this body: when the call is already theirs, this is its final failure.
			if (rebuilt && op.response === rebuilt && isFetchError(failure)) op.reportFailure(failure);
			return failure;
		},
		settled() {
			done();
			if (rebuilt) op.bodySettled(rebuilt);
		},
	});
	rebuilt = new SurefetchResponse(watched, response);
	rebuilt.open = true;
	return rebuilt;
}
