// A request body, sent the way fetch sends it. fetch tells two kinds of body apart by their
// "source": a body made from a string, bytes, a Blob, FormData or URLSearchParams has one (it goes
// out with a Content-Length and is sent again to follow a 307/308), a ReadableStream the caller
// gave has none (it goes out chunked, and a redirect that would send it again fails instead).
//
// A global Request does not show its body's source, so it is found out this way:
// - fetch makes the stream of every body with a source as a byte stream (`type: 'bytes'`, Node 22,
//   24 and 26); a caller's stream usually is not: a stream that is not a byte stream is probed
//   (below), one that ends at once is taken as bytes (a string or bytes, what ky sends: the hot
//   path, which costs one BYOB-reader check) and probed only if a redirect wants to send it again;
// - the probe asks the Request constructor, which refuses a no-cors copy of a body without a
//   source ("If request is made from ReadableStream, ...") and, for a body with one, then refuses
//   the copy because the body is in use: `new Request(request, {mode: 'no-cors'})` on the locked
//   body throws either way, and the message says which (the same on Node 22, 24 and 26; tested).
// A body with a source that does not end at once (a file-backed Blob, FormData) is read whole
// before it is sent, so it has its Content-Length and can be sent again, as with fetch (which knows
// the length without reading; this costs the body's size in memory).
import {concat} from '../body.js';

export type WireBody = Uint8Array | AsyncIterable<Uint8Array>;

const noBytes = new Uint8Array(0);

export class OutgoingBody {
	/** What undici sends: bytes (with a Content-Length) or a stream (chunked). Set by `prepare`. */
	wire: WireBody = noBytes;
	private reader: ReadableStreamDefaultReader<Uint8Array> | undefined = undefined;
	private cancelled = false;
	/** fetch's "source is null": undefined until it is needed (see `fromStream`). */
	private sourceless: boolean | undefined = undefined;

	constructor(private readonly request: Request, private readonly stream: ReadableStream<Uint8Array>) {}

	/** Reads as much as it takes to know how to send the body. Stops early when cancelled. */
	async prepare(): Promise<void> {
		const {stream} = this;
		const bytes = isByteStream(stream);
		const reader = this.reader = stream.getReader();
		if (!bytes && this.fromStream()) {
			this.wire = streamed(reader, undefined, undefined);
			return;
		}
		const first = await reader.read();
		if (first.done) return this.ended(noBytes);
		const next = reader.read();
		// One macrotask at most: a string or bytes body has ended by then (fetch closes it in a microtask).
		const second = await Promise.race([next, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
		if (second?.done) return this.ended(first.value);
		if (this.cancelled) return;
		if (this.fromStream()) {
			this.wire = streamed(reader, first.value, next);
			return;
		}
		const chunks = [first.value];
		let size = first.value.byteLength;
		for (let result = await next; !result.done; result = await reader.read()) {
			chunks.push(result.value);
			size += result.value.byteLength;
		}
		if (this.cancelled) return;
		this.ended(concat(chunks, size));
	}

	/** fetch's "body's source is null" (see the top of this file). */
	fromStream(): boolean {
		if (this.sourceless === undefined) {
			try {
				// The body is locked (we read it): this throws, and the message says why.
				new Request(this.request, {mode: 'no-cors', method: 'POST', cache: 'default', signal: null});
				this.sourceless = false;
			} catch (error) {
				this.sourceless = error instanceof TypeError && /ReadableStream/.test(error.message);
			}
		}
		return this.sourceless;
	}

	/** Whether a redirect may send it again: bytes that came from a source, never a stream. */
	replayable(): boolean {
		return this.wire instanceof Uint8Array && !this.fromStream();
	}

	/** An abort: the caller's stream is cancelled, as fetch cancels a request body (an open file is closed). */
	cancel(reason: unknown): void {
		if (this.cancelled) return;
		this.cancelled = true;
		const {reader, stream} = this;
		if (reader) void reader.cancel(reason).catch(noop);
		else if (!stream.locked) void stream.cancel(reason).catch(noop);
	}

	private ended(bytes: Uint8Array): void {
		this.reader!.releaseLock();
		this.reader = undefined;
		this.wire = bytes;
	}
}

function noop(): void {}

/** A byte stream takes a BYOB reader; taking one and letting go leaves the stream as it was. */
function isByteStream(stream: ReadableStream): boolean {
	try {
		stream.getReader({mode: 'byob'}).releaseLock();
		return true;
	} catch {
		return false;
	}
}

/** The caller's stream as undici reads a body: chunk by chunk, cancelled if undici stops early. */
async function* streamed(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array | undefined, next: Promise<ReadableStreamReadResult<Uint8Array>> | undefined): AsyncGenerator<Uint8Array> {
	let ended = false;
	try {
		if (first) yield first;
		for (let result = await (next ?? reader.read()); !result.done; result = await reader.read()) yield result.value;
		ended = true;
	} finally {
		// undici stopped early (the request failed or was aborted): the caller's stream is released.
		if (!ended) void reader.cancel().catch(noop);
		else reader.releaseLock();
	}
}
