// The global Response the transport resolves with: what fetch gives (the final URL, `redirected`,
// the type), plus the body's source for a reader that wants no stream (`directBody`).

import {directBody, type DirectBody} from '../body.js';
import type {BodySource} from './body.js';

// As in undici's fetch: a Response dropped with its body unread releases its request when it is
// collected, instead of holding a pooled connection until undici's body timeout (300 s). Only for
// bodies still coming (see Exchange.respond): a registered object survives every minor GC, which
// cost 8-20 µs per request when every Response was registered.
const abandoned = new FinalizationRegistry<BodySource>((source) => source.abandon());

export function releaseWhenCollected(response: Response, source: BodySource): void {
	abandoned.register(response, source);
}

// A body stream that is not the source's own (a clone's tee branch, undici's fetch's body) is
// cancelled when its Response is collected, unless someone reads it: as in undici's fetch. With
// both branches of a clone cancelled the tee cancels the source, which releases the request. The
// stream is held strongly: nothing else may keep it (a tee branch nobody reads).
const unread = new FinalizationRegistry<ReadableStream>((stream) => {
	if (!stream.locked) stream.cancel(new Error('Response object has been garbage collected')).catch(() => {});
});

export function cancelWhenCollected(response: Response, stream: ReadableStream): void {
	unread.register(response, stream);
}

export class NodeResponse extends Response {
	readonly #url: string;
	readonly #redirected: boolean;
	readonly #type: ResponseType;
	readonly #source: BodySource | undefined;

	constructor(body: ReadableStream<Uint8Array> | null, init: ResponseInit | undefined, url: string, redirected: boolean, type: ResponseType, source?: BodySource) {
		super(body, init);
		this.#url = url;
		this.#redirected = redirected;
		this.#type = type;
		this.#source = source;
	}

	override get url(): string {
		return this.#url;
	}

	override get redirected(): boolean {
		return this.#redirected;
	}

	override get type(): ResponseType {
		return this.#type;
	}

	/** A direct read counts, as reading the stream does. */
	override get bodyUsed(): boolean {
		return super.bodyUsed || (this.#source?.used ?? false);
	}

	get [directBody](): DirectBody | undefined {
		return this.#source?.direct;
	}

	override clone(): Response {
		if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
		// The body is teed: the source now feeds the stream only, and the copy gets no direct reader.
		const copy = super.clone();
		const clone = makeResponse(copy.body, this.status, this.statusText, copy.headers, this.#url, this.#redirected, this.#type);
		const own = super.body;
		if (own && copy.body) {
			cancelWhenCollected(this, own);
			cancelWhenCollected(clone, copy.body);
		}
		return clone;
	}
}

/**
 * A status line the Response constructor refuses (`HTTP/1.1 999 Weird`, a reason phrase outside
 * latin1) is handed over as fetch hands it: fetch builds its Response internally, without the
 * constructor's checks, which a global Response cannot do. This one is built as a 200 and reports
 * the status and text that came; `ok` follows the status.
 */
class UncheckedStatusResponse extends NodeResponse {
	readonly #status: number;
	readonly #statusText: string;

	constructor(body: ReadableStream<Uint8Array> | null, status: number, statusText: string, url: string, redirected: boolean, type: ResponseType, source?: BodySource) {
		super(body, undefined, url, redirected, type, source);
		this.#status = status;
		this.#statusText = statusText;
	}

	// The Response constructor reads these before this constructor has set them.
	override get status(): number {
		return #status in this ? this.#status : super.status;
	}

	override get statusText(): string {
		return #statusText in this ? this.#statusText : super.statusText;
	}

	override get ok(): boolean {
		return #status in this ? this.#status >= 200 && this.#status <= 299 : super.ok;
	}
}

/** A NodeResponse, never a throw: a status line the constructor refuses still makes one. */
export function makeResponse(body: ReadableStream<Uint8Array> | null, status: number, statusText: string, headers: Headers | undefined, url: string, redirected: boolean, type: ResponseType, source?: BodySource): NodeResponse {
	let response: NodeResponse;
	try {
		response = new NodeResponse(body, {status, statusText}, url, redirected, type, source);
	} catch {
		response = new UncheckedStatusResponse(body, status, statusText, url, redirected, type, source);
	}
	if (headers) for (const [name, value] of headers) response.headers.append(name, value);
	return response;
}
