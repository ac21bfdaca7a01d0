// The global Response the transport resolves with: what fetch gives (the final URL, `redirected`,
// type "basic"), plus the body's source for a reader that wants no stream (`directBody`).

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

export class NodeResponse extends Response {
	readonly #url: string;
	readonly #redirected: boolean;
	readonly #source: BodySource | undefined;

	constructor(body: ReadableStream<Uint8Array> | null, init: ResponseInit, url: string, redirected: boolean, source?: BodySource) {
		super(body, init);
		this.#url = url;
		this.#redirected = redirected;
		this.#source = source;
	}

	override get url(): string {
		return this.#url;
	}

	override get redirected(): boolean {
		return this.#redirected;
	}

	override get type(): ResponseType {
		return 'basic';
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
		return new NodeResponse(copy.body, copy, this.#url, this.#redirected);
	}
}
