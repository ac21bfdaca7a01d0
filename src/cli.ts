#!/usr/bin/env node
// The `surefetch` command: one request with surefetch's deadlines, retries, charset decoding and
// error union, for a person at a terminal or a script. Built from the public API only: the client,
// its listeners and the errors' fields; `surefetch/node` when npm undici can be loaded.
//
//   surefetch [options] <url>        the body, decoded in the server's charset, on stdout
//
// Exit codes follow curl's where one fits (see EXIT below and `surefetch --help`).

import diagnostics from 'node:diagnostics_channel';
import {readFileSync} from 'node:fs';
import {open, type FileHandle} from 'node:fs/promises';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {createClient, isFetchError, type Client, type ClientOptions, type FetchFailure, type Listeners, type TimeoutOptions, type Timings} from './index.js';
import {createNodeTransport, type NodeTransport, type NodeTransportOptions} from './node/index.js';

/** Exit codes: curl's numbers where curl has one for the same failure. */
const EXIT = {
	ok: 0,
	internal: 1, // a bug of the command itself, never a request's outcome
	invalid: 3, // InvalidRequestError, or a bad command line (curl: URL malformed)
	dns: 6,
	connect: 7, // refused, unreachable, proxy
	http: 22, // HTTP >= 400 with --fail
	write: 23, // -o: the file cannot be written
	timeout: 28,
	tls: 35,
	redirects: 47,
	network: 56, // reset, protocol, unknown
	decode: 61,
	interrupted: 130,
} as const;

const redirectLoop = /redirect count exceeded|too many redirects|redirect loop/i;

/** The exit code for a failure of the request. */
function exitCodeOf(error: FetchFailure): number {
	switch (error.kind) {
		case 'invalid': return EXIT.invalid;
		case 'timeout': return EXIT.timeout;
		case 'http': return EXIT.http;
		case 'decode': return EXIT.decode;
		case 'aborted': return EXIT.interrupted;
		case 'circuit-open': return EXIT.connect; // no breaker runs here; kept total all the same
		case 'network':
			switch (error.code) {
				case 'dns': return EXIT.dns;
				case 'refused': case 'unreachable': case 'proxy': case 'offline': return EXIT.connect;
				case 'tls': return EXIT.tls;
				case 'protocol': return causes(error).some((c) => redirectLoop.test(c.message)) ? EXIT.redirects : EXIT.network;
				default: return EXIT.network;
			}
	}
}

/** The error's cause chain (the union keeps the runtime's error as `cause`). */
function causes(error: unknown): Array<{message: string; code?: unknown}> {
	const out: Array<{message: string; code?: unknown}> = [];
	for (let c = (error as {cause?: unknown}).cause, depth = 0; typeof c === 'object' && c !== null && depth < 8; depth++) {
		const {message, code, cause} = c as {message?: unknown; code?: unknown; cause?: unknown};
		out.push({message: typeof message === 'string' ? message : '', code});
		c = cause;
	}
	return out;
}

// ---------------------------------------------------------------- the command line

class UsageError extends Error {
	override name = 'UsageError';
}

const HELP = `Usage: surefetch [options] <url>

Prints the response body, decoded in the server's charset, on stdout.

Options:
  -X, --request <method>   request method (default GET, or POST with -d/--json)
  -H, --header <line>      request header 'name: value' (repeatable)
  -d, --data <data>        request body (repeatable, joined with &; @file or @- for a file or
                           stdin, sent as is); Content-Type application/x-www-form-urlencoded
                           unless -H gives one
      --json <data>        JSON request body, as curl's --json: Content-Type and Accept
                           application/json (@file or @- too)
      --timeout <spec>     deadlines in ms: a number (total), or total=…,headers=…,idle=…
                           (also attempt=, connect=, queue=; 500ms or 5s; off disables one)
      --retry <n>          retries after the first attempt (default 2, as the library)
      --encoding <label>   decode the body in this charset, over BOM and header
      --max-body <bytes>   largest body accepted (default 64m; k, m, g suffixes; off)
  -o, --output <file>      stream the body's bytes to <file> (- for stdout, as they are), with
                           a progress line on stderr at a terminal; a body lost midway is not
                           retried
  -f, --fail               an HTTP status >= 400 is an error (exit 22), and 408, 413, 429,
                           500, 502, 503, 504 are retried; without it, an error status is the
                           answer: its body is printed, exit 0, no retry
      --proxy <url>        send through this proxy (surefetch/node only)
  -v, --verbose            a waterfall of every attempt's phases on stderr
      --report             stdout is one JSON object: the response, or {ok: false, error}
  -h, --help               this text
      --version            versions of surefetch, ky, the transport and Node

Exit codes: 0 ok; 3 invalid request or command line; 6 dns; 7 refused, unreachable or proxy;
22 HTTP error (--fail); 23 the -o file cannot be written; 28 timeout; 35 tls; 47 redirect loop;
56 reset, protocol or other network failure; 61 decode (charset, too large); 130 interrupted.
`;

