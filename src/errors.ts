// The error union. Every promise surefetch returns rejects with one of these seven classes (or with
// an error thrown by the caller's own code, untouched). Fields are plain data, messages are one
// line a person can act on, and nothing a log or `console.log` shows holds a secret: the request
// is redacted, an HttpError's response, headers and body are not enumerable, and a cause whose
// text would reveal a secret is replaced by a redacted copy of the same class.

import {scrub} from './redact.js';

export type FailureKind = FetchFailure['kind'];
export type TimeoutPhase = 'queue' | 'connect' | 'headers' | 'idle' | 'attempt' | 'total';
export type NetworkCode = 'dns' | 'refused' | 'reset' | 'tls' | 'unreachable' | 'protocol' | 'proxy' | 'offline' | 'unknown';
export type DecodeReason = 'charset' | 'json' | 'schema' | 'too-large' | 'content-type';
export type InvalidReason = 'url' | 'header' | 'method' | 'body' | 'option';
export type AbortSource = 'signal' | 'client';

export type FetchFailure =
	| TimeoutError
	| AbortedError
	| NetworkError
	| HttpError
	| DecodeError
	| CircuitOpenError
	| InvalidRequestError;

/** What a message and a log line may say about the request: its method and redacted URL. */
export interface RequestInfo {
	readonly method: string;
	readonly url: string;
}

/** What every failure starts from. `secrets`: texts (the raw URL's secrets, header values) that must not appear in `cause`. */
export interface FailureContext {
	request: RequestInfo;
	attempts: number;
	elapsed: number;
	cause?: unknown;
	secrets?: readonly string[];
}

// A brand instead of `instanceof` alone: two copies of the package (or two realms) still agree.
const brand = Symbol.for('surefetch.FetchError');

