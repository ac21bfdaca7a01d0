// Response bodies: read with the idle deadline and the size cap watching, or wrapped so that a body
// the caller reads itself is watched the same way. A body that is not handed on is cancelled.

import {IdleWatch} from './deadlines.js';

/** Thrown (internally) when a body passes maxBodyBytes; the caller turns it into DecodeError 'too-large'. */
export class BodyTooLarge {
	constructor(readonly limit: number, readonly seen: number, readonly declared: boolean) {}
}

export function cancelBody(body: ReadableStream | null | undefined, reason?: unknown): void {
	if (!body) return;
	// A locked or finished stream rejects; either way there is nothing left to release.
	try {
		void body.cancel(reason).catch(() => {});
	} catch {}
}

export function declaredLength(headers: Headers): number | undefined {
	const value = headers.get('content-length');
	if (value === null) return undefined;
	const n = Number(value);
	return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

const empty = new Uint8Array(0);

/**
 * A transport may hand its body's source along with the Response, as `response[directBody]`: web
 * streams cost a lot per chunk, and a body read whole needs none of them. The getter gives it only
 * while the stream is untouched (stream and source share one queue: whichever is used first wins).
 * `read()` gives the next chunk (undefined at the end) and rejects with what the stream would be
 * errored with; `cancel()` is the stream's cancel.
 */
export const directBody = Symbol.for('surefetch.directBody');

export interface DirectBody {
	read(): Promise<Uint8Array | undefined>;
	cancel(reason?: unknown): void;
}

/**
 * Reads a whole body. `idle` watches the gaps (may be undefined), `limit` caps the size (`false`: no cap).
 * `response`, when given, may offer its body's source directly (see `directBody`), and `declared`
 * (its Content-Length) may be the exact length (no content coding): the bytes are then copied
 * into one buffer of that size as they come, so the peak is the body once instead of chunks plus
 * their concatenation (200 MiB read with ~1.1x memory, not 2x).
 * Rejects with the runtime's error, a BodyTooLarge, or whatever the stream was errored with.
 */
export async function readAllBytes(body: ReadableStream<Uint8Array> | null, limit: number | false, idle: IdleWatch | undefined, response?: Response, declared?: number): Promise<Uint8Array> {
	if (!body) return empty;
	const direct = (response as {[directBody]?: DirectBody} | undefined)?.[directBody];
	const reader = direct ? undefined : body.getReader();
	// Preallocated only when it pays: small bodies come in one chunk, which is kept as it is.
	let whole = declared !== undefined && declared > preallocateFrom && response && isExact(response.headers) ? allocate(declared) : undefined;
	const chunks: Uint8Array[] = [];
	let size = 0;
	try {
		for (;;) {
			idle?.readStarted();
			const value = direct ? await direct.read() : (await reader!.read()).value;
			idle?.readEnded();
			if (value === undefined) break;
			const end = size + value.byteLength;
			if (limit !== false && end > limit) {
				if (direct) direct.cancel();
				else void reader!.cancel().catch(() => {});
				throw new BodyTooLarge(limit, end, false);
			}
			if (whole && end <= whole.byteLength) {
				whole.set(value, size);
			} else {
				// More than promised (a transport that does not enforce Content-Length): collect the rest.
				if (whole) {
					chunks.push(whole.subarray(0, size));
					whole = undefined;
				}
				chunks.push(value);
			}
			size = end;
		}
	} finally {
		idle?.stop();
		reader?.releaseLock();
	}
	if (whole) return size === whole.byteLength ? whole : whole.subarray(0, size);
	return concat(chunks, size);
}

const preallocateFrom = 256 * 1024;

/** A buffer the size a server declared, or none when the runtime cannot make one (then chunks are kept). */
function allocate(size: number): Uint8Array | undefined {
	try {
		return new Uint8Array(size);
	} catch {
		return undefined;
	}
}

/**
 * A whole body under `maxBodyBytes`: refused by its Content-Length before a byte is read (the body
 * is cancelled), then counted while reading. Rejects like `readAllBytes`.
 */
export function readWhole(response: Response, limit: number | false, idle: IdleWatch | undefined): Promise<Uint8Array> {
	const declared = declaredLength(response.headers);
	if (limit !== false && declared !== undefined && declared > limit) {
		cancelBody(response.body);
		return Promise.reject(new BodyTooLarge(limit, declared, true));
	}
	return readAllBytes(response.body, limit, idle, response, declared);
}

/** Content-Length is the body's exact size only without a content coding (fetch decodes gzip etc.). */
function isExact(headers: Headers): boolean {
	const coding = headers.get('content-encoding');
	return coding === null || coding.trim().toLowerCase() === 'identity';
}

export function concat(chunks: Uint8Array[], size: number): Uint8Array {
	if (chunks.length === 1) return chunks[0]!;
	if (chunks.length === 0) return empty;
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}

export interface BodyWatcher {
	idle: IdleWatch | undefined;
	/** Maps whatever the source failed with to the error the caller should see. */
	failure(error: unknown): unknown;
	/** The body ended (done, errored or cancelled): release the attempt. Called once. */
	settled(outcome: 'done' | 'error' | 'cancel'): void;
	/** Registers a callback for when the attempt is aborted (deadline, caller, close). */
	onAbort(callback: (reason: unknown) => void): void;
}

/**
 * Wraps a body the caller will read: every chunk passes through, gaps are timed, a failure becomes
 * the union member `watcher.failure` picks, and an abort errors the stream even when nobody reads.
 */
export function watchBody(source: ReadableStream<Uint8Array>, watcher: BodyWatcher): ReadableStream<Uint8Array> {
	const reader = source.getReader();
	let finished = false;
	let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
	const finish = (outcome: 'done' | 'error' | 'cancel') => {
		if (finished) return;
		finished = true;
		watcher.idle?.stop();
		watcher.settled(outcome);
	};
	watcher.onAbort((reason) => {
		if (finished) return;
		const error = watcher.failure(reason);
		void reader.cancel(error).catch(() => {});
		try {
			controllerRef?.error(error);
		} catch {}
		finish('error');
	});
	return new ReadableStream<Uint8Array>({
		start(controller) {
			controllerRef = controller;
		},
		async pull(controller) {
			try {
				watcher.idle?.readStarted();
				const {done, value} = await reader.read();
				watcher.idle?.readEnded();
				if (finished) return;
				if (done) {
					controller.close();
					finish('done');
				} else {
					controller.enqueue(value);
				}
			} catch (error) {
				if (finished) return;
				const mapped = watcher.failure(error);
				controller.error(mapped);
				finish('error');
			}
		},
		cancel(reason) {
			finish('cancel');
			return reader.cancel(reason).catch(() => {});
		},
	}, {highWaterMark: 0});
}