interface Plan {
	url: string;
	method: string | undefined;
	headers: Array<[string, string]>;
	body: Uint8Array | string | undefined;
	json: boolean;
	timeout: number | TimeoutOptions | undefined;
	retry: number | undefined;
	encoding: string | undefined;
	maxBody: number | false | undefined;
	output: string | undefined;
	fail: boolean;
	proxy: string | undefined;
	verbose: boolean;
	report: boolean;
}

const phases = ['total', 'headers', 'idle', 'attempt', 'connect', 'queue'] as const;

function duration(text: string, what: string): number | false {
	if (/^(?:off|false)$/i.test(text)) return false;
	const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
	if (!match) throw new UsageError(`${what}: "${text}" is not a duration (ms, e.g. 5000, 500ms or 5s; off disables it)`);
	return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

function parseTimeout(text: string): number | TimeoutOptions {
	if (!text.includes('=')) {
		const total = duration(text, '--timeout');
		return total === false ? {total: false} : total;
	}
	const out: Record<string, number | false> = {};
	for (const part of text.split(',')) {
		const [name = '', value = ''] = part.split('=', 2).map((s) => s.trim());
		if (!(phases as readonly string[]).includes(name)) throw new UsageError(`--timeout: unknown deadline "${name}" (${phases.join(', ')})`);
		out[name] = duration(value, `--timeout ${name}`);
	}
	return out as TimeoutOptions;
}

function parseSize(text: string): number | false {
	if (/^(?:off|false)$/i.test(text)) return false;
	const match = /^(\d+)\s*([kmg])?i?b?$/i.exec(text.trim());
	if (!match) throw new UsageError(`--max-body: "${text}" is not a size in bytes (e.g. 1048576, 512k, 10m; off)`);
	return Number(match[1]) * 1024 ** ' kmg'.indexOf((match[2] ?? ' ').toLowerCase());
}

function readData(text: string, option: string): Uint8Array | string {
	if (!text.startsWith('@')) return text;
	const path = text.slice(1);
	try {
		return new Uint8Array(readFileSync(path === '-' ? 0 : path));
	} catch (error) {
		throw new UsageError(`${option}: cannot read ${path === '-' ? 'stdin' : path}: ${(error as Error).message}`);
	}
}

function parseCommandLine(argv: string[]): Plan | 'help' | 'version' {
	let parsed;
	try {
		parsed = parseArgs({
			args: argv,
			allowPositionals: true,
			strict: true,
			options: {
				request: {type: 'string', short: 'X'},
				header: {type: 'string', short: 'H', multiple: true},
				data: {type: 'string', short: 'd', multiple: true},
				json: {type: 'string', multiple: true},
				timeout: {type: 'string'},
				retry: {type: 'string'},
				encoding: {type: 'string'},
				'max-body': {type: 'string'},
				output: {type: 'string', short: 'o'},
				fail: {type: 'boolean', short: 'f'},
				proxy: {type: 'string'},
				verbose: {type: 'boolean', short: 'v'},
				report: {type: 'boolean'},
				help: {type: 'boolean', short: 'h'},
				version: {type: 'boolean'},
			},
		});
	} catch (error) {
		throw new UsageError((error as Error).message);
	}
	const {values, positionals} = parsed;
	if (values.help) return 'help';
	if (values.version) return 'version';
	if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no URL given' : `one URL only, got ${positionals.length}`);
	if (values.data && values.json) throw new UsageError('-d and --json cannot be used together');
	if (values.output === '-' && values.report) throw new UsageError('-o - and --report both want stdout');

	const headers: Array<[string, string]> = [];
	for (const line of values.header ?? []) {
		const colon = line.indexOf(':');
		if (colon <= 0) throw new UsageError(`-H: "${line.split(':')[0]}" is not "name: value"`); // never quote a value
		headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
	}
	const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
	let body: Uint8Array | string | undefined;
	if (values.json) {
		body = values.json.length === 1 ? readData(values.json[0]!, '--json') : values.json.map((d) => readData(d, '--json')).map(text).join('');
		if (!has('content-type')) headers.push(['content-type', 'application/json']);
		if (!has('accept')) headers.push(['accept', 'application/json']);
	} else if (values.data) {
		body = values.data.length === 1 ? readData(values.data[0]!, '-d') : values.data.map((d) => readData(d, '-d')).map(text).join('&');
		if (!has('content-type')) headers.push(['content-type', 'application/x-www-form-urlencoded']);
	}
	let retry: number | undefined;
	if (values.retry !== undefined) {
		retry = Number(values.retry);
		if (!/^\d+$/.test(values.retry)) throw new UsageError(`--retry: "${values.retry}" is not a whole number`);
	}
	// As curl: a URL without a scheme is http.
	const url = /^[a-z][a-z\d+.-]*:/i.test(positionals[0]!) && !/^[^:/]+:\d/.test(positionals[0]!) ? positionals[0]! : `http://${positionals[0]}`;
	return {
		url,
		method: values.request,
		headers,
		body,
		json: values.json !== undefined,
		timeout: values.timeout === undefined ? undefined : parseTimeout(values.timeout),
		retry,
		encoding: values.encoding,
		maxBody: values['max-body'] === undefined ? undefined : parseSize(values['max-body']),
		output: values.output,
		fail: values.fail ?? false,
		proxy: values.proxy,
		verbose: values.verbose ?? false,
		report: values.report ?? false,
	};
}

const text = (data: Uint8Array | string) => (typeof data === 'string' ? data : new TextDecoder().decode(data));

// ---------------------------------------------------------------- the transport

const require = createRequire(import.meta.url);

/** The version of an installed package, found from where it resolves. */
function versionOf(name: string): string | undefined {
	try {
		let dir = dirname(fileURLToPath(import.meta.resolve(name)));
		for (let depth = 0; depth < 8; depth++, dir = dirname(dir)) {
			try {
				const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {name?: string; version?: string};
				if (pkg.name === name) return pkg.version;
			} catch {
				// not this folder
			}
		}
	} catch {
		// not installed
	}
	return undefined;
}

function undiciAvailable(): boolean {
	try {
		require.resolve('undici');
		return true;
	} catch {
		return false;
	}
}

interface Transport {
	fetch: NodeTransport | undefined;
	/** What -v says it is. */
	name: string;
}

/** surefetch/node when npm undici can be loaded (connect timings and timeout.connect), the global fetch otherwise. */
function chooseTransport(proxy: string | undefined): Transport {
	if (!undiciAvailable()) {
		if (proxy !== undefined) throw new UsageError('--proxy needs the surefetch/node transport, and npm undici is not installed (npm install undici@7)');
		return {fetch: undefined, name: `the global fetch (Node ${process.versions.node}; npm undici not found, so no connect deadline)`};
	}
	// `proxy` is surefetch/node's option for a proxy URL (NodeTransportOptions in the SPEC).
	const options = (proxy === undefined ? {} : {proxy}) as NodeTransportOptions;
	const fetch = createNodeTransport(options);
	return {fetch, name: `surefetch/node (undici ${versionOf('undici') ?? '?'})${proxy === undefined ? '' : ' through a proxy'}`};
}

// ---------------------------------------------------------------- -v: the waterfall

interface Connect {
	start: number;
	end?: number;
	failed?: boolean;
}

interface AttemptTrace {
	number: number;
	/** When it became ready to go: the call, or the end of the backoff before it. */
	ready: number;
	dispatch: number;
	connects: Connect[];
	headers?: number;
	status?: number;
	end?: number;
	error?: FetchFailure;
}

/** What the listeners saw, in ms since the call. */
class Trace {
	#started = performance.now();
	readonly attempts: AttemptTrace[] = [];
	readonly backoffs: Array<{after: number; start: number; delay: number; end?: number}> = [];
	timings: Timings | undefined;
	end: number | undefined;
	error: FetchFailure | undefined;
	#ready = 0;

	constructor(private readonly live: ((line: string) => void) | undefined) {}

	/** The call starts now: every time is counted from here. */
	begin(): void {
		this.#started = performance.now();
	}

	now(): number {
		return performance.now() - this.#started;
	}

	get current(): AttemptTrace | undefined {
		const last = this.attempts.at(-1);
		return last && last.end === undefined ? last : undefined;
	}

	listeners(): Listeners {
		return {
			request: ({request, attempt}) => {
				const now = this.now();
				this.attempts.push({number: attempt, ready: Math.min(this.#ready, now), dispatch: now, connects: []});
				this.live?.(`> ${request.method} ${request.url} (attempt ${attempt})`);
			},
			response: ({attempt, status, timings}) => {
				const trace = this.attempts.find((a) => a.number === attempt);
				if (trace) Object.assign(trace, {headers: this.now(), status});
				this.timings = timings;
				this.live?.(`< ${status} (attempt ${attempt}, headers after ${ms(timings.headers)})`);
			},
			retry: ({attempt, error, delay}) => {
				const now = this.now();
				const trace = this.attempts.find((a) => a.number === attempt);
				if (trace && trace.end === undefined) Object.assign(trace, {end: now, error});
				this.backoffs.push({after: attempt, start: now, delay});
				this.#ready = now + delay;
				this.live?.(`* attempt ${attempt} failed (${describe(error)}): retrying in ${ms(delay)}`);
			},
			error: ({error, timings}) => {
				this.fail(error);
				this.timings = timings;
			},
		};
	}

	/** The call's final failure (once). */
	fail(error: FetchFailure): void {
		if (this.error) return;
		const now = this.now();
		this.error = error;
		this.end = now;
		const trace = this.current;
		if (trace) Object.assign(trace, {end: now, error});
		const backoff = this.backoffs.at(-1);
		if (backoff && backoff.start + backoff.delay > now && this.attempts.at(-1)?.number === backoff.after) backoff.end = now;
	}

	/** The body has been read. */
	done(): void {
		const now = this.now();
		this.end = now;
		const trace = this.current;
		if (trace) trace.end = now;
	}

	connectStart(): void {
		this.current?.connects.push({start: this.now()});
	}

	connectEnd(failed: boolean): void {
		const connect = this.current?.connects.findLast((c) => c.end === undefined);
		if (connect) Object.assign(connect, {end: this.now(), failed});
	}
}

const ms = (value: number) => `${Math.round(value)} ms`;

function describe(error: FetchFailure): string {
	switch (error.kind) {
		case 'timeout': return `timeout.${error.phase}${error.timeout === undefined ? ' (runtime timer)' : ` ${error.timeout} ms`} fired`;
		case 'network': {
			const code = causes(error).map((c) => c.code).findLast((c): c is string => typeof c === 'string');
			const loop = error.code === 'protocol' && causes(error).some((c) => redirectLoop.test(c.message));
			return `network ${error.code}${loop ? ' (redirect loop)' : code ? ` (${code})` : ''}`;
		}
		case 'http': return `HTTP ${error.status} ${error.statusText}`.trim();
		case 'decode': return `decode ${error.reason}`;
		case 'aborted': return `aborted (${error.source === 'client' ? 'interrupted' : 'signal'})`;
		case 'invalid': return `invalid ${error.reason}`;
		case 'circuit-open': return 'circuit open';
	}
}

interface Row {
	label: string;
	start: number;
	end: number;
	wait?: boolean;
	note?: string;
}

const BAR = 40;

/** Rows of the waterfall: per attempt queue, connect, headers, body; the backoffs between them. */
function rows(trace: Trace, total: number, bytes: number | undefined, statusLine: string | undefined): Row[] {
	const out: Row[] = [];
	for (const attempt of trace.attempts) {
		const end = attempt.end ?? total;
		const {error} = attempt;
		const failed = (row: string) => (error && where(error, attempt) === row ? `✗ ${describe(error)}` : undefined);
		out.push({label: `attempt ${attempt.number}`, start: attempt.ready, end});
		out.push({label: '  queue', start: attempt.ready, end: attempt.dispatch, wait: true});
		for (const connect of attempt.connects) {
			out.push({label: '  connect', start: connect.start, end: connect.end ?? end, note: connect.failed && !failed('connect') ? '✗ failed' : failed('connect')});
		}
		out.push({label: '  headers', start: attempt.dispatch, end: attempt.headers ?? end, note: failed('headers') ?? (attempt.status === undefined ? undefined : `← ${attempt === trace.attempts.at(-1) && statusLine ? statusLine : attempt.status}`)});
		if (attempt.headers !== undefined) {
			out.push({label: '  body', start: attempt.headers, end, note: failed('body') ?? (attempt === trace.attempts.at(-1) && bytes !== undefined ? size(bytes) : undefined)});
		}
		const backoff = trace.backoffs.find((b) => b.after === attempt.number);
		if (backoff) {
			const cut = backoff.end !== undefined;
			out.push({label: 'backoff', start: backoff.start, end: backoff.end ?? backoff.start + backoff.delay, wait: true, note: cut ? `✗ ${describe(trace.error!)}` : `${ms(backoff.delay)} planned`});
		}
	}
	return out;
}

/** Which row a failure belongs to. */
function where(error: FetchFailure, attempt: AttemptTrace): 'connect' | 'headers' | 'body' {
	const afterHeaders = attempt.headers !== undefined;
	if (error.kind === 'timeout' && error.phase === 'connect') return 'connect';
	if (!afterHeaders && attempt.connects.some((c) => c.failed) && error.kind === 'network') return 'connect';
	return afterHeaders ? 'body' : 'headers';
}

function waterfall(trace: Trace, bytes: number | undefined, statusLine: string | undefined): string {
	const total = Math.max(trace.end ?? trace.now(), 0.001);
	const scale = BAR / total;
	const lines = [`${'phase'.padEnd(11)}${'start'.padStart(8)}${'took'.padStart(8)}  ${`0 ms`.padEnd(BAR - ms(total).length)}${ms(total)}`];
	for (const row of rows(trace, total, bytes, statusLine)) {
		const took = Math.max(0, row.end - row.start);
		const from = Math.min(BAR - 1, Math.floor(row.start * scale));
		const width = Math.max(1, Math.min(BAR - from, Math.round(row.end * scale) - from));
		const heading = row.label.startsWith('attempt');
		const bar = ' '.repeat(from) + (heading ? '─' : row.wait ? '░' : '█').repeat(width);
		const cells = heading ? `${row.label.padEnd(11)}${''.padStart(16)}` : `${row.label.padEnd(11)}${ms(row.start).padStart(8)}${ms(took).padStart(8)}`;
		lines.push(`${cells}  ${bar.padEnd(BAR)}${row.note ? `  ${row.note}` : ''}`.trimEnd());
	}
	const error = trace.error;
	lines.push(`${'total'.padEnd(11)}${''.padStart(8)}${ms(total).padStart(8)}  ${trace.attempts.length} attempt${trace.attempts.length === 1 ? '' : 's'}${error ? `, ✗ ${describe(error)}` : statusLine ? `, ${statusLine}` : ''}`);
	return lines.join('\n');
}

function size(bytes: number): string {
	if (bytes < 1024) return `${bytes} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes / 1024;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

// ---------------------------------------------------------------- -o: the file and its progress line

/** A progress line on stderr, rewritten in place at most every 100 ms, cleared at the end. */
function progressLine(stream: NodeJS.WriteStream) {
	let started = performance.now();
	let last = 0;
	let shown = false;
	return {
		/** The body starts: the rate counts from here. */
		begin() {
			started = performance.now();
		},
		/** `total`: the body's length when known (a Content-Length of an unencoded body). */
		update(bytes: number, total: number | undefined) {
			const now = performance.now();
			if (now - last < 100) return;
			last = now;
			const rate = bytes / Math.max((now - started) / 1000, 0.001);
			const parts = [size(bytes), `${size(rate)}/s`];
			if (total !== undefined && total >= bytes) {
				parts.push(`${Math.floor((bytes / Math.max(total, 1)) * 100)}% of ${size(total)}`);
				if (rate > 0) parts.push(`${Math.ceil((total - bytes) / rate)} s left`);
			}
			stream.write(`\r\x1b[2K${parts.join('  ')}`);
			shown = true;
		},
		clear() {
			if (shown) stream.write('\r\x1b[2K');
			shown = false;
		},
	};
}

class WriteFailure extends Error {
	override name = 'WriteFailure';
}

/**
 * Streams the body into the file as it arrives (memory stays flat whatever its size). The body is
 * still watched by the client: its idle and total deadlines, `maxBodyBytes`, and a failure is a
 * member of the union. Returns the bytes written.
 */
async function download(response: Response, path: string, progress: ReturnType<typeof progressLine> | undefined): Promise<number> {
	const toStdout = path === '-';
	let file: FileHandle | undefined;
	try {
		if (!toStdout) file = await open(path, 'w');
	} catch (error) {
		await response.body?.cancel().catch(() => {});
		throw new WriteFailure(`cannot write ${path}: ${(error as Error).message}`);
	}
	const write = toStdout ? (chunk: Uint8Array) => new Promise<void>((resolve, reject) => {
		process.stdout.write(chunk, (error) => (error ? reject(error) : resolve()));
	}) : (chunk: Uint8Array) => file!.write(chunk);
	const declared = Number(response.headers.get('content-length') ?? Number.NaN);
	const encoded = !/^(?:identity)?$/i.test(response.headers.get('content-encoding') ?? '');
	const total = Number.isSafeInteger(declared) && !encoded ? declared : undefined;
	let written = 0;
	progress?.begin();
	try {
		const reader = response.body?.getReader();
		for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader!.read()) {
			try {
				await write(chunk.value);
			} catch (error) {
				await reader!.cancel().catch(() => {});
				throw new WriteFailure(`cannot write ${toStdout ? 'to stdout' : path}: ${(error as Error).message}`);
			}
			written += chunk.value.byteLength;
			progress?.update(written, total);
		}
	} finally {
		progress?.clear();
		await file?.close();
	}
	return written;
}

// ---------------------------------------------------------------- the run

function headersObject(headers: Headers): Record<string, string | string[]> {
	const out: Record<string, string | string[]> = {};
	for (const [name, value] of headers) if (name !== 'set-cookie') out[name] = value;
	const cookies = headers.getSetCookie();
	if (cookies.length > 0) out['set-cookie'] = cookies;
	return out;
}

const round = (value: number) => Math.round(value * 10) / 10;

/** Writes to stdout and waits until it is handed to the system. */
const print = (data: string) => new Promise<void>((resolve) => {
	process.stdout.write(data, () => resolve());
});

async function run(argv: string[]): Promise<number> {
	const wantsReport = argv.includes('--report');
	let plan: Plan | 'help' | 'version';
	let transport: Transport;
	try {
		plan = parseCommandLine(argv);
		if (plan === 'help') {
			await print(HELP);
			return EXIT.ok;
		}
		if (plan === 'version') {
			const undici = undiciAvailable() ? `surefetch/node on undici ${versionOf('undici') ?? '?'}` : 'the global fetch (npm undici not found)';
			await print(`surefetch ${ownVersion()} (ky ${versionOf('ky') ?? '?'}, ${undici}, Node ${process.versions.node})\n`);
			return EXIT.ok;
		}
		transport = chooseTransport(plan.proxy);
	} catch (error) {
		return usage(error, wantsReport);
	}

	const {verbose, report} = plan;
	const stderr = (line: string) => process.stderr.write(`${line}\n`);
	const trace = new Trace(verbose ? stderr : undefined);
	const progress = plan.output !== undefined && process.stderr.isTTY ? progressLine(process.stderr) : undefined;

	let client: Client;
	try {
		const options: ClientOptions = {
			on: trace.listeners(),
			throwHttpErrors: plan.fail,
			...(transport.fetch && {fetch: transport.fetch}),
			...(plan.timeout !== undefined && {timeout: plan.timeout}),
			...(plan.retry !== undefined && {retry: plan.retry}),
			...(plan.maxBody !== undefined && {maxBodyBytes: plan.maxBody}),
			...(plan.encoding !== undefined && {decode: {encoding: plan.encoding}}),
		};
		client = createClient(options);
	} catch (error) {
		await transport.fetch?.close();
		return usage(error, report);
	}

	// Connect timings: undici's own diagnostics channels (npm undici's, and Node's bundled one's).
	const subscriptions: Array<[string, (message: unknown) => void]> = [
		['undici:client:beforeConnect', () => trace.connectStart()],
		['undici:client:connected', () => trace.connectEnd(false)],
		['undici:client:connectError', () => trace.connectEnd(true)],
	];
	if (verbose) for (const [name, listener] of subscriptions) diagnostics.subscribe(name, listener);

	// Ctrl-C: close the client (every request rejects with AbortedError), then exit 130 ourselves.
	let interrupted = false;
	const onSigint = () => {
		if (interrupted) process.exit(EXIT.interrupted); // a second Ctrl-C does not wait
		interrupted = true;
		void client.close(new Error('interrupted (SIGINT)'));
	};
	process.on('SIGINT', onSigint);

	if (verbose) stderr(`* transport: ${transport.name}`);
	let code: number;
	try {
		trace.begin();
		const promise = client(plan.url, {
			...(plan.method !== undefined && {method: plan.method}),
			...(plan.body !== undefined && {method: plan.method ?? 'POST', body: plan.body as BodyInit}),
			...(plan.headers.length > 0 && {headers: plan.headers}),
		});
		// The text reader reads the body inside the attempt, so a body lost midway is retried; with -o the
		// body streams to the file, and what was written cannot be taken back: no retry after the headers.
		const data = plan.output === undefined ? await promise.text() : await download(await promise, plan.output, progress);
		trace.done();
		const response = await promise;
		const declared = Number(response.headers.get('content-length') ?? Number.NaN);
		const bytes = typeof data === 'number' ? data : Number.isSafeInteger(declared) ? declared : undefined;
		const statusLine = `${response.status} ${response.statusText}`.trim();
		if (verbose) {
			stderr(waterfall(trace, bytes, statusLine));
			for (const [name, value] of response.headers) stderr(`< ${name}: ${value}`);
		}
		if (report) {
			const timings = trace.timings ?? {queue: 0, headers: 0, body: 0, total: 0};
			const headersAt = trace.attempts.at(-1)?.headers ?? trace.end!;
			await print(`${JSON.stringify({
				ok: true,
				status: response.status,
				statusText: response.statusText,
				headers: headersObject(response.headers),
				url: response.url,
				attempts: trace.attempts.at(-1)?.number ?? 0,
				timings: {queue: round(timings.queue), headers: round(timings.headers), body: round(trace.end! - headersAt), total: round(trace.end!)},
				...(typeof data === 'string' ? {body: data} : {body: null, file: plan.output, bytes: data}),
			})}\n`);
		} else if (typeof data === 'string') {
			await print(data);
		}
		code = EXIT.ok;
	} catch (error) {
		if (error instanceof WriteFailure) {
			stderr(`surefetch: (${EXIT.write}) ${error.message}`);
			if (report) await print(`${JSON.stringify({ok: false, error: {name: error.name, kind: 'write', message: error.message}})}\n`);
			code = EXIT.write;
		} else if (!isFetchError(error)) {
			stderr(`surefetch: internal error: ${(error as Error)?.stack ?? String(error)}`);
			if (report) await print(`${JSON.stringify({ok: false, error: {name: (error as Error)?.name, message: String((error as Error)?.message ?? error)}})}\n`);
			code = EXIT.internal;
		} else {
			trace.fail(error);
			code = exitCodeOf(error);
			if (verbose) {
				stderr(waterfall(trace, undefined, undefined));
				if (error.kind === 'http') for (const [name, value] of error.headers) stderr(`< ${name}: ${value}`);
			}
			stderr(`surefetch: (${code}) ${error.message}`);
			if (report) await print(`${JSON.stringify({ok: false, error: error.toJSON()})}\n`);
		}
	} finally {
		process.off('SIGINT', onSigint);
		if (verbose) for (const [name, listener] of subscriptions) diagnostics.unsubscribe(name, listener);
	}
	await transport.fetch?.close();
	return code;
}

function usage(error: unknown, report: boolean): number {
	const message = error instanceof Error ? error.message : String(error);
	process.stderr.write(`surefetch: ${message}\n${error instanceof UsageError ? 'Try surefetch --help.\n' : ''}`);
	if (report) process.stdout.write(`${JSON.stringify({ok: false, error: {name: error instanceof Error ? error.name : 'Error', kind: 'usage', message}})}\n`);
	return EXIT.invalid;
}

function ownVersion(): string {
	try {
		// dist/node/cli.js -> the package's own package.json
		return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version;
	} catch {
		return '?';
	}
}

process.stdout.on('error', (error: NodeJS.ErrnoException) => {
	// `surefetch url | head`: the reader went away; that is not a failure of the request.
	if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
	throw error;
});

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Nothing of ours is pending now; should anything else hold the loop open, do not hang on it.
setTimeout(() => process.exit(code), 1000).unref();
