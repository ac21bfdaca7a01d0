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
import {makeResponse} from './response.js';

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

// undici cancels the body of its Response when that object is collected: ours keeps it alive.
const kept = new WeakMap<Response, Response>();

export function fetchWithUndici(fetch: UndiciFetch, request: Request, cache: RequestCache, body: OutgoingBody | null, dispatcher: unknown, signal: AbortSignal | undefined): Promise<Response> {
	return new Promise<Response>((resolve, reject) => {
		if (signal?.aborted) {
			body?.cancel(signal.reason);
			return reject(signal.reason);
		}
		let settled = false;
		const settle = () => {
			settled = true;
			signal?.removeEventListener('abort', onAbort);
		};
		// Every wait here, undici's fetch included, ends with the signal.
		const onAbort = () => {
			if (settled) return;
			settle();
			body?.cancel(signal!.reason);
			reject(signal!.reason);
		};
		signal?.addEventListener('abort', onAbort);
		const fail = (error: unknown) => {
			if (settled) return;
			settle();
			reject(error);
		};
		const send = () => {
			if (settled) return;
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
				signal,
				dispatcher,
			}).then((response) => {
				if (settled) return void response.body?.cancel().catch(noop);
				settle();
				const global = makeResponse(response.body, response.status, response.statusText, response.headers, response.url, response.redirected, response.type);
				kept.set(global, response);
				resolve(global);
			}, fail);
		};
		if (!body) return send();
		// A body that cannot be read fails as fetch fails before the response.
		body.prepare().then(send, (error: unknown) => fail(new TypeError('fetch failed', {cause: error})));
	});
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
