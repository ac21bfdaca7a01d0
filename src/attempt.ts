// One try (what ky calls as its `fetch`) and its attempts. Without `send` policies a try is one
// attempt: admitted by the `admit` policies (the queue deadline runs while they wait), dispatched
// with the headers and attempt deadlines, every wait raced with its node; then its body is read
// here when a reader will want it (so a body failure is retried like a failure before headers),
// read for HttpError.body, or handed on as a watched stream. With `send` policies, the chain of
// them decides which attempts go out; each attempt's body is watched so that it is over exactly
// when its body is.

import {BodyTooLarge, cancelBody, declaredLength, readWhole, watchBody} from './body.js';
import {isJsonMediaType, parseContentType} from './charset.js';
import {IdleWatch, now, race, SignalNode} from './deadlines.js';
import {DecodeError, isFetchError, type FailureContext, type FetchFailure, type RequestInfo} from './errors.js';
import {emit, type Listeners, type Timings} from './events.js';
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
	attempts: number;
	queueMs: number;
	live: Set<Attempt> | undefined;
	lastAttempt: Attempt | undefined;
	throwHttpErrors: boolean | ((status: number) => boolean);
	afterResponseHooks: boolean;
	streamsResponse: boolean;
	parseJson: ParseJson | undefined;
	mapsErrors: boolean;
	context(cause?: unknown): FailureContext;
	invalid(reason: 'url', cause: unknown, detail: string): FetchFailure;
	abortFailure(): FetchFailure;
	classify(error: unknown, phase: 'headers' | 'body', node?: SignalNode): unknown;
	notify(event: PolicyEvent): void;
	response: Response | undefined;
	reportFailure(failure: FetchFailure): void;
	bodySettled(response: SurefetchResponse): void;
}

/** Who owns a Response or a Request ky may show a hook or an error (HTTPError.response, ky's TimeoutError.request). */
export const owners = new WeakMap<object, Call>();

const acceptFor: Record<string, string> = {json: 'application/json', text: 'text/*', bytes: '*/*', arrayBuffer: '*/*', blob: '*/*'};
const schemes = ['http:', 'https:', 'data:', 'blob:'];

/** Why a policy gave an attempt up (a lost hedge, no caller left). Never surfaces. */
class GivenUp {}
/** A hedge a policy declined (no room for it now). */
class Declined {}

export class Attempt implements AttemptContext {
	readonly node: SignalNode;
	number = 0;
	status: number | undefined = undefined;
	/** The response's Content-Type, for DecodeErrors of this attempt. */
	contentType: string | undefined = undefined;
	private readonly queuedAt = now();
	private dispatchedAt = 0;
	private headersAt = 0;
	private bodyEndedAt = 0;
	private dones: Array<(outcome: Outcome) => void> | undefined = undefined;
	private finished = false;
	private originValue: string | undefined = undefined;
	request!: Request;

	constructor(readonly op: Call, readonly hedge = false, parent: SignalNode = op.node) {
		this.node = new SignalNode(parent);
		op.lastAttempt = this;
	}

	// --- AttemptContext (what admit policies see) ---

	get origin(): string {
		return (this.originValue ??= originOf(this.request.url));
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
		this.op.notify(event);
	}

	// ---

	dispatched(): void {
		this.dispatchedAt = now();
		this.op.queueMs += this.dispatchedAt - this.queuedAt;
		this.number = ++this.op.attempts;
	}

	/** The attempt is over (body read, failed, cancelled, given up): timers cleared, policies told. Once. */
	finish(error?: unknown): void {
		if (this.finished) return;
		this.finished = true;
		this.op.live?.delete(this);
		this.bodyEndedAt = now();
		const givenUp = this.node.reason instanceof GivenUp;
		this.node.release();
		const dones = this.dones;
		this.dones = undefined;
		if (!dones) return;
		const outcome: Outcome = givenUp ? {} : {status: this.status, error: isFetchError(error) ? error : undefined};
		for (const done of dones) done(outcome);
	}

	/** A raw error of this attempt -> the union; the attempt is over. */
	fail(error: unknown, phase: 'headers' | 'body'): unknown {
		const failure = error instanceof BodyTooLarge ? tooLarge(this.op, error, this.contentType)
			: isFetchError(error) ? error : this.op.classify(error, phase, this.node);
		this.finish(failure);
		return failure;
	}

	/** Given up by the operation (it settled) or a policy: its body is cancelled, its slot freed. */
	abandon(): void {
		this.node.abort(new GivenUp());
		this.finish();
	}

	timings(total: number): Timings {
		const {headersAt, bodyEndedAt} = this;
		return {queue: this.op.queueMs, headers: headersAt ? headersAt - this.dispatchedAt : 0, body: bodyEndedAt && headersAt ? bodyEndedAt - headersAt : 0, total};
	}

