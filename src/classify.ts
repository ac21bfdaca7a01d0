// Raw runtime error -> one member of the union, here and only here. Our own aborts are known by the
// identity of their reason; runtimes are tables: Node, undici and Bun speak in codes along the
// `cause` chain, Deno in the messages of its errors (#platform, loaded only under the `node`
// condition: Node, Bun and Deno resolve it), browsers and workerd in a few fixed messages (below),
// most of which hide the reason on purpose.

import {codes, messages as runtimeMessages, names, prefixes} from '#platform';
import {CallerAbort, DeadlineReason} from './deadlines.js';
import {
	AbortedError, InvalidRequestError, NetworkError, TimeoutError,
	type FailureContext, type FetchFailure, type NetworkCode,
} from './errors.js';

import type {Verdict} from './platform/verdict.js';

const hidden: Verdict = ['network', 'unknown'];

/** Messages that name the failure when nothing else does (any runtime, any build). */
const messages: Array<[RegExp, Verdict]> = [
	// The fetch standard refuses a blocked port before any traffic: the request itself is wrong.
	[/^(?:bad port|unknown scheme)$/, ['invalid']],
	// surefetch sends only http(s), data: and blob: URLs: another scheme can only come from a redirect
	// (workerd says "Fetch API cannot load: <url>" for it).
	[/^URL scheme must be a HTTP\(S\) scheme$|^Fetch API cannot load: /, ['network', 'protocol']],
	// workerd: "Too many redirects.<the URLs>"; Safari: "too many HTTP redirects".
	[/redirect count exceeded|too many (?:HTTP )?redirects|redirect loop|unexpected redirect|too many content-encodings|cross origin not allowed for request mode/i, ['network', 'protocol']],
	[/proxy authentication required/i, ['network', 'proxy']],
	[/incorrect header check|invalid (?:block type|distance|stored block|code lengths)|unexpected end of file/i, ['network', 'protocol']],

	// Browsers and workerd. Chromium, Firefox and workerd say nothing of the reason of a failed
	// connection, DNS and TLS included; Safari used to name it (NSURLError's descriptions, in English),
	// and says "Load failed" since Safari 17. What they do name:
	[/^Gzip decompression failed\.$/, ['network', 'protocol']], // workerd
	[/^Decoding failed\.$/, ['network', 'protocol']], // Firefox: a body its Content-Encoding cannot decode
	// Firefox, for a body cut short by a closed connection (a chunked one too): the connection ended.
	[/^Content-Length header of network response exceeds response Body\.$/, ['network', 'reset']],
	[/^The Internet connection appears to be offline\.$/, ['network', 'offline']], // Safari
	[/^The network connection was lost\.$/, ['network', 'reset']], // Safari
	[/^A server with the specified hostname could not be found\.$/, ['network', 'dns']], // Safari
	[/^Could not connect to the server\.$/, ['network', 'refused']], // Safari
	[/^An SSL error has occurred and a secure connection to the server cannot be made\.$|^The certificate for this server is invalid\./, ['network', 'tls']], // Safari
	[/^The request timed out\.$/, ['timeout']], // Safari's own timer, in whichever phase it was
	// The rest only say "the network failed" ('unknown'; 'offline' when navigator.onLine is false), as
	// does a bare runtime message with no cause (a custom fetch's): Node's `fetch failed`/`terminated`,
	// Bun's ` A network error occurred.`, Deno's `error sending request for url`, workerd's
	// `Network connection lost.`. `cancelled` is Safari's word for a load the browser itself gave up
	// (ours are known by identity); Firefox's body stream says `Error in input stream` whatever broke it.
	[/^(?:Failed to fetch|network error|NetworkError when attempting to fetch resource\.|Error in input stream|Load failed|Network request failed|fetch failed|terminated| A network error occurred\.|Network connection lost\.?|error sending request for url|cancelled)(?: \(|$)/, hidden],
	[/^internal error; reference = /, hidden], // workerd: a DNS or TLS failure (named only in its log)
];

function verdictOf(error: object): Verdict | undefined {
	const {code, name, message} = error as {code?: unknown; name?: unknown; message?: unknown};
	if (typeof code === 'string') {
		const exact = codes[code];
		if (exact) return exact;
		for (const [prefix, verdict] of prefixes) if (code.startsWith(prefix)) return verdict;
	}
	if (typeof name === 'string' && Object.hasOwn(names, name)) return names[name];
	if (typeof message === 'string') {
		for (const [pattern, verdict] of runtimeMessages) if (pattern.test(message)) return verdict;
		for (const [pattern, verdict] of messages) if (pattern.test(message)) return verdict;
	}
	return undefined;
}

// Breadth first along `cause` and AggregateError's `errors`: the outer error is usually a bare
// `TypeError: fetch failed`, the reason one or two levels down.
// A message that hides the reason counts only when nothing along the chain names one.
function findVerdict(error: unknown): Verdict | undefined {
	let level: unknown[] = [error];
	let fallback: Verdict | undefined;
	const seen = new Set<unknown>();
	for (let depth = 0; depth < 6 && level.length > 0; depth++) {
		const next: unknown[] = [];
		for (const item of level) {
			if (typeof item !== 'object' || item === null || seen.has(item)) continue;
			seen.add(item);
			const verdict = verdictOf(item);
			if (verdict === hidden) fallback ??= verdict;
			else if (verdict) return verdict;
			const {cause, errors} = item as {cause?: unknown; errors?: unknown};
			if (cause !== undefined) next.push(cause);
			if (Array.isArray(errors)) next.push(...errors);
		}
		level = next;
	}
	return fallback;
}

export interface ClassifyInput extends FailureContext {
	/** Where the attempt was when it failed. */
	phase: 'headers' | 'body';
	/** The reason our own signal tree was aborted with, if it was: it outranks whatever the runtime threw. */
	abortReason?: unknown;
	/** The fetch is the caller's own: an error no table knows is theirs and passes through untouched. */
	customFetch?: boolean;
}

/** The union member for a thrown value, or the value itself when it is the caller's own (custom fetch). */
export function classify(error: unknown, input: ClassifyInput): FetchFailure | unknown {
	const context: FailureContext = {...input, cause: error};
	// 1. Our own aborts, by identity: a deadline is a timeout even when the runtime calls it an abort.
	const reason = input.abortReason ?? (error instanceof DeadlineReason || error instanceof CallerAbort ? error : undefined);
	const ours = reason === undefined ? undefined : fromAbortReason(reason, {...context, cause: error === reason ? undefined : error});
	if (ours) return ours;
	// 2. The runtime's table.
	const verdict = findVerdict(error);
	const {name, message} = (typeof error === 'object' && error !== null ? error : {}) as {name?: unknown; message?: unknown};
	if (verdict?.[0] === 'timeout') return new TimeoutError({...context, phase: verdict[1] ?? (input.phase === 'body' ? 'idle' : 'headers'), timeout: undefined});
	if (verdict?.[0] === 'invalid') {
		const why = verdict[1] ?? 'url';
		return new InvalidRequestError({...context, reason: why, detail: why === 'url' ? 'the runtime refuses this URL (a blocked port or scheme)' : `the runtime refuses this request (${why})`});
	}
	if (verdict) return network(context, verdict[1], input.phase, codeOf(error));
	// 3. What is left.
	if (name === 'TimeoutError') {
		// A runtime's own timer (e.g. a DOMException from a transport's AbortSignal.timeout).
		return new TimeoutError({...context, phase: input.phase === 'body' ? 'idle' : 'headers', timeout: undefined});
	}
	if (input.customFetch) return error;
	// The runtime's fetch rejects only for network reasons: whatever no table knows is still the network.
	return network(context, 'unknown', input.phase, typeof message === 'string' ? message : undefined);
}

function network(context: FailureContext, code: NetworkCode, phase: 'headers' | 'body', detail?: string): NetworkError {
	const offline = code === 'unknown' && typeof navigator !== 'undefined' && (navigator as {onLine?: boolean}).onLine === false;
	return new NetworkError({...context, code: offline ? 'offline' : code, phase, detail});
}

/** Our own abort reasons -> timeout or aborted. */
export function fromAbortReason(reason: unknown, context: FailureContext): FetchFailure | undefined {
	if (reason instanceof DeadlineReason) return new TimeoutError({...context, phase: reason.phase, timeout: reason.timeout});
	if (reason instanceof CallerAbort) return new AbortedError({...context, source: reason.source, reason: reason.reason});
	return undefined;
}

/** The deepest `code` along the cause chain: the most precise thing a person can act on. */
function codeOf(error: unknown): string | undefined {
	let detail: string | undefined;
	for (let current = error as {cause?: unknown; code?: unknown} | undefined, depth = 0; current && typeof current === 'object' && depth < 6; depth++) {
		if (typeof current.code === 'string') detail = current.code;
		current = current.cause as typeof current;
	}
	return detail;
}
