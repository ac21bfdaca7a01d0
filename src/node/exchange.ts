// One fetch over undici's dispatcher. The Exchange is the dispatch handler itself, in undici's
// classic callback form (onConnect/onHeaders/onData/onComplete/onError), which undici calls
// directly: no wrapper, no parsed header object, no Node stream. It follows redirects, decodes the
// body, resolves a global Response, and fails the way undici's own fetch fails (`TypeError('fetch
// failed', {cause})` before the headers, `TypeError('terminated', {cause})` after, exactly
// `signal.reason` on abort), so classify.ts sees the same errors from both transports.
// undici 8 dropped those callbacks for onRequestStart/onResponseStart/...(controller, ...):
// ControllerExchange below speaks that form over the same logic.

import {DeadlineReason} from '../deadlines.js';
import {BodySource, type BodyProducer} from './body.js';
import {codingsOf, Decoder, type DecoderSink} from './decode.js';
import {proxyFailure, ProxyError} from './proxy.js';
import {followRedirect, isRedirect, type Hop} from './redirect.js';
import {makeResponse, releaseWhenCollected} from './response.js';
import {requestPath, withoutFragment} from './url.js';

export interface Dispatcher {
	dispatch(options: Record<string, unknown>, handler: object): boolean;
}

export type RedirectMode = 'follow' | 'manual' | 'error';

type Resolve = (response: Response) => void;
type Reject = (error: unknown) => void;

export class Exchange implements BodyProducer, DecoderSink {
	/** The promise is settled (response or failure): later failures go to the body. */
	private settled = false;
	/** We stopped the request (abort, cancel, failure): undici's own report of it is not news. */
	private stopped = false;
	private stopReason: unknown = undefined;
	/** undici finished the current request (complete or failed). */
	private complete = false;
	/** The current hop's response is a redirect: this takes over once its (empty) body is complete, or at once. */
	private successor: Exchange | undefined = undefined;
	private abortHop: ((reason?: unknown) => void) | undefined = undefined;
	private resume: (() => void) | undefined = undefined;
	private source: BodySource | undefined = undefined;
	private decoder: Decoder | undefined = undefined;
	private listening = false;
	/** Until the tick after the headers: is the body still coming? (see `respond`). */
	private response: Response | undefined = undefined;
	/**
	 * The proxy's origin when this hop goes to a proxy in absolute-form (set by the proxy's client,
	 * proxy.ts): a failure before the response is then the proxy's. Through a tunnel the proxy's
	 * part ends with the CONNECT, whose failures proxy.ts marks itself.
	 */
	proxy: string | null = null;

	constructor(
		private hop: Hop,
		private readonly dispatcher: Dispatcher,
		private readonly redirect: RedirectMode,
		private readonly signal: AbortSignal | undefined,
		private readonly connect: number | false,
		private resolve: Resolve,
		private reject: Reject,
	) {}

	/** The first hop: its request body is read (see request-body.ts) before it goes out. */
	start(): void {
		const {signal, hop: {body}} = this;
		if (signal?.aborted) {
			// As fetch: an aborted request cancels its body (a file behind a stream is closed).
			body?.cancel(signal.reason);
			return this.fail(signal.reason);
		}
		this.listen();
		if (!body) return this.send();
		body.prepare().then(() => {
			if (!this.settled) this.send();
		}, (error: unknown) => this.failEarly(error));
	}

	/** A hop after a redirect: its body, if any, is the first hop's bytes. */
	private startNext(): void {
		const {signal} = this;
		if (signal?.aborted) return this.fail(signal.reason);
		this.listen();
		this.send();
	}

	private listen(): void {
		if (!this.signal) return;
		this.signal.addEventListener('abort', this);
		this.listening = true;
	}

	private send(): void {
		const {url, method, headers, body} = this.hop;
		try {
			this.dispatcher.dispatch({origin: url.origin, path: requestPath(url), method, headers, body: body === null ? null : body.wire}, this);
		} catch (error) {
			// A dispatcher that throws instead of reporting through the handler (a caller's own).
			this.failEarly(error);
		}
	}

	// --- undici's handler callbacks ---

	onConnect(abort: (reason?: unknown) => void): void {
		if (this.stopped) abort(this.stopReason);
		else this.abortHop = abort;
	}

