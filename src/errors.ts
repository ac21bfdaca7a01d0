// The error union. Every promise surefetch returns rejects with one of these seven classes (or with
// an error thrown by the caller's own code, untouched). Fields are plain data, messages are one
// line a person can act on, and toJSON() is safe to log.

export type FailureKind = FetchFailure['kind'];
export type TimeoutPhase = 'queue' | 'connect' | 'headers' | 'idle' | 'attempt' | 'total';
export type NetworkCode = 'dns' | 'refused' | 'reset' | 'tls' | 'unreachable' | 'protocol' | 'offline' | 'unknown';
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

/** Fields every failure carries, filled in by the code that knows them. */
export interface FailureContext {
	request: RequestInfo;
	attempts: number;
	elapsed: number;
	cause?: unknown;
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
		super(composeMessage(context, what), context.cause === undefined ? undefined : {cause: context.cause});
		this.request = context.request;
		this.attempts = context.attempts;
		this.elapsed = Math.round(context.elapsed);
	}

	get [brand](): true {
		return true;
	}

	/** Plain data for logs: no headers, no body beyond `snippet`, no secrets. */
	toJSON(): Record<string, unknown> {
		return {
			name: this.name,
			kind: this.kind,
			message: this.message,
			request: {method: this.request.method, url: this.request.url},
			attempts: this.attempts,
			elapsed: this.elapsed,
			retryable: this.retryable,
			...this.details(),
			cause: describeCause(this.cause, this.request.url),
		};
	}

	protected abstract details(): Record<string, unknown>;
}

function composeMessage(context: FailureContext, what: string): string {
	const {request, attempts} = context;
	const attempt = attempts > 1 ? ` (after ${attempts} attempts)` : attempts === 1 ? ' (attempt 1)' : '';
	// One line: control characters from foreign text (a header value, a server's message) are escaped.
	return `${request.method} ${request.url}: ${scrubUrls(what, request.url)}${attempt}`.replace(/[\r\n\0]/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : '\\0'));
}

// A cause is summarised, never serialised whole: runtime messages may quote the raw URL.
function describeCause(cause: unknown, redactedUrl: string): unknown {
	if (cause === undefined || cause === null) return undefined;
	if (isFetchError(cause)) return {name: cause.name, kind: cause.kind, message: cause.message};
	if (typeof cause === 'object') {
		const c = cause as {name?: unknown; message?: unknown; code?: unknown};
		const out: Record<string, unknown> = {};
		if (typeof c.name === 'string') out.name = c.name;
		if (typeof c.code === 'string' || typeof c.code === 'number') out.code = c.code;
		if (typeof c.message === 'string') out.message = scrubUrls(c.message, redactedUrl);
		return out;
	}
	return {message: scrubUrls(String(cause), redactedUrl)};
}

