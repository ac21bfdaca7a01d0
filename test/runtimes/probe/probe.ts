// The probe: for every fault the fault server can make, what the runtime's own `fetch` throws raw
// (name, message, code along the cause chain; and whether before or after the headers) and what
// surefetch gives for the same fault. Runtime-independent: the same module runs in Node, Bun, Deno,
// workerd, Firefox and Chromium (test/runtimes/cases/probe.test.ts); `node test/runtimes/probe.mjs`
// writes the results to test/runtimes/probe/<runtime>.json, and the README's table is made from them.

import {createClient, isFetchError} from '../../../src/index.js';

export interface FaultUrls {url: string; tlsUrl: string; refusedUrl: string}

export interface Fault {
	name: string;
	url: (fault: FaultUrls) => string;
	/** How the body is read: raw `response.text()`/`.json()`, surefetch's `.text()`/`.json()`. */
	read?: 'text' | 'json';
	/** A stall: the raw fetch is cut by AbortSignal.timeout (it would hang). */
	stall?: boolean;
}

const path = (p: string) => (fault: FaultUrls) => `${fault.url}${p}`;

/** Every fault, in the README's order. Only loopback addresses, and `.invalid` for DNS. */
export const FAULTS: Fault[] = [
	{name: 'connection refused', url: (f) => f.refusedUrl},
	{name: 'DNS: no such host (.invalid)', url: () => 'http://surefetch-probe.invalid/'},
	{name: 'blocked port (127.0.0.1:1)', url: () => 'http://127.0.0.1:1/'},
	{name: 'TLS: self-signed certificate', url: (f) => `${f.tlsUrl}/ok`},
	{name: 'reset before headers', url: path('/reset-before-headers')},
	{name: 'close before headers', url: path('/close-before-headers')},
	{name: 'reset mid-headers', url: path('/reset-mid-headers')},
	{name: 'close mid-headers', url: path('/close-mid-headers')},
	{name: 'stall before headers', url: path('/stall-before-headers'), stall: true},
	{name: 'stall mid-headers', url: path('/stall-mid-headers'), stall: true},
	{name: 'reset mid-body (Content-Length)', url: path('/reset-mid-body?framing=cl')},
	{name: 'reset mid-body (chunked)', url: path('/reset-mid-body?framing=chunked')},
	{name: 'close mid-body (Content-Length)', url: path('/close-mid-body?framing=cl')},
	{name: 'close mid-body (chunked)', url: path('/close-mid-body?framing=chunked')},
	{name: 'stall mid-body', url: path('/stall-mid-body?framing=cl'), stall: true},
	{name: 'bad chunk size', url: path('/bad-chunk')},
	{name: 'bad gzip', url: path('/bad-gzip')},
	{name: 'gzip header, then garbage', url: path('/bad-gzip?partial=1')},
	{name: 'garbage after a gzip body', url: path('/gzip-late-garbage?ms=100')},
	{name: 'malformed status line', url: path('/malformed-status')},
	{name: 'status 999', url: path('/status-line?code=999')},
	{name: 'redirect loop', url: path('/redirect-loop')},
	{name: 'redirect to file:', url: path('/raw/redirect-file')},
	{name: 'Content-Length: abc', url: path('/raw/bad-content-length')},
	{name: 'two Content-Lengths', url: path('/raw/two-lengths')},
	{name: 'Transfer-Encoding and Content-Length', url: path('/raw/te-and-cl')},
	{name: 'NUL in a header', url: path('/raw/header-nul')},
	{name: '70 KB header', url: path('/raw/huge-header')},
	{name: '50 interim 100 responses', url: path('/raw/many-100')},
	{name: 'status 600', url: path('/raw/status-600')},
	{name: 'not HTTP', url: path('/raw/not-http')},
	{name: 'cut status line', url: path('/raw/partial-status-line')},
	{name: 'gzip header alone', url: path('/raw/gzip-header-only')},
	{name: 'no CORS headers', url: path('/no-cors')},
	{name: 'HTML served as JSON (.json())', url: path('/html-as-json'), read: 'json'},
];