export function isFetchError(value: unknown): value is FetchFailure {
	return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

export abstract class FetchError extends Error {
	declare readonly kind: FailureKind;
	declare readonly request: RequestInfo;
	declare readonly attempts: number;
	declare readonly elapsed: number;
	declare readonly retryable: boolean;

	/** `fields`: the class's own fields, `kind` and `retryable` first. */
	constructor(context: FailureContext, what: string, fields: object) {
		const {request, attempts, cause, secrets = []} = context;
		const n = attempts > 1 ? ` (after ${attempts} attempts)` : attempts ? ' (attempt 1)' : '';
		// One line: control characters of foreign text (a server's message) are escaped.
		super(`${request.method} ${request.url}: ${scrub(what, request.url, secrets)}${n}`.replace(/[\r\n\0]/g, (c) => JSON.stringify(c).slice(1, -1)), cause === undefined ? undefined : {cause: safeCause(cause, request.url, secrets)});
		Object.assign(this, fields, {request, attempts, elapsed: Math.round(context.elapsed)});
	}

	get [brand](): true {
		return true;
	}

	/** Plain data for logs: no headers, no body beyond `snippet`, no secrets. */
	toJSON(): Record<string, unknown> {
		const c = this.cause as {name?: unknown; code?: unknown; message?: unknown} | undefined;
		return Object.assign({name: this.name, kind: this.kind, message: this.message} as Record<string, unknown>, this, {
			cause: c == null ? undefined : typeof c === 'object' ? {name: c.name, code: c.code, message: c.message} : {message: String(c)},
		});
	}
}

const nativeErrors = [Error, TypeError, RangeError, SyntaxError, URIError, ReferenceError, EvalError];

/**
 * The cause, untouched, unless a text of it would reveal a secret (a runtime's message quoting the
 * raw URL or a header value; Node's invalid-URL error keeps the raw input in `input`): then a copy
 * of the same class with those texts redacted and nothing else of its own.
 */
export function safeCause(cause: unknown, url: string, secrets: readonly string[]): unknown {
	if (typeof cause !== 'object' || cause === null || isFetchError(cause)) return cause;
	const original = cause as Record<string, unknown>;
	const inner = 'cause' in original ? safeCause(original.cause, url, secrets) : undefined;
	let changed = inner !== original.cause;
	const texts: Record<string, string> = {};
	// `stack` repeats the message; its frames (file URLs, module queries) are not the request's.
	for (const key of ['message', ...Object.keys(original)]) {
		const value = original[key];
		if (typeof value === 'string' && key !== 'stack') changed = (texts[key] = scrub(value, url, secrets)) !== value || changed;
	}
	if (!changed) return cause;
	const message = texts.message!;
	const native = nativeErrors.find((type) => Object.getPrototypeOf(cause) === type.prototype);
	const copy = (native ? new native(message) : Object.create(Object.getPrototypeOf(cause))) as object;
	const stack = original.stack;
	for (const [key, value] of Object.entries({
		name: original.name,
		message,
		stack: typeof stack === 'string' ? stack.split(String(original.message)).join(message) : undefined,
		code: original.code,
		cause: inner,
	})) {
		if (value !== undefined) Object.defineProperty(copy, key, {value, writable: true, configurable: true, enumerable: key === 'code'});
	}
	return copy;
}

export class TimeoutError extends FetchError {
	declare readonly kind: 'timeout';
	declare readonly retryable: true;
	declare readonly phase: TimeoutPhase;
	/** The limit that fired, in ms; `undefined` when the runtime's own timer fired. */
	declare readonly timeout: number | undefined;

	constructor(context: FailureContext & {phase: TimeoutPhase; timeout: number | undefined}) {
		const {phase, timeout} = context;
		super(context, `timeout.${phase} ${timeout === undefined ? '(the runtime\'s own timer) fired' : `of ${timeout} ms passed`}`, {name: 'TimeoutError', kind: 'timeout', retryable: true, phase, timeout});
	}
}

export class AbortedError extends FetchError {
	declare readonly kind: 'aborted';
	declare readonly retryable: false;
	declare readonly source: AbortSource;
	/** The caller's `signal.reason`, or the reason given to `close()`. */
	declare readonly reason: unknown;

	constructor(context: FailureContext & {source: AbortSource; reason: unknown}) {
		const {source, reason} = context;
		super(context, `aborted by ${source === 'client' ? 'client.close()' : 'the caller\'s signal'}`, {name: 'AbortedError', kind: 'aborted', retryable: false, source, reason});
	}

	override toJSON() {
		const r = this.reason as {name?: unknown; message?: unknown} | null;
		const json = super.toJSON();
		// A reason is the caller's: only its name and message, or a plain value.
		json.reason = r instanceof Object ? {name: r.name, message: typeof r.message === 'string' ? scrub(r.message, this.request.url, []) : undefined} : r;
		return json;
	}
}

export class NetworkError extends FetchError {
	declare readonly kind: 'network';
	declare readonly retryable: boolean;
	declare readonly code: NetworkCode;
	/** Before (`headers`) or after (`body`) the response headers arrived. */
	declare readonly phase: 'headers' | 'body';

	constructor(context: FailureContext & {code: NetworkCode; phase: 'headers' | 'body'; detail?: string | undefined}) {
		const {code, phase, detail} = context;
		// A bad certificate or a broken server does not fix itself between retries.
		super(context, `network error (${code}) ${phase === 'body' ? 'while reading the body' : 'before the response headers'}${detail ? `: ${detail}` : ''}`, {name: 'NetworkError', kind: 'network', retryable: code !== 'tls' && code !== 'protocol', code, phase});
	}
}

export class HttpError extends FetchError {
	declare readonly kind: 'http';
	declare readonly retryable: boolean;
	declare readonly status: number;
	declare readonly statusText: string;
	/** Not enumerable, like `response` and `body`: what console.log shows must not carry them. */
	declare readonly headers: Headers;
	/** The response; its body has already been read into `body`. */
	declare readonly response: Response;
	/** The decoded error body: parsed JSON for a JSON media type, else text; `undefined` if unreadable. */
	declare readonly body: unknown;

	constructor(context: FailureContext & {response: Response; body: unknown}) {
		const {response} = context;
		const {status, statusText} = response;
		// Where the same request may well succeed later.
		super(context, `HTTP ${status} ${statusText}`.trim(), {name: 'HttpError', kind: 'http', retryable: [408, 425, 429, 500, 502, 503, 504].includes(status), status, statusText});
		Object.defineProperties(this, {headers: {value: response.headers}, response: {value: response}, body: {value: context.body}});
	}
}

export class DecodeError extends FetchError {
	declare readonly kind: 'decode';
	declare readonly retryable: false;
	declare readonly reason: DecodeReason;
	declare readonly charset: string | undefined;
	declare readonly contentType: string | undefined;
	/** The start of the body, leniently decoded, at most 200 characters. */
	declare readonly snippet: string | undefined;
	/** The schema's issues, for `reason: 'schema'`. */
	declare readonly issues: readonly unknown[] | undefined;

	constructor(context: FailureContext & {reason: DecodeReason; charset?: string | undefined; contentType?: string | undefined; snippet?: string | undefined; issues?: readonly unknown[] | undefined; detail?: string | undefined}) {
		const {reason, detail, contentType, charset, snippet, issues} = context;
		super(context, `cannot decode the body (${reason})${detail ? `: ${detail}` : ''}${contentType === undefined ? '' : ` (content-type: ${contentType || 'none'})`}`, {name: 'DecodeError', kind: 'decode', retryable: false, reason, charset, contentType, snippet, issues});
	}
}

export class CircuitOpenError extends FetchError {
	declare readonly kind: 'circuit-open';
	declare readonly retryable: true;
	declare readonly origin: string;
	/** ms until a probe request is allowed. */
	declare readonly retryAfter: number;

	constructor(context: FailureContext & {origin: string; retryAfter: number}) {
		const retryAfter = Math.max(0, context.retryAfter);
		super(context, `the circuit for ${context.origin} is open: next probe in ${Math.ceil(retryAfter)} ms`, {name: 'CircuitOpenError', kind: 'circuit-open', retryable: true, origin: context.origin, retryAfter});
	}
}

export class InvalidRequestError extends FetchError {
	declare readonly kind: 'invalid';
	declare readonly retryable: false;
	declare readonly reason: InvalidReason;

	constructor(context: FailureContext & {reason: InvalidReason; detail: string}) {
		super(context, `invalid request (${context.reason}): ${context.detail}`, {name: 'InvalidRequestError', kind: 'invalid', retryable: false, reason: context.reason});
	}
}
