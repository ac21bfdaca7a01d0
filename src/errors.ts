// The error union. Every promise surefetch returns rejects with one of these seven classes (or with
// an error thrown by the caller's own code, untouched). Fields are plain data, messages are one
// line a person can act on, and nothing a log or `console.log` shows holds a secret: the request
// is redacted, the response and its headers are not enumerable, and a cause whose text would
// reveal a secret is replaced by a redacted copy of the same class.

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
	abstract readonly kind: FailureKind;
	readonly request: RequestInfo;
	readonly attempts: number;
	readonly elapsed: number;
	abstract readonly retryable: boolean;

	constructor(context: FailureContext, what: string) {
		const {request, attempts, cause} = context;
		const secrets = context.secrets ?? [];
		const n = attempts > 1 ? ` (after ${attempts} attempts)` : attempts === 1 ? ' (attempt 1)' : '';
		// One line: control characters of foreign text (a server's message) are escaped.
		super(`${request.method} ${request.url}: ${scrub(what, request.url, secrets)}${n}`.replace(/[\r\n\0]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\0')), cause === undefined ? undefined : {cause: safeCause(cause, request.url, secrets)});
		this.request = request;
		this.attempts = attempts;
		this.elapsed = Math.round(context.elapsed);
	}

	get [brand](): true {
		return true;
	}

	/** Plain data for logs: no headers, no body beyond `snippet`, no secrets. */
	toJSON(): Record<string, unknown> {
		const c = this.cause as {name?: unknown; code?: unknown; message?: unknown} | undefined;
		return {
			name: this.name,
			kind: this.kind,
			message: this.message,
			request: {method: this.request.method, url: this.request.url},
			attempts: this.attempts,
			elapsed: this.elapsed,
			retryable: this.retryable,
			...this.details(),
			cause: c == null ? undefined : typeof c === 'object'
				? {name: c.name, code: typeof c.code === 'string' || typeof c.code === 'number' ? c.code : undefined, message: typeof c.message === 'string' ? c.message : undefined}
				: {message: String(c)},
		};
	}

	protected abstract details(): Record<string, unknown>;
}

const nativeErrors = [Error, TypeError, RangeError, SyntaxError, URIError, ReferenceError, EvalError];

/**
 * The cause, untouched, unless a text of it would reveal a secret (a runtime's message quoting the
 * raw URL or a header value; Node's invalid-URL error keeps the raw input in `input`): then a
 * copy of the same class with those texts redacted and nothing else of its own.
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
		if (typeof value !== 'string' || key === 'stack') continue;
		texts[key] = scrub(value, url, secrets);
		if (texts[key] !== value) changed = true;
	}
	if (!changed) return cause;
	const {message} = texts;
	const stack = typeof original.stack === 'string' && typeof original.message === 'string' && message !== undefined ? original.stack.split(original.message).join(message) : undefined;
	const native = nativeErrors.find((type) => Object.getPrototypeOf(cause) === type.prototype);
	const copy = (native ? new native(message) : Object.create(Object.getPrototypeOf(cause))) as Record<string, unknown>;
	const own = (key: string, value: unknown, enumerable = false) => value !== undefined && Object.defineProperty(copy, key, {value, writable: true, configurable: true, enumerable});
	own('name', original.name);
	own('message', message);
	own('stack', stack);
	own('code', original.code, true);
	own('cause', inner);
	return copy;
}

const phaseWords: Record<TimeoutPhase, string> = {
	queue: 'no concurrency or rate slot',
	connect: 'no connection',
	headers: 'no response headers',
	idle: 'the body stalled: no data',
	attempt: 'the attempt did not finish',
	total: 'the request did not finish',
};

export class TimeoutError extends FetchError {
	override readonly name = 'TimeoutError';
	readonly kind = 'timeout' as const;
	readonly retryable = true;
	readonly phase: TimeoutPhase;
	/** The limit that fired, in ms; `undefined` when the runtime's own timer fired. */
	readonly timeout: number | undefined;

	constructor(context: FailureContext & {phase: TimeoutPhase; timeout: number | undefined}) {
		const {phase, timeout} = context;
		super(context, `${phaseWords[phase]} ${timeout === undefined ? 'before the runtime\'s own timer fired' : `within ${timeout} ms`} (timeout.${phase})`);
		this.phase = phase;
		this.timeout = timeout;
	}

	protected details() {
		return {phase: this.phase, timeout: this.timeout};
	}
}

export class AbortedError extends FetchError {
	override readonly name = 'AbortedError';
	readonly kind = 'aborted' as const;
	readonly retryable = false;
	readonly source: AbortSource;
	/** The caller's `signal.reason`, or the reason given to `close()`. */
	readonly reason: unknown;

	constructor(context: FailureContext & {source: AbortSource; reason: unknown}) {
		super(context, context.source === 'client' ? 'aborted because the client was closed' : 'aborted by the caller\'s signal');
		this.source = context.source;
		this.reason = context.reason;
	}

	protected details() {
		const r = this.reason as {name?: unknown; message?: unknown} | null | undefined;
		const type = typeof r;
		let reason: unknown;
		if (r && type === 'object' && typeof r.message === 'string') reason = {name: r.name, message: scrub(r.message, this.request.url, [])};
		else if (type === 'string' || type === 'number' || type === 'boolean') reason = r;
		return {source: this.source, reason};
	}
}