	onHeaders(status: number, raw: RawHeaders, resume: () => void, statusText: string): boolean {
		if (this.settled) return true; // a redirect's own response, already left for the next hop
		if (status < 200) return true; // 100 Continue, 103 Early Hints: the real response follows
		// Node's fetch has no way to ask for proxy credentials: a 407 is a network error there.
		// (undici's absolute-form client turns a proxy's 407 into an error before it gets here.)
		if (status === 407) {
			this.failEarly(this.proxy === null ? new Error('proxy authentication required') : new ProxyError(`proxy ${this.proxy}: answered 407 (Proxy Authentication Required)`, {statusCode: 407}));
			return false;
		}
		if (this.redirect !== 'manual' && isRedirect(status)) {
			// fetch refuses every redirect status in mode "error", Location or not.
			if (this.redirect === 'error') {
				this.failEarly(new Error('unexpected redirect'));
				return false;
			}
			const location = findHeader(raw, 'location');
			if (location !== undefined) {
				const next = followRedirect(this.hop, status, location);
				if (next instanceof Error) {
					this.failEarly(next);
					return false;
				}
				this.follow(next);
				return true;
			}
		}
		try {
			this.respond(status, raw, resume, statusText);
		} catch (error) {
			this.failEarly(error);
			return false;
		}
		return true;
	}

	onData(chunk: Buffer): boolean {
		if (this.decoder) return this.decoder.write(chunk);
		if (this.source) return this.source.push(chunk);
		return true; // a redirect's body, or a body a null-body status should not have had
	}

	onComplete(): void {
		this.abortHop = undefined;
		this.complete = true;
		const successor = this.successor;
		if (successor) {
			// The redirect's body was complete with its headers: the connection goes on to the next hop.
			this.successor = undefined;
			return successor.startNext();
		}
		if (this.decoder) this.decoder.end();
		else if (this.source) this.source.end();
		else this.bodyDone();
	}

	onError(error: unknown): void {
		this.abortHop = undefined;
		this.complete = true;
		if (this.stopped) return;
		if (!this.settled) return this.failEarly(this.proxy === null ? error : proxyFailure(error, this.proxy, 'failed before the response'));
		this.decoder?.destroy();
		if (this.source) this.source.fail(new TypeError('terminated', {cause: error}));
		else this.bodyDone();
	}

	/** The signal's abort listener (an object listener: no closure per request). */
	handleEvent(): void {
		const reason = this.signal!.reason;
		// As fetch: an abort cancels the request body too (an upload may outlast the response headers).
		this.hop.body?.cancel(reason);
		if (!this.settled) {
			this.fail(reason);
			this.stop(reason);
			this.bodyDone();
		} else if (this.source) {
			this.source.fail(reason);
		}
	}

	// --- the body source's producer side ---

	more(): void {
		if (this.decoder) this.decoder.resumeOutput();
		else if (!this.complete) this.resume?.();
	}

	stop(reason: unknown): void {
		if (this.stopped) return;
		this.stopped = true;
		this.stopReason = reason;
		this.decoder?.destroy();
		const abort = this.abortHop;
		this.abortHop = undefined;
		// Not connected yet: onConnect aborts it. Already complete: nothing to release.
		if (abort && !this.complete) abort(reason);
	}

	/** The body was read to the end, cancelled or errored: the abort signal has nothing left to stop. */
	bodyDone(): void {
		if (!this.listening) return;
		this.listening = false;
		this.signal!.removeEventListener('abort', this);
	}

	// --- the decoder's sink ---

	decoded(chunk: Uint8Array): boolean {
		return this.source!.push(chunk);
	}

	decodedEnd(): void {
		this.source!.end();
	}

	decodeFailed(error: unknown): void {
		this.source!.fail(new TypeError('terminated', {cause: error}));
	}

	inputDrained(): void {
		if (!this.complete) this.resume?.();
	}

	// ---

	/**
	 * A redirect: a new Exchange takes over the promise and the signal for the next hop. fetch drops
	 * the redirect's connection with its body unread, so a slow or endless body cannot hold the
	 * request; the usual empty body is complete in the same socket read, and then the connection
	 * is kept for the next hop (onComplete). Otherwise the hop is aborted on the next tick.
	 */
	private follow(next: Hop): void {
		const Next = this.constructor as new (...args: ConstructorParameters<typeof Exchange>) => Exchange;
		this.successor = new Next(next, this.dispatcher, this.redirect, this.signal, this.connect, this.resolve, this.reject);
		this.settle();
		this.bodyDone();
		process.nextTick(leaveRedirect, this);
	}

	/** The redirect's body is still coming a tick after its headers: drop it and go on. */
	leaveRedirect(): void {
		const successor = this.successor;
		if (!successor) return;
		this.successor = undefined;
		this.stop(new Error('redirect followed'));
		successor.startNext();
	}

