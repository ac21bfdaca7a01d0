// One fetch over undici's dispatcher. The Exchange is the dispatch handler itself, in undici's
// classic callback form (onConnect/onHeaders/onData/onComplete/onError), which undici calls
// directly: no wrapper, no parsed header object, no Node stream. It follows redirects, decodes the
// body, resolves a global Response, and fails the way undici's own fetch fails (`TypeError('fetch
// failed', {cause})` before the headers, `TypeError('terminated', {cause})` after, exactly
// `signal.reason` on abort), so classify.ts sees the same errors from both transports.

import {DeadlineReason} from '../deadlines.js';
import {BodySource, type BodyProducer} from './body.js';
import {codingsOf, Decoder, type DecoderSink} from './decode.js';
import {followRedirect, isRedirect, type Hop} from './redirect.js';
import {NodeResponse, releaseWhenCollected} from './response.js';

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
	/** The current hop's response is a redirect we follow: its body is skipped. */
	private following = false;
	private abortHop: ((reason?: unknown) => void) | undefined = undefined;
	private resume: (() => void) | undefined = undefined;
	private source: BodySource | undefined = undefined;
	private decoder: Decoder | undefined = undefined;
	private listening = false;
	/** Until the tick after the headers: is the body still coming? (see `respond`). */
	private response: Response | undefined = undefined;

	constructor(
		private hop: Hop,
		private readonly dispatcher: Dispatcher,
		private readonly redirect: RedirectMode,
		private readonly signal: AbortSignal | undefined,
		private readonly connect: number | false,
		private resolve: Resolve,
		private reject: Reject,
	) {}

	/** `body`: a request body still to be read into the hop (see transport.ts). */
	start(body: Promise<Hop['body']> | undefined): void {
		const {signal} = this;
		if (signal) {
			if (signal.aborted) return this.fail(signal.reason);
			signal.addEventListener('abort', this);
			this.listening = true;
		}
		if (!body) return this.send();
		body.then((value) => {
			this.hop.body = value;
			if (!this.settled) this.send();
			// Aborted meanwhile: a stream never sent still lets go of the caller's body.
			else if (!(value instanceof Uint8Array) && value) void (value as AsyncGenerator).return(undefined);
		}, (error: unknown) => this.failEarly(error));
	}

	private send(): void {
		const {url, method, headers, body} = this.hop;
		// fetch keeps a bare trailing "?" (URL drops it from `search`).
		const path = url.search === '' && url.href.endsWith('?') ? `${url.pathname}?` : url.pathname + url.search;
		this.dispatcher.dispatch({origin: url.origin, path, method, headers, body}, this);
	}

	// --- undici's handler callbacks ---

	onConnect(abort: (reason?: unknown) => void): void {
		if (this.stopped) abort(this.stopReason);
		else this.abortHop = abort;
	}

	onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
		if (status < 200) return true; // 100 Continue, 103 Early Hints: the real response follows
		if (this.redirect !== 'manual' && isRedirect(status)) {
			const location = findHeader(raw, 'location');
			if (location !== undefined) {
				const next = this.redirect === 'error' ? new Error('unexpected redirect') : followRedirect(this.hop, status, location);
				if (next instanceof Error) {
					this.failEarly(next);
					return false;
				}
				// The redirect's own body is read and dropped; the next hop goes out when it ends.
				this.hop = next;
				this.following = true;
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
		if (this.following) {
			this.following = false;
			if (!this.stopped) this.send();
			return;
		}
		this.complete = true;
		if (this.decoder) this.decoder.end();
		else if (this.source) this.source.end();
		else this.bodyDone();
	}

	onError(error: unknown): void {
		this.abortHop = undefined;
		this.complete = true;
		if (this.stopped) return;
		if (!this.settled) return this.failEarly(error);
		this.decoder?.destroy();
		if (this.source) this.source.fail(new TypeError('terminated', {cause: error}));
		else this.bodyDone();
	}

	/** The signal's abort listener (an object listener: no closure per request). */
	handleEvent(): void {
		const reason = this.signal!.reason;
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

	private respond(status: number, raw: Buffer[], resume: () => void, statusText: string): void {
		const {url, method, redirects} = this.hop;
		const hash = url.href.indexOf('#');
		const href = hash < 0 ? url.href : url.href.slice(0, hash);
		const nullBody = method === 'HEAD' || status === 204 || status === 205 || status === 304;
		const source = nullBody ? undefined : new BodySource(this);
		const response = new NodeResponse(source ? source.stream : null, {status, statusText}, href, redirects > 0, source);
		// Straight into the Response's own Headers: one validation pass, set-cookie lines kept apart.
		const {headers} = response;
		let encoding: string | undefined;
		for (let i = 0; i < raw.length; i += 2) {
			const name = raw[i]!.toString('latin1');
			const value = raw[i + 1]!.toString('latin1');
			if (name.length === 16 && name.toLowerCase() === 'content-encoding') encoding = value;
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

function findHeader(raw: Buffer[], name: string): string | undefined {
	for (let i = 0; i < raw.length; i += 2) {
		const key = raw[i]!;
		if (key.length === name.length && key.toString('latin1').toLowerCase() === name) return raw[i + 1]!.toString('latin1');
	}
	return undefined;
}

function hasCode(error: unknown, code: string): boolean {
	for (let current = error as {code?: unknown; cause?: unknown} | undefined, depth = 0; current && depth < 5; depth++) {
		if (current.code === code) return true;
		current = current.cause as typeof current;
	}
	return false;
}
