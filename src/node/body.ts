// A response body as undici delivers it: one queue of chunks that two readers can drain, the web
// ReadableStream of the Response (pulled lazily: nothing is enqueued until someone reads) and the
// direct reader of `response[directBody]` (no stream machinery per chunk). Whichever is used first
// wins. Backpressure: past `highWater` queued bytes the producer is told to pause, and it is
// asked for more once a reader has taken the queue below that again.
//
// Small chunks are copied into a shared buffer instead of being queued one by one: a body of
// 1-byte chunks (chunked encoding lets a server send 10,000 of them in one socket read) would
// otherwise cost an object of ~100 bytes per byte queued, and a reader that keeps what it reads
// would keep them all. Queued memory stays within a small multiple of the bytes queued.

import type {DirectBody} from '../body.js';

const highWater = 64 * 1024;
/** Chunks below this size are coalesced ... */
const small = 2048;
/** ... into buffers of this size. */
const slab = 16 * 1024;
const done = Promise.resolve(undefined);

/** What feeds a BodySource: the exchange (undici's request, or the decoder in front of it). */
export interface BodyProducer {
	/** The queue went below the high-water mark after a `push` returned false. */
	more(): void;
	/** The body will not be read to the end (cancelled, errored): release the request. Called once. */
	stop(reason: unknown): void;
	/** The reader saw the end, an error or a cancel: nothing more to watch. Called once. */
	bodyDone(): void;
}

const enum State {Open, Ended, Closed, Errored}

export class BodySource implements UnderlyingDefaultSource<Uint8Array>, DirectBody {
	readonly stream: ReadableStream<Uint8Array>;
	private chunks: Uint8Array[] = [];
	/** Small chunks queued after `chunks`, copied into `slab[0, slabUsed)`. */
	private slab: Uint8Array | undefined = undefined;
	private slabUsed = 0;
	private queued = 0;
	private full = false;
	private state = State.Open;
	private failure: unknown = undefined;
	private controller: ReadableStreamDefaultController<Uint8Array> | undefined = undefined;
	/** The stream asked for a chunk and got none yet: the next push goes straight to it. */
	private streamWaits = false;
	private pulled = false;
	private waiter: {resolve: (chunk: Uint8Array | undefined) => void; reject: (error: unknown) => void} | undefined = undefined;
	/** A direct read happened (the Response's body counts as used). */
	used = false;

	constructor(private readonly producer: BodyProducer) {
		this.stream = new ReadableStream<Uint8Array>(this, {highWaterMark: 0});
	}

	/** The direct reader, while the stream is untouched. */
	get direct(): DirectBody | undefined {
		return this.pulled || this.stream.locked ? undefined : this;
	}

	// --- producer side ---

	/** Returns false when the producer should pause until `more()`. */
	push(buffer: Uint8Array): boolean {
		const size = buffer.byteLength;
		if (this.state !== State.Open || size === 0) return true;
		if (this.streamWaits) {
			this.streamWaits = false;
			this.controller!.enqueue(asPlain(buffer));
			return true;
		}
		const waiter = this.waiter;
		if (waiter) {
			this.waiter = undefined;
			waiter.resolve(asPlain(buffer));
			return true;
		}
		if (size >= small) {
			if (this.slab) this.closeSlab();
			this.chunks.push(asPlain(buffer));
		} else if (this.slab) {
			if (this.slabUsed + size > slab) {
				this.closeSlab();
				this.slab = new Uint8Array(slab);
			}
			this.slab.set(buffer, this.slabUsed);
			this.slabUsed += size;
		} else {
			// A slab only once two small chunks queue up: a small body alone is queued as it came.
			const {chunks} = this;
			const last = chunks[chunks.length - 1];
			if (last !== undefined && last.byteLength < small) {
				chunks.pop();
				this.slab = new Uint8Array(slab);
				this.slab.set(last);
				this.slab.set(buffer, last.byteLength);
				this.slabUsed = last.byteLength + size;
			} else {
				chunks.push(asPlain(buffer));
			}
		}
		this.queued += size;
		if (this.queued < highWater) return true;
		this.full = true;
		return false;
	}

