// The Response surefetch hands on when it rebuilds one (a buffered error body, a watched body the
// caller reads). Rebuilding never throws: the Response is made with status 200 and reports the
// original status, statusText, url, redirected and type through getters, so a status fetch allows
// but `new Response()` refuses (999, or a 204 with a body) goes through as fetch handed it. Its
// body methods reject with the union (the getters answer for the original only once the
// constructor has run: Response's own constructor reads some of them): Chromium's `text()` on an errored stream rejects with a bare
// `TypeError: Failed to fetch`, so the stream's failure is kept and restored here.

import {isFetchError} from './errors.js';

interface Origin {
	status: number;
	statusText: string;
	url: string;
	redirected: boolean;
	type: ResponseType;
}

export class SurefetchResponse extends Response {
	readonly #origin: Origin;
	/** The failure the body stream was errored with, if any. */
	bodyFailure: unknown = undefined;
	/** The whole body, when an attempt read it. */
	bodyBytes: Uint8Array | undefined = undefined;
	/** A watched body the caller has not finished: the operation stays open for it. */
	open = false;
	/** HttpError.body, decoded when the attempt read an error body (`undefined`: unreadable). */
	errorBody: unknown = undefined;

	constructor(body: BodyInit | null, from: Origin & {headers: Headers}) {
		super(body, {headers: from.headers});
		const {status, statusText, url, redirected, type} = from;
		this.#origin = {status, statusText, url, redirected, type};
	}

	override get status(): number {
		return #origin in this ? this.#origin.status : super.status;
	}

	override get statusText(): string {
		return #origin in this ? this.#origin.statusText : super.statusText;
	}

	override get ok(): boolean {
		const {status} = this;
		return status >= 200 && status < 300;
	}

	override get url(): string {
		return #origin in this ? this.#origin.url : super.url;
	}

	override get redirected(): boolean {
		return #origin in this ? this.#origin.redirected : super.redirected;
	}

	override get type(): ResponseType {
		return #origin in this ? this.#origin.type : super.type;
	}

	override clone(): Response {
		const copy = super.clone();
		return new SurefetchResponse(copy.body, {...this.#origin, headers: copy.headers});
	}

	override text(): Promise<string> {
		return this.#guard(super.text());
	}

	override json(): Promise<any> {
		return this.#guard(super.json());
	}

	override arrayBuffer(): Promise<ArrayBuffer> {
		return this.#guard(super.arrayBuffer());
	}

	override blob(): Promise<Blob> {
		return this.#guard(super.blob());
	}

	override formData(): Promise<FormData> {
		return this.#guard(super.formData());
	}

	override bytes(): Promise<Uint8Array<ArrayBuffer>> {
		const bytes = (Response.prototype as {bytes?: () => Promise<Uint8Array<ArrayBuffer>>}).bytes;
		return this.#guard(bytes ? bytes.call(this) : super.arrayBuffer().then((buffer) => new Uint8Array(buffer)));
	}

	#guard<T>(read: Promise<T>): Promise<T> {
		return read.catch((error: unknown) => {
			// A parse error of the caller's own response.json() stays a SyntaxError: it is fetch's API.
			const cause = (error as {cause?: unknown} | undefined)?.cause;
			throw this.bodyFailure ?? (isFetchError(cause) ? cause : error);
		});
	}
}