const networkWords: Record<NetworkCode, string> = {
	dns: 'DNS lookup failed',
	refused: 'connection refused',
	reset: 'connection reset',
	tls: 'TLS handshake failed',
	unreachable: 'host unreachable',
	protocol: 'the server broke the HTTP protocol',
	proxy: 'the proxy refused or failed',
	offline: 'the device is offline',
	unknown: 'network error (the runtime gives no reason)',
};

export class NetworkError extends FetchError {
	override readonly name = 'NetworkError';
	readonly kind = 'network' as const;
	readonly code: NetworkCode;
	/** Before (`headers`) or after (`body`) the response headers arrived. */
	readonly phase: 'headers' | 'body';
	readonly retryable: boolean;

	constructor(context: FailureContext & {code: NetworkCode; phase: 'headers' | 'body'; detail?: string | undefined}) {
		const {code, phase, detail} = context;
		super(context, `${networkWords[code]} ${phase === 'body' ? 'while reading the body' : 'before response headers'}${detail ? `: ${detail}` : ''}`);
		this.code = code;
		this.phase = phase;
		// A bad certificate or a broken server does not fix itself between retries.
		this.retryable = code !== 'tls' && code !== 'protocol';
	}

	protected details() {
		return {code: this.code, phase: this.phase};
	}
}

/** Statuses where the same request may well succeed later. */
const transientStatuses = [408, 425, 429, 500, 502, 503, 504];

export class HttpError extends FetchError {
	override readonly name = 'HttpError';
	readonly kind = 'http' as const;
	readonly status: number;
	readonly statusText: string;
	readonly retryable: boolean;
	// Not enumerable: what console.log shows of an error must not carry the response (its URL,
	// its headers) or the body.
	declare readonly headers: Headers;
	/** The response; its body has already been read into `body`. */
	declare readonly response: Response;
	/** The decoded error body: parsed JSON for a JSON media type, else text; `undefined` if unreadable. */
	declare readonly body: unknown;

	constructor(context: FailureContext & {response: Response; body: unknown}) {
		const {response} = context;
		super(context, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
		this.status = response.status;
		this.statusText = response.statusText;
		this.retryable = transientStatuses.includes(response.status);
		Object.defineProperties(this, {
			headers: {value: response.headers},
			response: {value: response},
			body: {value: context.body},
		});
	}

	protected details() {
		return {status: this.status, statusText: this.statusText};
	}
}

const decodeWords: Record<DecodeReason, string> = {
	charset: 'the body could not be decoded',
	json: 'the body is not valid JSON',
	schema: 'the JSON does not match the schema',
	'too-large': 'the body is larger than maxBodyBytes',
	'content-type': 'the response is not JSON',
};

export class DecodeError extends FetchError {
	override readonly name = 'DecodeError';
	readonly kind = 'decode' as const;
	readonly retryable = false;
	readonly reason: DecodeReason;
	readonly charset: string | undefined;
	readonly contentType: string | undefined;
	/** The start of the body, leniently decoded, at most 200 characters. */
	readonly snippet: string | undefined;
	/** The schema's issues, for `reason: 'schema'`. */
	readonly issues: readonly unknown[] | undefined;

	constructor(context: FailureContext & {
		reason: DecodeReason;
		charset?: string | undefined;
		contentType?: string | undefined;
		snippet?: string | undefined;
		issues?: readonly unknown[] | undefined;
		detail?: string | undefined;
	}) {
		const {reason, detail, contentType} = context;
		super(context, `${decodeWords[reason]}${detail ? `: ${detail}` : ''}${contentType === undefined ? '' : ` (content-type: ${contentType || 'none'})`}`);
		this.reason = reason;
		this.charset = context.charset;
		this.contentType = contentType;
		this.snippet = context.snippet;
		this.issues = context.issues;
	}

	protected details() {
		return {reason: this.reason, charset: this.charset, contentType: this.contentType, snippet: this.snippet, issues: this.issues};
	}
}

export class CircuitOpenError extends FetchError {
	override readonly name = 'CircuitOpenError';
	readonly kind = 'circuit-open' as const;
	readonly retryable = true;
	readonly origin: string;
	/** ms until a probe request is allowed. */
	readonly retryAfter: number;

	constructor(context: FailureContext & {origin: string; retryAfter: number}) {
		const retryAfter = Math.max(0, context.retryAfter);
		super(context, `the circuit for ${context.origin} is open; next probe allowed in ${Math.ceil(retryAfter)} ms`);
		this.origin = context.origin;
		this.retryAfter = retryAfter;
	}

	protected details() {
		return {origin: this.origin, retryAfter: this.retryAfter};
	}
}

export class InvalidRequestError extends FetchError {
	override readonly name = 'InvalidRequestError';
	readonly kind = 'invalid' as const;
	readonly retryable = false;
	readonly reason: InvalidReason;

	constructor(context: FailureContext & {reason: InvalidReason; detail: string}) {
		super(context, `invalid request (${context.reason}): ${context.detail}`);
		this.reason = context.reason;
	}

	protected details() {
		return {reason: this.reason};
	}
}