	/** Admission by each `admit` policy, in stage order; the queue deadline runs while one makes it wait. */
	async admit(): Promise<void> {
		const {op} = this;
		for (const policy of op.client.policies?.admit ?? []) {
			let admission = policy.admit!(this);
			if (typeof (admission as Promise<unknown> | undefined)?.then === 'function') {
				this.node.arm('queue', op.config.deadlines.queue);
				// Admitted after the attempt gave up: the slot goes straight back.
				admission = await race(this.node, admission as Promise<Awaited<typeof admission>>, (late) => typeof late === 'function' && late({}));
				this.node.disarm('queue');
			}
			if (admission === false) {
				if (this.hedge) throw new Declined();
				throw new TypeError(`surefetch: the policy "${policy.name}" declined an attempt that is not a hedge (only a hedge may be skipped)`);
			}
			if (typeof admission === 'function') (this.dones ??= []).push(admission);
		}
	}

	/** Admission, then the request to the transport, raced with the node: resolves at the response headers. */
	async send(request: Request, init: RequestInit | undefined): Promise<Response> {
		const {op, node} = this;
		this.request = request;
		const {deadlines, fetch} = op.config;
		try {
			if (op.client.policies?.admit.length) await this.admit();
			// Aborted while the slot was being handed over (close() aborts requests one by one).
			if (node.aborted) throw node.reason;
		} catch (error) {
			if (error instanceof Declined) throw error;
			if (isFetchError(error) || node.aborted) throw this.fail(error, 'headers');
			this.finish();
			throw error; // a policy's own error, unchanged
		}
		this.dispatched();
		const {listeners} = op.client;
		if (listeners?.request) emit(listeners.request, {request: op.request, attempt: this.number});
		node.arm('headers', deadlines.headers);
		node.arm('attempt', deadlines.attempt);
		const {signal} = node;
		const transport = fetch ?? globalThis.fetch;
		// A custom fetch that reads only its Request argument still sees this attempt's abort.
		const custom = fetch !== undefined && !(fetch as unknown as Record<symbol, unknown>)[ourTransport];
		const withConnect = deadlines.connect === false ? undefined : {[connectDeadline]: deadlines.connect};
		// A hedge must not wait behind the attempt it hedges: browsers hold identical GETs behind one cache entry.
		const cache = this.hedge && request.cache === 'default' ? {cache: 'no-store' as RequestCache} : undefined;
		try {
			let pending: Promise<Response>;
			try {
				pending = transport(custom ? new Request(request, {signal}) : request, {...init, ...cache, ...withConnect, signal});
			} catch (error) {
				pending = Promise.reject(error);
			}
			const response = await race(node, pending, (late) => cancelBody(late?.body));
			this.headersAt = now();
			node.disarm('headers');
			this.status = response.status;
			this.contentType = response.headers.get('content-type') ?? undefined;
			if (listeners?.response) emit(listeners.response, {request: op.request, attempt: this.number, status: response.status, timings: this.timings(op.elapsed)});
			return response;
		} catch (error) {
			throw this.fail(error, 'headers');
		}
	}
}

function originOf(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return url;
	}
}

/** ky's `fetch`: one try. */
export async function runTry(op: Call, request: Request, init: RequestInit | undefined): Promise<Response> {
	const {url} = request; // a getter that serializes the URL each time
	op.lastRequest = request;
	if (op.mapsErrors) owners.set(request, op);
	op.url = url;
	op.method = request.method;
	if (op.node.aborted) throw op.abortFailure();
	const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
	if (!schemes.includes(scheme)) throw op.invalid('url', undefined, `unsupported URL scheme "${scheme}" (surefetch speaks http:, https:, data: and blob:)`);
	if (op.reader && !request.headers.get('accept')) request.headers.set('accept', acceptFor[op.reader]!);
	const sends = op.client.policies?.send;
	if (!sends?.length) {
		const attempt = new Attempt(op);
		return handleBody(op, attempt, await attempt.send(request, init));
	}
	// Policies send the attempts; the try waits for their answer, raced with the operation's node.
	op.live ??= new Set();
	const context = new TryContext(op, request);
	let response: Response;
	try {
		response = await race(op.node, chain(sends, 0, context, {signals: []}, sender(op, init))(request), (late) => cancelBody(late?.body));
	} catch (error) {
		throw op.node.aborted && !isFetchError(error) ? op.abortFailure() : error;
	}
	return handleBody(op, undefined, response);
}

class TryContext implements SendContext {
	readonly retryable: boolean;
	readonly remaining: number;

	constructor(private readonly op: Call, readonly request: Request) {
		this.retryable = isRetryableMethod(op.config.retry, request.method, request.headers.has('idempotency-key'));
		this.remaining = op.remaining;
	}

	get signal(): AbortSignal {
		return this.op.signal;
	}
}

interface Inherited {
	hedge?: boolean | undefined;
	shared?: boolean | undefined;
	signals: AbortSignal[];
}

