// Raw runtime error -> one member of the union. Every runtime is a table: Node/undici speaks in
// error codes along the `cause` chain, browsers hide the reason behind a fixed message. A new
// runtime is one more table.

import {CallerAbort, DeadlineReason} from './deadlines.js';
import {
	AbortedError, InvalidRequestError, NetworkError, TimeoutError,
	type FailureContext, type FetchFailure, type NetworkCode, type TimeoutPhase,
} from './errors.js';

type Verdict =
	| {kind: 'network'; code: NetworkCode}
	| {kind: 'timeout'; phase: TimeoutPhase}
	| {kind: 'invalid'};

const net = (code: NetworkCode): Verdict => ({kind: 'network', code});
const late = (phase: TimeoutPhase): Verdict => ({kind: 'timeout', phase});

/** Node.js (undici, net, tls, dns, zlib): exact `code` values. */
const nodeCodes: Record<string, Verdict> = {
	UND_ERR_CONNECT_TIMEOUT: late('connect'),
	ETIMEDOUT: late('connect'),
	UND_ERR_HEADERS_TIMEOUT: late('headers'),
	UND_ERR_BODY_TIMEOUT: late('idle'),
	ENOTFOUND: net('dns'),
	EAI_AGAIN: net('dns'),
	ECONNREFUSED: net('refused'),
	ECONNRESET: net('reset'),
	EPIPE: net('reset'),
	UND_ERR_SOCKET: net('reset'),
	UND_ERR_CLOSED: net('reset'),
	EHOSTUNREACH: net('unreachable'),
	ENETUNREACH: net('unreachable'),
	DEPTH_ZERO_SELF_SIGNED_CERT: net('tls'),
	SELF_SIGNED_CERT_IN_CHAIN: net('tls'),
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: net('tls'),
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: net('tls'),
	HPE_INVALID_CONSTANT: net('protocol'),
	UND_ERR_RES_CONTENT_LENGTH_MISMATCH: net('protocol'),
	UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: net('protocol'),
	Z_DATA_ERROR: net('protocol'),
	Z_BUF_ERROR: net('protocol'),
	ERR_INVALID_HTTP_RESPONSE: net('protocol'),
};

/** Code prefixes for families too large to list. */
const nodeCodePrefixes: Array<[string, Verdict]> = [
	['CERT_', net('tls')],
	['ERR_TLS_', net('tls')],
	['ERR_SSL_', net('tls')],
	['HPE_', net('protocol')], // llhttp parser codes
];

/** Error names, for errors whose code a runtime version dropped (undici 7's HTTPParserError). */
const errorNames: Record<string, Verdict> = {
	HTTPParserError: net('protocol'),
	ConnectTimeoutError: late('connect'),
	HeadersTimeoutError: late('headers'),
	BodyTimeoutError: late('idle'),
	ResponseContentLengthMismatchError: net('protocol'),
};

/** Messages that name the failure when nothing else does. */
const messages: Array<[RegExp, Verdict]> = [
	// The fetch spec refuses these before any traffic: the request itself is wrong.
	[/^(?:bad port|unknown scheme|URL scheme must be a HTTP\(S\) scheme)$/, {kind: 'invalid'}],
	[/redirect count exceeded|too many redirects|redirect loop/i, net('protocol')],
	[/incorrect header check|invalid (?:block type|distance|stored block|code lengths)|unexpected end of file/i, net('protocol')],
];

/** Browsers: the reason is hidden on purpose; these messages only say "the network failed". */
const browserMessages = new Set([
	'Failed to fetch', // Chromium
	'network error', // Chromium, mid-body
	'NetworkError when attempting to fetch resource.', // Firefox
	'Load failed', // Safari
	'The Internet connection appears to be offline.', // Safari 16
	'The network connection was lost.', // Safari
	'Network request failed',
]);

function isBrowserNetworkMessage(message: string): boolean {
	return browserMessages.has(message) || message.startsWith('Failed to fetch (') || message.startsWith('Load failed (');
}

function verdictOf(error: unknown): Verdict | undefined {
	if (typeof error !== 'object' || error === null) return undefined;
	const {code, name, message} = error as {code?: unknown; name?: unknown; message?: unknown};
	if (typeof code === 'string') {
		const exact = nodeCodes[code];
		if (exact) return exact;
		for (const [prefix, verdict] of nodeCodePrefixes) if (code.startsWith(prefix)) return verdict;
	}
	if (typeof name === 'string' && Object.hasOwn(errorNames, name)) return errorNames[name];
	if (typeof message === 'string') for (const [pattern, verdict] of messages) if (pattern.test(message)) return verdict;
	return undefined;
}