	private respond(status: number, raw: RawHeaders, resume: () => void, statusText: string): void {
		const {url, method, redirects, crossed} = this.hop;
		const nullBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
		const source = nullBody ? undefined : new BodySource(this);
		const response = makeResponse(source ? source.stream : null, status, statusText, undefined, withoutFragment(url), redirects > 0, crossed ? 'cors' : 'basic', source);
		// Straight into the Response's own Headers: one validation pass, set-cookie lines kept apart.
		const {headers} = response;
		let encoding: string | undefined;
		for (let i = 0; i < raw.length; i += 2) {
			const name = latin1(raw[i]!);
			const value = latin1(raw[i + 1]!);
			// Every Content-Encoding line counts: several lines are one list, as fetch reads them.
			if (name.length === 16 && name.toLowerCase() === 'content-encoding') encoding = encoding === undefined ? value : `${encoding}, ${value}`;
			headers.append(name, value);
		}
		if (source && encoding !== undefined) {
			const codings = codingsOf(encoding);
			if (codings instanceof Error) throw codings;
			if (codings) this.decoder = new Decoder(codings, this);
		}
		this.source = source;
		this.resume = resume;
		const resolve = this.resolve;
		this.settle();
		resolve(response);
		if (!source) return this.bodyDone();
		// undici parses a whole socket read at once: a small body is complete by the next tick.
		this.response = response;
		process.nextTick(watchIfIncomplete, this);
	}

	/** A body still coming a tick after its headers: released if its Response is dropped unread. */
	watchIfIncomplete(): void {
		const response = this.response!;
		this.response = undefined;
		if (!this.complete && !this.stopped) releaseWhenCollected(response, this.source!);
	}

	private fail(error: unknown): void {
		const reject = this.reject;
		this.settle();
		reject(error);
	}

	/** Settled once; the promise's functions are dropped, or they would keep the Response (its fulfilled value) alive. */
	private settle(): void {
		this.settled = true;
		this.resolve = noop;
		this.reject = noop;
	}

	/** A failure before the response: reject as fetch does, and let go of the request. */
	private failEarly(error: unknown): void {
		if (this.settled) return;
		this.fail(this.connect !== false && hasCode(error, 'UND_ERR_CONNECT_TIMEOUT')
			// The connect deadline is surefetch's own limit, undici only runs the timer: say which.
			? new DeadlineReason('connect', this.connect)
			: new TypeError('fetch failed', {cause: error}));
		this.stop(error);
		this.bodyDone();
	}
}

function noop(): void {}

function watchIfIncomplete(exchange: Exchange): void {
	exchange.watchIfIncomplete();
}

function leaveRedirect(exchange: Exchange): void {
	exchange.leaveRedirect();
}

/** Name, value, name, value...: Buffers from HTTP/1.1, strings from HTTP/2 (a caller's h2 dispatcher). */
type RawHeaders = Array<Buffer | string>;

function latin1(bytes: Buffer | string): string {
	return typeof bytes === 'string' ? bytes : bytes.toString('latin1');
}

function findHeader(raw: RawHeaders, name: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		const key = raw[i]!;
		if (key.length === name.length && latin1(key).toLowerCase() === name) return latin1(raw[i + 1]!);
	}
	return undefined;
}

/** undici 8 gives HTTP/2 headers as an object (name: value or values), not as a flat list. */
function flatten(raw: unknown, parsed: unknown): RawHeaders {
	if (Array.isArray(raw)) return raw as RawHeaders;
	const flat: RawHeaders = [];
	const source = (raw ?? parsed ?? {}) as Record<string, unknown>;
	for (const name of Object.keys(source)) {
		const value = source[name];
		if (Array.isArray(value)) for (const item of value) flat.push(name, String(item));
		else if (value !== undefined) flat.push(name, String(value));
	}
	return flat;
}

function hasCode(error: unknown, code: string): boolean {
	for (let current = error as {code?: unknown; cause?: unknown} | undefined, depth = 0; current && depth < 5; depth++) {
		if (current.code === code) return true;
		current = current.cause as typeof current;
	}
	return false;
}

/** The controller handler of undici 8 (undici 7 takes it too, through a wrapper: it gets Exchange). */
interface Controller {
	readonly rawHeaders: unknown;
	abort(reason: unknown): void;
	pause(): void;
	resume(): void;
}

export class ControllerExchange extends Exchange {
	private controller: Controller | undefined = undefined;
	private readonly resumeHop = () => this.controller?.resume();

	onRequestStart(controller: Controller): void {
		this.controller = controller;
		this.onConnect((reason) => controller.abort(reason));
	}

	onResponseStart(controller: Controller, status: number, headers: unknown, statusText: string): void {
		if (!this.onHeaders(status, flatten(controller.rawHeaders, headers), this.resumeHop, statusText)) controller.pause();
	}

	onResponseData(controller: Controller, chunk: Buffer): void {
		if (!this.onData(chunk)) controller.pause();
	}

	onResponseEnd(): void {
		this.onComplete();
	}

	onResponseError(_controller: Controller | null, error: unknown): void {
		this.onError(error);
	}
}