/** The `next` a policy gets: the next policy, or at the end the attempt itself. What outer policies asked for is kept. */
function chain(sends: Policies['send'], i: number, context: TryContext, inherited: Inherited, send: (request: Request, options: Inherited) => Promise<Response | undefined>): Send {
	return ((request: Request, options: SendOptions = {}) => {
		const merged: Inherited = {
			hedge: inherited.hedge || options.hedge,
			shared: inherited.shared || options.shared,
			signals: options.signal ? [...inherited.signals, options.signal] : inherited.signals,
		};
		if (i === sends.length) return send(request, merged);
		const inner = Object.create(context) as TryContext;
		Object.defineProperty(inner, 'request', {value: request});
		return sends[i]!.send!(inner, chain(sends, i + 1, context, merged, send));
	}) as Send;
}

/** The end of the policies' chain: one attempt per call, its body watched so that it is over with its body. */
function sender(op: Call, init: RequestInit | undefined) {
	return async (request: Request, options: Inherited): Promise<Response | undefined> => {
		const attempt = new Attempt(op, options.hedge, options.shared ? op.client.lifecycle.root : op.node);
		if (!options.shared) op.live!.add(attempt);
		const {signals} = options;
		const giveUp = () => attempt.node.abort(new GivenUp());
		const unlisten = () => {
			for (const signal of signals) signal.removeEventListener('abort', giveUp);
		};
		for (const signal of signals) {
			if (signal.aborted) giveUp();
			signal.addEventListener('abort', giveUp);
		}
		if (options.hedge) op.notify({type: 'hedge', attempt: op.attempts + 1});
		let response: Response;
		try {
			response = await attempt.send(request, init);
		} catch (error) {
			unlisten();
			if (error instanceof Declined) return undefined;
			throw error;
		}
		const {body} = response;
		if (!body) {
			unlisten();
			attempt.finish();
			return response;
		}
		const {idle} = op.config.deadlines;
		const watched = watchBody(body, {
			node: attempt.node,
			idle: idle === false ? undefined : new IdleWatch(attempt.node, idle),
			limit: false,
			declared: undefined,
			failure: (error) => attempt.fail(error, 'body'),
			settled: () => {
				unlisten();
				attempt.finish();
			},
		});
		return new SurefetchResponse(watched, response);
	};
}

function throwsFor(op: Call, response: Response): boolean {
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
const nullBodyStatuses = [101, 103, 204, 205, 304];

/**
 * The body of a try's response. `attempt` is the physical attempt when the try is one (no `send`
 * policies): its node, idle deadline and end are the body's. Otherwise the attempt behind the
 * response watches its own body, and the operation's node bounds what is read here.
 */
async function handleBody(op: Call, attempt: Attempt | undefined, response: Response): Promise<Response> {
	const {body} = response;
	const done = (error?: unknown) => attempt?.finish(error);
	if (!body || nullBodyStatuses.includes(response.status)) {
		cancelBody(body);
		done();
		return response;
	}
	const {config} = op;
	const node = attempt?.node ?? op.node;
	const idle = attempt && config.deadlines.idle !== false ? new IdleWatch(node, config.deadlines.idle) : undefined;
	const fail = (error: unknown) => (attempt ? attempt.fail(error, 'body') : isFetchError(error) ? error : error instanceof BodyTooLarge ? tooLarge(op, error, response.headers.get('content-type') ?? undefined) : op.classify(error, 'body'));

	// An error status: read the body now for HttpError.body (bounded, lenient). A body that cannot be
	// read leaves `body` undefined; only a deadline or abort of the whole operation wins over the status.
	if (throwsFor(op, response)) {
		let bytes: Uint8Array | undefined;
		try {
			bytes = await readWhole(response, config.maxBodyBytes, node, idle);
		} catch (error) {
			if (op.node.aborted) throw fail(error);
			cancelBody(body);
		}
		done();
		const rebuilt = new SurefetchResponse((bytes ?? null) as BodyInit | null, response);
		rebuilt.errorBody = bytes === undefined ? undefined : await decodeErrorBody(op, bytes, response);
		owners.set(rebuilt, op);
		return rebuilt;
	}

	// A reader is waiting: read the whole body inside the attempt, so ky retries a failure here.
	if (op.reader && !op.streamsResponse) {
		const {contentType} = attempt ?? {contentType: response.headers.get('content-type') ?? undefined};
		if (op.reader === 'json' && config.decode.json === 'strict' && !isJsonMediaType(parseContentType(contentType).essence)) {
			cancelBody(body);
			const failure = new DecodeError({...op.context(), reason: 'content-type', contentType: contentType ?? '', detail: 'decode.json is strict and the media type is not JSON'});
			done(failure);
			throw failure;
		}
		let bytes: Uint8Array;
		try {
			bytes = await readWhole(response, config.maxBodyBytes, node, idle);
		} catch (error) {
			throw fail(error);
		}
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
		failure: (error) => {
			const failure = fail(error);
			if (rebuilt) {
				rebuilt.bodyFailure = failure;
				// The caller reads this body: when the call is already theirs, this is its final failure.
				if (op.response === rebuilt && isFetchError(failure)) op.reportFailure(failure);
			}
			return failure;
		},
		settled: () => {
			done();
			if (rebuilt) op.bodySettled(rebuilt);
		},
	});
	rebuilt = new SurefetchResponse(watched, response);
	rebuilt.open = true;
	return rebuilt;
}
