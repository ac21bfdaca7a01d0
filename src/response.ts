// The Response surefetch hands on when it had to rebuild one (a buffered body, or a watched body the
// caller reads). It keeps the original's url/redirected/type, and its body methods reject with the
// union: Chromium's Response.text() on an errored stream rejects with a bare `TypeError: Failed to
// fetch`, dropping the stream's error, so the error is kept here and restored.

import {isFetchError} from './errors.js';

interface Origin {
	url: string;
	redirected: boolean;
	type: ResponseType;
}

export class SurefetchResponse extends Response {
	#origin: Origin;
	/** The failure the body stream was errored with, if any. */
	bodyFailure: unknown = undefined;
	/** The whole body, when an attempt read it for a reader. */
	bodyBytes: Uint8Array | undefined = undefined;
	/** A watched body the caller has not finished reading: the operation stays open for it. */
	open = false;
	/** HttpError.body, decoded when the attempt read an error body (`undefined`: unreadable). */
	errorBody: unknown = undefined;
	hasErrorBody = false;

	constructor(body: BodyInit | null, from: Response | SurefetchResponse, origin?: Origin) {
		super(body, {status: from.status, statusText: from.statusText, headers: from.headers});
		this.#origin = origin ?? {url: from.url, redirected: from.redirected, type: from.type};
	}

	override get url(): string {
		return this.#origin.url;
	}

	override get redirected(): boolean {
		return this.#origin.redirected;
	}

	override get type(): ResponseType {
		return this.#origin.type;
	}

	override clone(): Response {
		const copy = super.clone();
		return new SurefetchResponse(copy.body, copy, this.#origin);
	}

	override text(): Promise<string> {
		return super.text().catch((error: unknown) => this.#rethrow(error));
	}

	override json(): Promise<any> {
		return super.json().catch((error: unknown) => this.#rethrow(error));
	}

	override arrayBuffer(): Promise<ArrayBuffer> {
		return super.arrayBuffer().catch((error: unknown) => this.#rethrow(error));
	}

	override blob(): Promise<Blob> {
		return super.blob().catch((error: unknown) => this.#rethrow(error));
	}

	override formData(): Promise<FormData> {
		return super.formData().catch((error: unknown) => this.#rethrow(error));
	}

	override bytes(): Promise<Uint8Array<ArrayBuffer>> {
		const bytes = (Response.prototype as {bytes?: () => Promise<Uint8Array<ArrayBuffer>>}).bytes;
		const read = bytes ? bytes.call(this) : super.arrayBuffer().then((buffer) => new Uint8Array(buffer));
		return read.catch((error: unknown) => this.#rethrow(error));
	}

	#rethrow(error: unknown): never {
		// A parse error of the caller's own response.json() stays a SyntaxError: it is fetch's API.
		throw this.bodyFailure ?? (isFetchError(error) ? error : findFetchError(error) ?? error);
	}
}

function findFetchError(error: unknown): unknown {
	const cause = (error as {cause?: unknown} | undefined)?.cause;
	return isFetchError(cause) ? cause : undefined;
}