// Any URL-looking run in a foreign message is replaced by the request's redacted URL text.
function scrubUrls(text: string, redactedUrl: string): string {
	return text.replace(/[a-z][\d+.a-z-]*:\/\/[^\s"'<>]+/gi, (match) => (match.includes('@') || match.includes('?') ? redactedUrl : match));
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
	readonly phase: TimeoutPhase;
	/** The limit that fired, in ms; `undefined` when the runtime's own timer fired. */
	readonly timeout: number | undefined;
	readonly retryable = true;

	constructor(context: FailureContext & {phase: TimeoutPhase; timeout: number | undefined}) {
		const within = context.timeout === undefined ? ' before the runtime\'s own timer fired' : ` within ${context.timeout} ms`;
		super(context, `${phaseWords[context.phase]}${within} (timeout.${context.phase})`);
		this.phase = context.phase;
		this.timeout = context.timeout;
	}

	protected details() {
		return {phase: this.phase, timeout: this.timeout};
	}
}

export class AbortedError extends FetchError {
	override readonly name = 'AbortedError';
	readonly kind = 'aborted' as const;
	readonly source: AbortSource;
	/** The caller's `signal.reason`, or the reason given to `close()`. */
	readonly reason: unknown;
	readonly retryable = false;

	constructor(context: FailureContext & {source: AbortSource; reason: unknown}) {
		super(context, context.source === 'client' ? 'aborted because the client was closed' : 'aborted by the caller\'s signal');
		this.source = context.source;
		this.reason = context.reason;
	}

	protected details() {
		const r = this.reason as {name?: unknown; message?: unknown} | undefined;
		const reason = r instanceof Error || (typeof r === 'object' && r !== null && typeof r.message === 'string')
			? {name: r.name, message: scrubUrls(String(r.message), this.request.url)}
			: typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean' ? r : undefined;
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
	offline: 'the device is offline',
	unknown: 'network error (the runtime gives no reason)',
};

export class NetworkError extends FetchError {
	override readonly name = 'NetworkError';
	readonly kind = 'network' as const;
	readonly code: NetworkCode;
	/** Whether the failure came before (`headers`) or after (`body`) the response headers. */
	readonly phase: 'headers' | 'body';
	readonly retryable: boolean;

	constructor(context: FailureContext & {code: NetworkCode; phase: 'headers' | 'body'; detail?: string}) {
		const when = context.phase === 'body' ? 'while reading the body' : 'before response headers';
		const detail = context.detail ? `: ${context.detail}` : '';
		super(context, `${networkWords[context.code]} ${when}${detail}`);
		this.code = context.code;
		this.phase = context.phase;
		// A bad certificate or a broken server does not fix itself between retries.
		this.retryable = context.code !== 'tls' && context.code !== 'protocol';
	}

	protected details() {
		return {code: this.code, phase: this.phase};
	}
}

/** Statuses where the same request may well succeed later. */
const transientStatuses = new Set([408, 425, 429, 500, 502, 503, 504]);

export class HttpError extends FetchError {
	override readonly name = 'HttpError';
	readonly kind = 'http' as const;
	readonly status: number;
	readonly statusText: string;
	readonly headers: Headers;
	/** The response; its body has already been read into `body`. */
	readonly response: Response;
	/** The decoded error body: parsed JSON for a JSON media type, else text; `undefined` if unreadable. */
	readonly body: unknown;
	readonly retryable: boolean;

	constructor(context: FailureContext & {response: Response; body: unknown}) {
		const {response} = context;
		super(context, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
		this.status = response.status;
		this.statusText = response.statusText;
		this.headers = response.headers;
		this.response = response;
		this.body = context.body;
		this.retryable = transientStatuses.has(response.status);
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
	readonly reason: DecodeReason;
	readonly charset: string | undefined;
	readonly contentType: string | undefined;
	/** The start of the body, leniently decoded, at most 200 characters. */
	readonly snippet: string | undefined;
	/** The schema's issues, for `reason: 'schema'`. */
	readonly issues: readonly unknown[] | undefined;
	readonly retryable = false;

	constructor(context: FailureContext & {
		reason: DecodeReason;
		charset?: string | undefined;
		contentType?: string | undefined;
		snippet?: string | undefined;
		issues?: readonly unknown[] | undefined;
		detail?: string | undefined;
	}) {
		const parts = [decodeWords[context.reason]];
		if (context.detail) parts.push(`: ${context.detail}`);
		if (context.contentType !== undefined) parts.push(` (content-type: ${context.contentType || 'none'})`);
		super(context, parts.join(''));
		this.reason = context.reason;
		this.charset = context.charset;
		this.contentType = context.contentType;
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
	readonly origin: string;
	/** ms until a probe request is allowed. */
	readonly retryAfter: number;
	readonly retryable = true;

	constructor(context: FailureContext & {origin: string; retryAfter: number}) {
		super(context, `the circuit for ${context.origin} is open; next probe allowed in ${Math.ceil(context.retryAfter)} ms`);
		this.origin = context.origin;
		this.retryAfter = context.retryAfter;
	}

	protected details() {
		return {origin: this.origin, retryAfter: this.retryAfter};
	}
}

export class InvalidRequestError extends FetchError {
	override readonly name = 'InvalidRequestError';
	readonly kind = 'invalid' as const;
	readonly reason: InvalidReason;
	readonly retryable = false;

	constructor(context: FailureContext & {reason: InvalidReason; detail: string}) {
		super(context, `invalid request (${context.reason}): ${context.detail}`);
		this.reason = context.reason;
	}

	protected details() {
		return {reason: this.reason};
	}
}
