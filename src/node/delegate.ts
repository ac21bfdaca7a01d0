// What the exchange leaves to npm undici's own fetch, with the transport's Agent (or the caller's
// dispatcher) under it: URLs that are not http(s) (data:, blob:, about:), Subresource Integrity, a
// referrer (and with it referrerPolicy and a redirect's Referrer-Policy header), a request mode
// other than "cors". Each is rare, and each is a part of fetch that undici implements and tests:
// there the transport conforms by construction, and the fast exchange stays as lean as it is.
// The request body is prepared as for the exchange (request-body.ts), so it keeps its kind: bytes
// go out with a Content-Length, a caller's stream without one. Errors keep fetch's shapes
// (`TypeError('fetch failed', {cause})`, exactly `signal.reason` on abort), and the Response is
// rebuilt as a global one.

import type {OutgoingBody} from './request-body.js';
import {cancelWhenCollected, makeResponse} from './response.js';

/** npm undici's `fetch` (its Response is undici's class, not the global one). */
export type UndiciFetch = (input: string, init: Record<string, unknown>) => Promise<Response>;

/** Whether this request needs a part of fetch the exchange does not do itself. */
export function needsUndiciFetch(request: Request, scheme: string): boolean {
	if (scheme !== 'http:' && scheme !== 'https:') return true;
	if (request.integrity !== '' || request.mode !== 'cors') return true;
	// Node's fetch has no client to take a referrer from: only an explicit one is ever sent.
	const {referrer} = request;
	return referrer !== 'about:client' && referrer !== '';
}

export function fetchWithUndici(fetch: UndiciFetch, request: Request, cache: RequestCache, body: OutgoingBody | null, dispatcher: unknown, signal: AbortSignal | undefined): Promise<Response> {
	return new Promise<Response>((resolve, reject) => {
		if (signal?.aborted) {
			body?.cancel(signal.reason);
			return reject(signal.reason);
		}
		const call = new UndiciCall(signal, body, resolve, reject);
		const send = () => {
			if (call.settled) return;
			// Node's fetch says "node", undici's own fetch "undici": the transport is the former.
			const headers = new Headers(request.headers);
			if (!headers.has('user-agent')) headers.set('user-agent', 'node');
			fetch(request.url, {
				method: request.method,
				headers,
				body: body === null ? null : wireOf(body),
				duplex: 'half',
				redirect: request.redirect,
				integrity: request.integrity,
				referrer: request.referrer,
				referrerPolicy: request.referrerPolicy,
				mode: request.mode,
				credentials: request.credentials,
				cache,
				keepalive: request.keepalive,
				signal: call.inner.signal,
				dispatcher,
			}).then((response) => call.respond(response), (error: unknown) => call.fail(error));
		};
		if (!body) return send();
		// A body that cannot be read fails as fetch fails before the response.
		body.prepare().then(send, (error: unknown) => call.fail(new TypeError('fetch failed', {cause: error})));
	});
}

/**
 * One call's link to the caller's signal. undici's fetch gets a signal of its own: undici 7 keeps
 * its listener on the signal it is given until the request is collected, and a caller's signal
 * may be shared by many calls. Every wait, undici's fetch and its body included, ends with the
 * signal; the listener goes when the body is over. Once settled, the promise's functions are
 * dropped: the body stream reaches this object, and must not keep the Response alive through them.
 */
class UndiciCall {
	readonly inner = new AbortController();
	settled = false;
	private listening = false;

	constructor(private readonly signal: AbortSignal | undefined, private readonly body: OutgoingBody | null, private resolve: (response: Response) => void, private reject: (error: unknown) => void) {
		if (!signal) return;
		signal.addEventListener('abort', this);
		this.listening = true;
	}

	handleEvent(): void {
		const reason = this.signal!.reason;
		this.release();
		this.inner.abort(reason);
		this.body?.cancel(reason);
		this.fail(reason);
	}

	respond(response: Response): void {
		if (this.settled) return void response.body?.cancel().catch(noop);
		const stream = response.body ? watched(response.body, this) : null;
		if (!stream) this.release();
		const global = makeResponse(stream, response.status, response.statusText, response.headers, response.url, response.redirected, response.type);
		if (stream) cancelWhenCollected(global, stream);
		const resolve = this.resolve;
		this.settle();
		resolve(global);
	}

	fail(error: unknown): void {
		if (this.settled) return;
		const reject = this.reject;
		this.settle();
		this.release();
		reject(error);
	}

	/** The body is over (read, cancelled or failed), or there is none: the signal has nothing left to stop. */
	release(): void {
		if (!this.listening) return;
		this.listening = false;
		this.signal!.removeEventListener('abort', this);
	}

	private settle(): void {
		this.settled = true;
		this.resolve = noop;
		this.reject = noop;
	}
}

/** undici's body, passed through chunk by chunk; the call is released once it ended, failed or was cancelled. */
function watched(source: ReadableStream<Uint8Array>, call: UndiciCall): ReadableStream<Uint8Array> {
	const reader = source.getReader();
	return new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const {done, value} = await reader.read();
				if (done) {
					controller.close();
					call.release();
				} else {
					controller.enqueue(value);
				}
			} catch (error) {
				controller.error(error);
				call.release();
			}
		},
		cancel(reason) {
			call.release();
			return reader.cancel(reason);
		},
	}, {highWaterMark: 0});
}

function noop(): void {}

/** Bytes from a source stay bytes; anything else goes as a stream (no source: never sent twice). */
function wireOf(body: OutgoingBody): unknown {
	const {wire} = body;
	if (!(wire instanceof Uint8Array)) return wire;
	return body.fromStream() ? oneChunk(wire) : wire;
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
	yield bytes;
}