	end(): void {
		if (this.state !== State.Open) return;
		this.state = State.Ended;
		if (this.queued > 0) return;
		if (this.streamWaits) {
			this.streamWaits = false;
			this.controller!.close();
			this.close();
		} else if (this.waiter) {
			const waiter = this.waiter;
			this.waiter = undefined;
			waiter.resolve(undefined);
			this.close();
		}
	}

	/** Errors both readers with `error` (queued chunks are dropped, as a stream's queue is). */
	fail(error: unknown): void {
		if (this.state === State.Closed || this.state === State.Errored) return;
		const wasOpen = this.state === State.Open;
		this.state = State.Errored;
		this.failure = error;
		this.drop();
		this.streamWaits = false;
		try {
			this.controller!.error(error);
		} catch {}
		const waiter = this.waiter;
		this.waiter = undefined;
		waiter?.reject(error);
		if (wasOpen) this.producer.stop(error);
		this.producer.bodyDone();
	}

	// --- reader side (the stream's underlying source, and the direct reader) ---

	start(controller: ReadableStreamDefaultController<Uint8Array>): void {
		this.controller = controller;
	}

	pull(controller: ReadableStreamDefaultController<Uint8Array>): void {
		this.pulled = true;
		if (this.queued > 0) {
			controller.enqueue(this.take());
		} else if (this.state === State.Open) {
			this.streamWaits = true;
		} else if (this.state === State.Ended) {
			controller.close();
			this.close();
		} else if (this.state === State.Closed) {
			controller.close();
		}
	}

	read(): Promise<Uint8Array | undefined> {
		this.used = true;
		if (this.queued > 0) return Promise.resolve(this.take());
		switch (this.state) {
			case State.Open:
				return new Promise((resolve, reject) => {
					this.waiter = {resolve, reject};
				});
			case State.Ended:
				this.close();
				return done;
			case State.Errored:
				return Promise.reject(this.failure);
			default:
				return done;
		}
	}

	cancel(reason?: unknown): void {
		if (this.state === State.Closed || this.state === State.Errored) return;
		const wasOpen = this.state === State.Open;
		this.state = State.Closed;
		this.drop();
		const waiter = this.waiter;
		this.waiter = undefined;
		waiter?.resolve(undefined);
		if (wasOpen) this.producer.stop(reason);
		this.producer.bodyDone();
	}

	/** Its Response was collected: cancel unless someone still reads (the stream may outlive it). */
	abandon(): void {
		if (!this.pulled && !this.used && !this.stream.locked) this.cancel(new Error('Response object has been garbage collected'));
	}

	private take(): Uint8Array {
		if (this.chunks.length === 0) this.closeSlab();
		const chunk = this.chunks.shift()!;
		this.queued -= chunk.byteLength;
		// The last chunk of an ended body leaves the state Ended: the reader's next read closes it.
		// Till then an abort still errors the body, as fetch's stream (closed on the pull after its
		// last chunk) is errored by an abort before its reader saw the end.
		if (this.full && this.queued < highWater) {
			this.full = false;
			this.producer.more();
		}
		return chunk;
	}

	/** The slab joins the queue; a mostly empty one is copied out, so it never holds 16 KiB for a byte. */
	private closeSlab(): void {
		const {slab: buffer, slabUsed: used} = this;
		if (buffer === undefined) return;
		this.slab = undefined;
		this.slabUsed = 0;
		if (used > 0) this.chunks.push(used * 2 < buffer.byteLength ? buffer.slice(0, used) : buffer.subarray(0, used));
	}

	private drop(): void {
		this.chunks = [];
		this.slab = undefined;
		this.slabUsed = 0;
		this.queued = 0;
	}

	private close(): void {
		this.state = State.Closed;
		this.producer.bodyDone();
	}
}

/** Readers get plain Uint8Arrays, as from fetch, not Buffers (a view: undici's chunks are not reused). */
function asPlain(chunk: Uint8Array): Uint8Array {
	return chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
