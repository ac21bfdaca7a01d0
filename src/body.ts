// Response bodies: read whole (for a reader, or HttpError.body) or passed on to the caller as a
// watched stream; either way the idle deadline and maxBodyBytes watch it, every read is raced with
// the attempt's node (a runtime stream may ignore its abort), and a body not handed on is cancelled.

import {race, type IdleWatch, type SignalNode} from './deadlines.js';

/** Thrown (internally) when a body passes maxBodyBytes; it becomes a DecodeError 'too-large'. */
export class BodyTooLarge {
	constructor(readonly limit: number, readonly seen: number, readonly declared: boolean) {}
}

const noop = () => {};

export function cancelBody(body: ReadableStream | null | undefined, reason?: unknown): void {
	// A locked or finished stream rejects or throws; either way there is nothing left to release.
	try {
		body?.cancel(reason).catch(noop);
	} catch {}
}

export function declaredLength(headers: Headers): number | undefined {
	const value = headers.get('content-length');
	const n = value === null ? Number.NaN : Number(value);
	return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * A transport may hand its body's source next to the Response, as `response[directBody]`: a body
 * read whole then needs no web stream per chunk. The getter gives it only while the stream is
 * untouched. `read()` gives the next chunk (undefined at the end) or rejects as the stream would
 * error; `cancel()` is the stream's cancel.
 */
export const directBody = Symbol.for('surefetch.directBody');

export interface DirectBody {
	read(): Promise<Uint8Array | undefined>;
	cancel(reason?: unknown): void;
}

const empty = new Uint8Array(0);
/** Bodies larger than this with an exact Content-Length are copied into one buffer as they come. */
const preallocateFrom = 256 * 1024;
/** Chunks smaller than this are copied together once a body has more than a few. */
const small = 4096;

/**
 * A whole body under `limit` (false: none): refused by its Content-Length before a byte is read,
 * then counted while reading. Rejects with the node's reason when it aborts (the body is then
 * cancelled in the background), a BodyTooLarge, or what the stream failed with.
 */
export function readWhole(response: Response, limit: number | false, node: SignalNode, idle?: IdleWatch): Promise<Uint8Array> {
	const {body} = response;
	if (!body) return Promise.resolve(empty);
	if (node.aborted) {
		cancelBody(body, node.reason);
		return Promise.reject(node.reason);
	}
	const declared = declaredLength(response.headers);
	if (limit !== false && declared !== undefined && declared > limit) {
		cancelBody(body);
		return Promise.reject(new BodyTooLarge(limit, declared, true));
	}
	const direct = (response as {[directBody]?: DirectBody})[directBody];
	let read: () => Promise<Uint8Array | undefined>;
	let cancel: (reason?: unknown) => void;
	if (direct) {
		read = () => direct.read();
		cancel = (reason) => direct.cancel(reason);
	} else {
		let reader: ReadableStreamDefaultReader<Uint8Array>;
		try {
			reader = body.getReader();
		} catch (error) {
			return Promise.reject(error); // used or locked
		}
		read = () => reader.read().then((r) => r.value ?? (r.done ? undefined : empty));
		cancel = (reason) => void reader.cancel(reason).catch(noop);
	}
	// Copied into one buffer when the length is known exactly: the body once in memory, not twice.
	const exact = declared !== undefined && declared > preallocateFrom && isExact(response.headers) ? allocate(declared) : undefined;
	// One watcher for the whole read: an abort rejects at once and cancels the body in the background.
	return new Promise<Uint8Array>((resolve, reject) => {
		const off = node.watch((reason) => {
			cancel(reason);
			reject(reason);
		});
		collect(read, cancel, limit, idle, exact).then((bytes) => off() && resolve(bytes), (error: unknown) => off() && reject(error));
	});
}

async function collect(read: () => Promise<Uint8Array | undefined>, cancel: () => void, limit: number | false, idle: IdleWatch | undefined, whole: Uint8Array | undefined): Promise<Uint8Array> {
	const chunks: Uint8Array[] = [];
	let pending: Uint8Array | undefined;
	let used = 0;
	let size = 0;
	const flush = () => {
		if (pending) chunks.push(pending.subarray(0, used));
		pending = undefined;
		used = 0;
	};
	try {
		for (;;) {
			idle?.readStarted();
			const value = await read();
			idle?.readEnded();
			if (value === undefined) break;
			const end = size + value.byteLength;
			if (limit !== false && end > limit) {
				cancel();
				throw new BodyTooLarge(limit, end, false);
			}
			if (whole && end <= whole.byteLength) {
				whole.set(value, size);
			} else if (whole) {
				// More than promised (a transport that does not enforce Content-Length): keep the rest apart.
				chunks.push(whole.subarray(0, size), value);
				whole = undefined;
			} else if (value.byteLength < small && chunks.length > 7) {
				// Past a few chunks, small ones are copied together: a body of tiny chunks keeps no object per chunk.
				if (pending && used + value.byteLength > pending.byteLength) flush();
				pending ??= new Uint8Array(16 * small);
				pending.set(value, used);
				used += value.byteLength;
			} else {
				flush();
				chunks.push(value);
			}
			size = end;
		}
	} finally {
		idle?.stop();
	}
	if (whole) return size === whole.byteLength ? whole : whole.subarray(0, size);
	flush();
	return concat(chunks, size);
}

/** A buffer of the declared size, or none when the runtime cannot make one (then chunks are kept). */
function allocate(size: number): Uint8Array | undefined {
	try {
		return new Uint8Array(size);
	} catch {
		return undefined;
	}
}

/** Content-Length is the body's exact size only without a content coding (fetch decodes gzip etc.). */
function isExact(headers: Headers): boolean {
	const coding = headers.get('content-encoding');
	return coding === null || coding.trim().toLowerCase() === 'identity';
}

export function concat(chunks: Uint8Array[], size: number): Uint8Array {
	if (chunks.length === 1) return chunks[0]!;
	const out = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return out;
}

export interface BodyWatcher {
	node: SignalNode;
	idle: IdleWatch | undefined;
	limit: number | false;
	/** The body's Content-Length, when it has one. */
	declared: number | undefined;
	/** Maps what the source failed with (or a BodyTooLarge, or the node's reason) to what the caller sees. */
	failure(error: unknown): unknown;
	/** The body ended (read, errored or cancelled). Called once. */
	settled(): void;
}

/**
 * The stream a caller reads: every chunk passes through (nothing is buffered), gaps are timed, the
 * size is capped, a failure becomes what `failure` picks, and an abort of the node errors the
 * stream at once, even while a read of the source hangs or nobody reads.
 */
export function watchBody(source: ReadableStream<Uint8Array>, watcher: BodyWatcher): ReadableStream<Uint8Array> {
	const reader = source.getReader();
	const {node, idle, limit} = watcher;
	let finished = false;
	let size = 0;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const fail = (error: unknown) => {
		if (finished) return;
		finish();
		void reader.cancel(error).catch(noop);
		try {
			controller.error(watcher.failure(error));
		} catch {}
	};
	const finish = () => {
		finished = true;
		off();
		idle?.stop();
		watcher.settled();
	};
	const off = node.watch(fail);
	return new ReadableStream<Uint8Array>({
		start(c) {
			controller = c;
			if (node.aborted) fail(node.reason);
		},
		async pull(c) {
			if (limit !== false && watcher.declared !== undefined && watcher.declared > limit) return fail(new BodyTooLarge(limit, watcher.declared, true));
			try {
				idle?.readStarted();
				const {done, value} = await race(node, reader.read());
				idle?.readEnded();
				if (finished) return;
				if (done) {
					finish();
					c.close();
					return;
				}
				size += value.byteLength;
				if (limit !== false && size > limit) return fail(new BodyTooLarge(limit, size, false));
				c.enqueue(value);
			} catch (error) {
				fail(error);
			}
		},
		cancel(reason) {
			if (finished) return;
			finish();
			return reader.cancel(reason).catch(noop);
		},
	}, {highWaterMark: 0});
}