export interface RawError {name: string; message: string; code?: string | number}
export interface ProbeRow {
	fault: string;
	/** What the runtime's fetch did: failed before the headers, while reading the body, or not at all. */
	raw: {phase: 'headers' | 'body' | 'none'; status?: number; chain: RawError[]};
	/** What surefetch gave: `ok` or the union member's telling fields. */
	surefetch: {kind: string; code?: string; phase?: string; reason?: string; status?: number};
	/** The runtime's error as surefetch met it (its `cause`): surefetch reads bodies with a stream reader, where a runtime may say something else than `response.text()` does. */
	cause?: RawError[];
}

/** Ports, URLs and ids that change from run to run. */
export function normalise(text: string): string {
	const clean = text
		.replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:PORT')
		.replace(/reference = [\w-]+/g, 'reference = …')
		.replace(/\s+/g, ' ')
		.trim();
	return clean.length > 150 ? `${clean.slice(0, 149)}…` : clean;
}

function describeChain(error: unknown): RawError[] {
	const chain: RawError[] = [];
	for (let e = error as {name?: unknown; message?: unknown; code?: unknown; cause?: unknown; errors?: unknown}, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
		if (typeof e !== 'object') {
			chain.push({name: typeof e, message: normalise(String(e))});
			break;
		}
		const entry: RawError = {name: String(e.name ?? e.constructor?.name ?? 'Error'), message: normalise(String(e.message ?? ''))};
		if (typeof e.code === 'string' || typeof e.code === 'number') entry.code = e.code;
		if (Array.isArray(e.errors)) entry.message += ` [errors: ${e.errors.map((inner: {code?: unknown; message?: unknown}) => String(inner?.code ?? inner?.message)).join(', ')}]`;
		chain.push(entry);
		e = e.cause as typeof e;
	}
	return chain;
}

async function probeRaw(fault: Fault, urls: FaultUrls): Promise<ProbeRow['raw']> {
	const signal = AbortSignal.timeout(fault.stall ? 1500 : 10_000);
	let response: Response;
	try {
		response = await fetch(fault.url(urls), {signal});
	} catch (error) {
		return {phase: 'headers', chain: describeChain(error)};
	}
	try {
		await (fault.read === 'json' ? response.json() : response.text());
		return {phase: 'none', status: response.status, chain: []};
	} catch (error) {
		return {phase: 'body', status: response.status, chain: describeChain(error)};
	}
}

async function probeSurefetch(fault: Fault, urls: FaultUrls): Promise<Pick<ProbeRow, 'surefetch' | 'cause'>> {
	const api = createClient({retry: 0, timeout: {total: 8000, headers: 1000, idle: 500}});
	const call = api.get(fault.url(urls));
	try {
		await (fault.read === 'json' ? call.json() : call.text());
		return {surefetch: {kind: 'ok'}};
	} catch (error) {
		if (!isFetchError(error)) return {surefetch: {kind: `raw ${(error as Error)?.name}: ${normalise(String((error as Error)?.message))}`}};
		const {kind, code, phase, reason, status} = error as unknown as Record<string, string | number | undefined>;
		const answer: ProbeRow['surefetch'] = {kind: String(kind)};
		if (code !== undefined) answer.code = String(code);
		if (phase !== undefined) answer.phase = String(phase);
		if (reason !== undefined) answer.reason = String(reason);
		if (typeof status === 'number') answer.status = status;
		return error.cause === undefined ? {surefetch: answer} : {surefetch: answer, cause: describeChain(error.cause)};
	}
}

/** Every fault, one after the other (a stalled connection must not hold up the next). */
export async function probe(urls: FaultUrls): Promise<ProbeRow[]> {
	const rows: ProbeRow[] = [];
	for (const fault of FAULTS) rows.push({fault: fault.name, raw: await probeRaw(fault, urls), ...await probeSurefetch(fault, urls)});
	return rows;
}