// Breadth first along `cause` and AggregateError's `errors`: the outermost error is usually a bare
// `TypeError: fetch failed`, the reason sits one or two levels down.
function findVerdict(error: unknown): Verdict | undefined {
	let level: unknown[] = [error];
	const seen = new Set<unknown>();
	for (let depth = 0; depth < 6 && level.length > 0; depth++) {
		const next: unknown[] = [];
		for (const item of level) {
			if (typeof item !== 'object' || item === null || seen.has(item)) continue;
			seen.add(item);
			const verdict = verdictOf(item);
			if (verdict) return verdict;
			const {cause, errors} = item as {cause?: unknown; errors?: unknown};
			if (cause !== undefined) next.push(cause);
			if (Array.isArray(errors)) next.push(...errors);
		}
		level = next;
	}
	return undefined;
}

export interface ClassifyInput extends FailureContext {
	/** Where the attempt was when it failed. */
	phase: 'headers' | 'body';
	/** The reason our own signal chain was aborted with, if it was: it outranks whatever the runtime threw. */
	abortReason?: unknown;
	/** When the fetch is the caller's own: unknown errors are theirs and pass through untouched. */
	customFetch?: boolean;
}

/**
 * The one place that decides what a thrown value means. Returns the union member, or the value
 * itself when it is the caller's own error (custom fetch) and must propagate unchanged.
 */
export function classify(error: unknown, input: ClassifyInput): FetchFailure | unknown {
	const context: FailureContext = {request: input.request, attempts: input.attempts, elapsed: input.elapsed, cause: error};
	// 1. Our own aborts, by identity of the reason: a deadline is a timeout even if the runtime calls it an abort.
	const reason = input.abortReason ?? (error instanceof DeadlineReason || error instanceof CallerAbort ? error : undefined);
	if (reason !== undefined) {
		const fromReason = fromAbortReason(reason, {...context, cause: error === reason ? undefined : error});
		if (fromReason) return fromReason;
	}
	// 2. The runtime's table.
	const verdict = findVerdict(error);
	if (verdict?.kind === 'timeout') return new TimeoutError({...context, phase: verdict.phase, timeout: undefined});
	if (verdict?.kind === 'invalid') return new InvalidRequestError({...context, reason: 'url', detail: `the runtime refuses this URL (${messageOf(error)})`});
	if (verdict) return new NetworkError({...context, code: verdict.code, phase: input.phase, detail: detailOf(error)});
	// 3. What is left.
	const {name, message} = (typeof error === 'object' && error !== null ? error : {}) as {name?: unknown; message?: unknown};
	if (typeof message === 'string' && isBrowserNetworkMessage(message)) {
		return new NetworkError({...context, code: isOffline() ? 'offline' : 'unknown', phase: input.phase});
	}
	if (name === 'TimeoutError') {
		// A runtime timer (e.g. a DOMException from a transport's own AbortSignal.timeout).
		return new TimeoutError({...context, phase: input.phase === 'body' ? 'idle' : 'headers', timeout: undefined});
	}
	if (input.customFetch) return error;
	// Global fetch only rejects for network reasons; anything unrecognised is still the network.
	return new NetworkError({...context, code: isOffline() ? 'offline' : 'unknown', phase: input.phase, detail: typeof message === 'string' ? message : undefined});
}

/** Our own abort reasons -> timeout or aborted. */
export function fromAbortReason(reason: unknown, context: FailureContext): FetchFailure | undefined {
	if (reason instanceof DeadlineReason) return new TimeoutError({...context, phase: reason.phase, timeout: reason.timeout});
	if (reason instanceof CallerAbort) return new AbortedError({...context, source: reason.source, reason: reason.reason});
	return undefined;
}

function messageOf(error: unknown): string {
	let current = error as {cause?: unknown; message?: unknown} | undefined;
	let message = '';
	for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
		if (typeof current.message === 'string') message = current.message;
		current = current.cause as typeof current;
	}
	return message;
}

function detailOf(error: unknown): string | undefined {
	// The deepest message with a code is the most precise thing a person can act on.
	let current = error as {cause?: unknown; code?: unknown; message?: unknown} | undefined;
	let detail: string | undefined;
	for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
		if (typeof current.code === 'string') detail = current.code;
		current = current.cause as typeof current;
	}
	return detail;
}

function isOffline(): boolean {
	return typeof navigator !== 'undefined' && (navigator as {onLine?: boolean}).onLine === false;
}
