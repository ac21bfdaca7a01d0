// Property-based tests (fast-check): random schedules of a few hundred concurrent requests, each
// with a fault drawn from the fault server's routes, a reader, random deadlines, retries, limits,
// hedges, breakers, caller aborts and close() at a random time. Whatever the schedule:
//   (a) every promise settles by its total deadline plus a margin (a body the caller reads itself:
//       until that read settles);
//   (b) every rejection is a member of the union, and its kind fits the fault (the table below);
//   (c) `client.safe` never rejects;
//   (d) afterwards nothing is left: no timer of surefetch (nor a ref'd timer of anyone), no abort
//       listener on the long-lived signals, nothing pending after close(), nothing in flight on
//       the server.
// A second property checks the limits: FIFO dispatch, never more in flight than the limit (as the
// server sees it), the rate window, and queue deadlines that leave the queue without traffic. A third
// one: `.json()` of a 204/205 is undefined whatever the decode mode (fails today with
// decode.json 'strict', see there).
//
// This file starts its own fault server so that the server's counters are only this file's traffic.
// Replay a failure with the `seed` (and `path`) that fast-check prints:
//   SUREFETCH_PROPERTY_SEED=<seed> [SUREFETCH_PROPERTY_PATH=<path>] npx vitest run --config test/vitest.config.ts test/node/property.test.ts
// SUREFETCH_PROPERTY_RUNS=<n> changes the number of runs (default 6, 5 and 24). Each property prints
// one line: runs, requests, outcomes by kind, worst settle-over-deadline, the seed.
import {createHook} from 'node:async_hooks';
import {getEventListeners} from 'node:events';
import {fileURLToPath} from 'node:url';
import fc from 'fast-check';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {
	breaker, createClient, hedge, isFetchError, limit,
	type Client, type DecodeReason, type FetchFailure, type NetworkCode, type RequestOptions, type SafeResult,
} from '../../src/index.js';
import {charsets, CHARSET_NAMES, type CharsetName} from '../fault-server/charsets.js';
import {startFaultServer, type FaultServer} from '../fault-server/server.js';
import {watchLag, type LagMonitor} from '../support/lag.js';

let server: FaultServer;
let lag: LagMonitor;
beforeAll(async () => {
	server = await startFaultServer({host: '127.0.0.1'});
	lag = watchLag();
});
afterAll(async () => {
	lag?.stop();
	await server?.close();
});

/**
 * How late a promise may settle after its total deadline, on top of the time this process's event
 * loop was held up after that deadline (a few hundred requests in one process on a busy 2-core
 * machine hold it up for seconds: every timer is late then, surefetch's too).
 */
const MARGIN = 1000;
/** How long close() may take to resolve once called (everything it aborts settles at once), on top of the time the loop was held up. */
const CLOSE_BOUND = 2000;

const envInt = (name: string): number | undefined => {
	const value = process.env[name];
	return value === undefined || value === '' ? undefined : Number(value);
};
const fixedSeed = envInt('SUREFETCH_PROPERTY_SEED');
const fixedPath = process.env.SUREFETCH_PROPERTY_PATH || undefined;
const runsOverride = envInt('SUREFETCH_PROPERTY_RUNS');

/** fast-check parameters: always an explicit seed (printed in the summary line, and by fast-check on failure). */
function params(numRuns: number): fc.Parameters<unknown> & {seed: number} {
	const seed = fixedSeed ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
	return {numRuns: runsOverride ?? numRuns, seed, ...(fixedPath ? {path: fixedPath} : {}), endOnFailure: true};
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));
const refTimers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

async function until(condition: () => boolean, ms: number): Promise<boolean> {
	const deadline = now() + ms;
	while (!condition() && now() < deadline) await sleep(10);
	return condition();
}

/**
 * Every timer created while enabled (ref'd or not: surefetch's deadline timers are unref'd, so
 * `getActiveResourcesInfo()` does not see them) that has not fired or been cleared yet, with the
 * stack that created it. `destroy` is delivered asynchronously: give it a moment before `ours()`.
 */
function trackTimers() {
	const created = new Map<number, {where: Error; timer: {hasRef?: () => boolean}}>();
	const hook = createHook({
		init(id, type, _trigger, resource) {
			if (type !== 'Timeout') return;
			const limit = Error.stackTraceLimit;
			Error.stackTraceLimit = 30;
			created.set(id, {where: new Error('timer created'), timer: resource as {hasRef?: () => boolean}});
			Error.stackTraceLimit = limit;
		},
		destroy(id) {
			created.delete(id);
		},
	});
	hook.enable();
	const frames = (stack: string, keep: (line: string) => boolean) => stack.split('\n').slice(1).filter(keep).slice(0, 4).join(' <- ').replace(/\s+/g, ' ');
	return {
		/** Live timers created by surefetch's own code or by ky. */
		ours(): string[] {
			return [...created.values()]
				.map(({where}) => where.stack ?? '')
				.filter((stack) => stack.includes(srcDir) || /node_modules[\\/]ky[\\/]/.test(stack))
				.map((stack) => frames(stack, (line) => line.includes(srcDir) || line.includes('/ky/')));
		},
		/** Live ref'd timers created during the run, whoever created them (to explain a failure). */
		refd(): string[] {
			return [...created.values()]
				.filter(({timer}) => timer.hasRef?.() !== false)
				.map(({where}) => frames(where.stack ?? '', (line) => !line.includes('node:internal') && !line.includes('AsyncHook.init')));
		},
		stop() {
			hook.disable();
		},
	};
}

// ---------------------------------------------------------------------------------------------
// Faults and what each may produce
// ---------------------------------------------------------------------------------------------

type Reader = 'json' | 'text' | 'bytes' | 'late-json' | 'late-text' | 'raw-read' | 'raw-ignore';

type Fault =
	| {name: 'ok' | 'json' | 'delay' | 'trickle' | 'text' | 'html' | 'echo' | 'redirect' | 'redirect-loop' | 'stall-before-headers' | 'stall-mid-body'
		| 'reset-before-headers' | 'close-before-headers' | 'reset-mid-body' | 'close-mid-body' | 'bad-chunk' | 'bad-gzip' | 'malformed-status'
		| 'bad-json' | 'html-as-json' | 'empty-chunked' | 'tls'; path: string}
	| {name: 'status'; path: string; status: number}
	| {name: 'flaky'; path: string; mode: 'status' | 'reset' | 'reset-body' | 'slow'}
	| {name: 'empty'; path: string; status: 200 | 204 | 205}
	| {name: 'bytes'; path: string; n: number}
	| {name: 'too-large' | 'gzip-bomb'; path: string; maxBodyBytes: number}
	| {name: 'charset'; path: string; charset: CharsetName; as: 'json' | 'text'};

const simple = (name: string, path: string): fc.Arbitrary<Fault> => fc.constant({name, path} as Fault);
const framing = fc.constantFrom('cl', 'chunked');
/**
 * Paths starting with TLS go to the TLS listener (self-signed: NetworkError 'tls'), another origin.
 * (No route to `refusedUrl`: that port is closed, not reserved, and another server started on the
 * machine meanwhile may get it; it happened with two suites running side by side.)
 */
const TLS = 'TLS:';

/** One arbitrary per route family of the fault server (`?id=ID` is replaced by a per-run id); answers weigh more than faults. */
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
	{weight: 4, arbitrary: simple('ok', '/ok')},
	{weight: 3, arbitrary: fc.integer({min: 0, max: 65_536}).map((size): Fault => ({name: 'json', path: `/json?size=${size}`}))},
	{weight: 3, arbitrary: fc.integer({min: 0, max: 2000}).map((ms): Fault => ({name: 'delay', path: `/delay?ms=${ms}`}))},
	{weight: 2, arbitrary: fc.record({every: fc.integer({min: 0, max: 300}), chunks: fc.integer({min: 0, max: 6})})
		.map(({every, chunks}): Fault => ({name: 'trickle', path: `/trickle?every=${every}&chunks=${chunks}&size=8`}))},
	{weight: 1, arbitrary: simple('text', '/text')},
	{weight: 1, arbitrary: simple('html', '/html')},
	{weight: 1, arbitrary: simple('echo', '/echo')},
	{weight: 1, arbitrary: fc.integer({min: 1, max: 200_000}).map((n): Fault => ({name: 'bytes', n, path: `/bytes?n=${n}`}))},
	{weight: 1, arbitrary: fc.constantFrom(301, 302, 303, 307, 308).map((code): Fault => ({name: 'redirect', path: `/redirect?status=${code}&to=/ok`}))},
	{weight: 1, arbitrary: simple('redirect-loop', '/redirect-loop')},
	{weight: 1, arbitrary: simple('stall-before-headers', '/stall-before-headers')},
	{weight: 1, arbitrary: framing.map((f): Fault => ({name: 'stall-mid-body', path: `/stall-mid-body?framing=${f}`}))},
	{weight: 1, arbitrary: simple('reset-before-headers', '/reset-before-headers')},
	{weight: 1, arbitrary: simple('close-before-headers', '/close-before-headers')},
	{weight: 1, arbitrary: framing.map((f): Fault => ({name: 'reset-mid-body', path: `/reset-mid-body?framing=${f}`}))},
	{weight: 1, arbitrary: framing.map((f): Fault => ({name: 'close-mid-body', path: `/close-mid-body?framing=${f}`}))},
	{weight: 1, arbitrary: simple('bad-chunk', '/bad-chunk')},
	{weight: 1, arbitrary: fc.boolean().map((partial): Fault => ({name: 'bad-gzip', path: `/bad-gzip${partial ? '?partial=1' : ''}`}))},
	{weight: 1, arbitrary: simple('malformed-status', '/malformed-status')},
	{weight: 1, arbitrary: simple('tls', `${TLS}/ok`)},
	{weight: 2, arbitrary: fc.record({
		status: fc.constantFrom(429, 503),
		retryAfter: fc.option(fc.constantFrom('0', '1', '5'), {nil: undefined}),
		date: fc.boolean(),
	}).map(({status, retryAfter, date}): Fault => ({
		name: 'status', status,
		path: `/${status}${retryAfter === undefined ? '' : `?retryAfter=${retryAfter}${date ? '&retryAfterDate=1' : ''}`}`,
	}))},
	{weight: 1, arbitrary: fc.record({code: fc.constantFrom(400, 404, 408, 410, 500, 502, 504), text: fc.boolean()})
		.map(({code, text}): Fault => ({name: 'status', status: code, path: `/status/${code}${text ? '?ct=text/plain' : ''}`}))},
	{weight: 3, arbitrary: fc.record({
		mode: fc.constantFrom('status' as const, 'reset' as const, 'reset-body' as const, 'slow' as const),
		fail: fc.integer({min: 0, max: 2}),
		retryAfter: fc.option(fc.constantFrom('0', '1'), {nil: undefined}),
		ms: fc.integer({min: 50, max: 1200}),
	}).map(({mode, fail, retryAfter, ms}): Fault => ({
		name: 'flaky', mode,
		path: `/flaky?id=ID&fail=${fail}&mode=${mode}${mode === 'slow' ? `&ms=${ms}` : ''}${mode === 'status' && retryAfter ? `&retryAfter=${retryAfter}` : ''}`,
	}))},
	{weight: 1, arbitrary: simple('bad-json', '/bad-json')},
	{weight: 1, arbitrary: simple('html-as-json', '/html-as-json')},
	{weight: 1, arbitrary: fc.constantFrom(200 as const, 204 as const, 205 as const).map((status): Fault => ({name: 'empty', status, path: `/empty?status=${status}`}))},
	{weight: 1, arbitrary: simple('empty-chunked', '/empty-chunked')},
	{weight: 1, arbitrary: fc.record({n: fc.integer({min: 2048, max: 65_536}), max: fc.integer({min: 0, max: 1024}), chunked: fc.boolean()})
		.map(({n, max, chunked}): Fault => ({name: 'too-large', maxBodyBytes: max, path: `/too-large?n=${n}${chunked ? '&cl=0' : ''}`}))},
	{weight: 1, arbitrary: fc.integer({min: 1024, max: 512 * 1024}).map((max): Fault => ({name: 'gzip-bomb', maxBodyBytes: max, path: '/gzip-bomb?mb=1'}))},
	{weight: 3, arbitrary: fc.record({charset: fc.constantFrom(...CHARSET_NAMES), as: fc.constantFrom('json' as const, 'text' as const)})
		.map(({charset, as}): Fault => ({name: 'charset', charset, as, path: `/charset/${charset}?as=${as}`}))},
);

/** Whether the response (when there is one) has a JSON media type, for `decode.json: 'strict'`. */
function jsonMedia(fault: Fault): boolean {
	switch (fault.name) {
		case 'trickle': case 'text': case 'html': case 'bytes': case 'bad-chunk': return false;
		case 'charset': return fault.as === 'json';
		case 'status': return !fault.path.includes('ct=text');
		default: return true;
	}
}

/**
 * What a (fault, reader) pair may end in besides the three outcomes every request may have
 * (`timeout` of a configured phase, `aborted` when a caller abort or close() was scheduled,
 * `circuit-open` when the client has a breaker).
 */
interface Allowed {
	success: boolean;
	network: NetworkCode[];
	http: number[];
	decode: DecodeReason[];
}

const allow = (success: boolean, extra: Partial<Omit<Allowed, 'success'>> = {}): Allowed => ({success, network: [], http: [], decode: [], ...extra});

function allowedFor(fault: Fault, reader: Reader, strict: boolean): Allowed {
	const base = allowedLenient(fault, reader);
	// 'strict': `.json()` refuses a non-JSON media type once the headers are in (a failure before them stays what it was).
	if (strict && reader.endsWith('json') && !jsonMedia(fault)) return {...base, success: false, decode: [...base.decode, 'content-type']};
	return base;
}

function allowedLenient(fault: Fault, reader: Reader): Allowed {
	// Readers read (and decode) inside surefetch; `raw-read` is the caller's own response.text()
	// (no charset; maxBodyBytes still caps what its stream delivers), `raw-ignore` only waits for the headers.
	const as = reader.replace(/^late-/, '') as 'json' | 'text' | 'bytes' | 'raw-read' | 'raw-ignore';
	const decodes = as === 'json' || as === 'text' || as === 'bytes';
	switch (fault.name) {
		case 'ok':
		case 'json':
		case 'delay':
		case 'echo':
		case 'redirect':
			return allow(true);
		case 'trickle': // text/plain "aaaabbbb…" (or empty): never JSON
		case 'text':
		case 'html':
			return as === 'json' ? allow(false, {decode: ['json']}) : allow(true);
		case 'bytes': // bytes 0,1,…,255: not UTF-8 past 0x7f, never JSON
			return as === 'json' ? allow(false, {decode: fault.n > 128 ? ['charset'] : ['json']}) : allow(true);
		case 'redirect-loop':
			return allow(false, {network: ['protocol']});
		case 'tls':
			return allow(false, {network: ['tls']});
		case 'stall-before-headers':
			return allow(false);
		case 'stall-mid-body':
			return allow(as === 'raw-ignore');
		case 'reset-before-headers':
		case 'close-before-headers':
			return allow(false, {network: ['reset']});
		case 'reset-mid-body':
		case 'close-mid-body':
			// A reset can make the kernel drop the head not read yet: a failure before the headers too.
			return allow(as === 'raw-ignore', {network: ['reset']});
		case 'bad-chunk':
		case 'bad-gzip':
			return allow(as === 'raw-ignore', {network: ['protocol']});
		case 'malformed-status':
			return allow(false, {network: ['protocol']});
		case 'status':
			return allow(false, {http: [fault.status]});
		case 'flaky':
			if (fault.mode === 'status') return allow(true, {http: [503]});
			if (fault.mode === 'slow') return allow(true);
			return allow(true, {network: ['reset']});
		case 'bad-json':
		case 'html-as-json':
		case 'empty-chunked':
			return as === 'json' ? allow(false, {decode: ['json']}) : allow(true);
		case 'empty': // 204/205: `.json()` gives undefined
			return as === 'json' && fault.status === 200 ? allow(false, {decode: ['json']}) : allow(true);
		case 'too-large': // maxBodyBytes (<= 1 KiB) is below the body (>= 2 KiB)
		case 'gzip-bomb': // 1 MiB once inflated, maxBodyBytes <= 512 KiB
			return decodes || as === 'raw-read' ? allow(false, {decode: ['too-large']}) : allow(true);
		case 'charset': {
			const fixture = charsets[fault.charset];
			if (as === 'json') {
				if (fixture.expect !== 'ok') return allow(false, {decode: ['charset']}); // json decodes fatally
				return fault.as === 'json' ? allow(true) : allow(false, {decode: ['json']}); // a text body is not JSON
			}
			if (as === 'text' && fixture.expect === 'unknown-label') return allow(false, {decode: ['charset']});
			return allow(true);
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------------

interface Deadlines {
	total: number;
	headers?: number;
	idle?: number;
	attempt?: number;
	queue?: number;
}

interface RequestPlan {
	fault: Fault;
	reader: Reader;
	method: 'GET' | 'POST';
	idempotencyKey: boolean;
	timeout: Deadlines;
	retry: {limit: number; delay: number};
	hedge: {delay: number; max: number} | undefined;
	/** ms after the call at which the caller aborts its own signal. */
	abortAt: number | undefined;
	/** Without an abort: the long-lived per-request signal, or none. */
	longLivedSignal: boolean;
	safe: boolean;
	/** `decode.json: 'strict'` (never with an empty 204/205: see the no-content property). */
	strict: boolean;
	/** ms after the run starts at which the call is made. */
	startAt: number;
}

interface RunPlan {
	requests: RequestPlan[];
	limit: {concurrency?: number; perHost?: number; rate?: {requests: number; per: number}} | undefined;
	breaker: {failures: number; cooldown: number; probes: number} | undefined;
	close: {at: number; via: 'close' | 'signal'} | undefined;
}

/** `arb` in `percent`% of the values, undefined otherwise. */
function sometimes<T>(arb: fc.Arbitrary<T>, percent: number): fc.Arbitrary<T | undefined> {
	return fc.oneof({arbitrary: fc.constant(undefined), weight: 100 - percent}, {arbitrary: arb, weight: percent});
}

/** Exactly `min`..`max` values, uniformly (fast-check otherwise favours short arrays). */
function arrayOf<T>(arb: fc.Arbitrary<T>, min: number, max: number): fc.Arbitrary<T[]> {
	return fc.noBias(fc.integer({min, max})).chain((n) => fc.array(arb, {minLength: n, maxLength: n}));
}

const deadlinesArb: fc.Arbitrary<Deadlines> = fc.integer({min: 200, max: 1500}).chain((total) => {
	const phase = (min: number, percent: number) => sometimes(fc.integer({min, max: total}), percent);
	return fc.record({total: fc.constant(total), headers: phase(50, 50), idle: phase(50, 50), attempt: phase(50, 25), queue: phase(20, 30)});
});

const requestArb: fc.Arbitrary<RequestPlan> = fc.record({
	fault: faultArb,
	reader: fc.constantFrom<Reader>('json', 'text', 'bytes', 'late-json', 'late-text', 'raw-read', 'raw-ignore'),
	method: fc.constantFrom<'GET' | 'POST'>('GET', 'GET', 'GET', 'POST'),
	idempotencyKey: fc.boolean(),
	timeout: deadlinesArb,
	retry: fc.record({limit: fc.integer({min: 0, max: 2}), delay: fc.integer({min: 0, max: 100})}),
	hedge: sometimes(fc.record({delay: fc.integer({min: 20, max: 400}), max: fc.integer({min: 1, max: 2})}), 25),
	abortAt: sometimes(fc.integer({min: 0, max: 1500}), 20),
	longLivedSignal: fc.boolean(),
	safe: fc.boolean(),
	strict: fc.oneof({weight: 3, arbitrary: fc.constant(false)}, {weight: 1, arbitrary: fc.constant(true)}),
	startAt: fc.integer({min: 0, max: 300}),
}).map((plan) => ({...plan, strict: plan.strict && !(plan.fault.name === 'empty' && plan.fault.status !== 200)}));

const runArb: fc.Arbitrary<RunPlan> = fc.record({
	requests: arrayOf(requestArb, 50, 300),
	limit: sometimes(fc.record({
		concurrency: fc.integer({min: 4, max: 64}),
		perHost: fc.integer({min: 2, max: 32}),
		rate: fc.record({requests: fc.integer({min: 20, max: 200}), per: fc.integer({min: 100, max: 500})}),
	}, {requiredKeys: []}).filter((options) => Object.keys(options).length > 0), 60), // limit({}) is refused: it limits nothing
	breaker: sometimes(fc.record({
		failures: fc.integer({min: 3, max: 15}),
		cooldown: fc.integer({min: 50, max: 500}),
		probes: fc.integer({min: 1, max: 2}),
	}), 40),
	// close() in about a third of the runs, usually while requests are in flight.
	close: fc.oneof(
		{arbitrary: fc.constant(undefined), weight: 2},
		{arbitrary: fc.record({at: fc.integer({min: 0, max: 2000}), via: fc.constantFrom<'close' | 'signal'>('close', 'signal')}), weight: 1},
	),
}).map((plan) => ({
	...plan,
	// fast-check prints the counterexample on failure: one line, not three hundred objects.
	[fc.toStringMethod]: () => `run of ${plan.requests.length} requests (limit ${JSON.stringify(plan.limit)}, breaker ${JSON.stringify(plan.breaker)}, close ${JSON.stringify(plan.close)}): replay it with the seed and path`,
}));

// ---------------------------------------------------------------------------------------------
// Running a schedule
// ---------------------------------------------------------------------------------------------

interface Outcome {
	index: number;
	ok: boolean;
	error?: unknown;
	/** 'call': the response promise (or the safe result) failed; 'read': the body read failed. */
	where?: 'call' | 'read';
	calledAt: number;
	settledAt: number;
	/** close() (or the client signal) had already been called when this call was made. */
	afterClose: boolean;
	/** A violation found while running (a safe promise that rejected). */
	problem?: string;
}

type Settled = {ok: true} | {ok: false; error: unknown; where: 'call' | 'read'};

async function viaClient(client: Client, plan: RequestPlan, url: string, options: RequestOptions): Promise<Settled> {
	const call = plan.method === 'GET' ? client.get(url, options) : client.post(url, options);
	const fail = (where: 'call' | 'read') => (error: unknown): Settled => ({ok: false, error, where});
	const done = (): Settled => ({ok: true});
	switch (plan.reader) {
		case 'json':
		case 'text':
		case 'bytes':
			return call[plan.reader]().then(done, fail('read'));
		case 'late-json':
		case 'late-text': {
			const first = await call.then(done, fail('call'));
			if (!first.ok) return first;
			return (plan.reader === 'late-json' ? call.json() : call.text()).then(done, fail('read'));
		}
		case 'raw-read': {
			let response: Response;
			try {
				response = await call;
			} catch (error) {
				return fail('call')(error);
			}
			return response.text().then(done, fail('read'));
		}
		case 'raw-ignore':
			return call.then(done, fail('call'));
	}
}

class SafeRejected {
	constructor(readonly error: unknown) {}
}

async function viaSafe(client: Client, plan: RequestPlan, url: string, options: RequestOptions): Promise<Settled> {
	const call = plan.method === 'GET' ? client.safe.get(url, options) : client.safe.post(url, options);
	const safely = async <T>(promise: Promise<SafeResult<T>>): Promise<SafeResult<T>> => {
		try {
			return await promise;
		} catch (error) {
			throw new SafeRejected(error);
		}
	};
	const asSettled = (result: SafeResult<unknown>, where: 'call' | 'read'): Settled => (result.ok ? {ok: true} : {ok: false, error: result.error, where});
	switch (plan.reader) {
		case 'json':
		case 'text':
		case 'bytes':
			return asSettled(await safely(call[plan.reader]()), 'read');
		case 'late-json':
		case 'late-text': {
			const first = await safely(call);
			if (!first.ok) return asSettled(first, 'call');
			return asSettled(await safely(plan.reader === 'late-json' ? call.json() : call.text()), 'read');
		}
		case 'raw-read': {
			const first = await safely(call);
			if (!first.ok) return asSettled(first, 'call');
			// The Response itself is fetch's API: its body methods reject (with the union).
			return first.data.text().then((): Settled => ({ok: true}), (error: unknown): Settled => ({ok: false, error, where: 'read'}));
		}
		case 'raw-ignore':
			return asSettled(await safely(call), 'call');
	}
}

interface RunState {
	client: Client;
	runId: string;
	closeCalledAt: number | undefined;
	closeReason: Error;
	longLived: AbortSignal;
	abortReasons: Map<number, Error>;
	/** The callers' own per-request signals: no listener may stay on them either. */
	ownSignals: AbortSignal[];
}

async function runRequest(state: RunState, plan: RequestPlan, index: number): Promise<Outcome> {
	await sleep(plan.startAt);
	const options: RequestOptions = {
		timeout: plan.timeout,
		retry: {limit: plan.retry.limit, delay: () => plan.retry.delay},
	};
	if (plan.fault.name === 'too-large' || plan.fault.name === 'gzip-bomb') options.maxBodyBytes = plan.fault.maxBodyBytes;
	if (plan.strict) options.decode = {json: 'strict'};
	if (plan.method === 'POST') options.json = {index};
	if (plan.idempotencyKey) options.headers = {'idempotency-key': `${state.runId}-${index}`};
	let abortTimer: ReturnType<typeof setTimeout> | undefined;
	if (plan.abortAt !== undefined) {
		const controller = new AbortController();
		const reason = new Error(`caller abort of request ${index}`);
		state.abortReasons.set(index, reason);
		state.ownSignals.push(controller.signal);
		options.signal = controller.signal;
		abortTimer = setTimeout(() => controller.abort(reason), plan.abortAt);
	} else if (plan.longLivedSignal) {
		options.signal = state.longLived;
	}
	const url = plan.fault.path
		.replace('id=ID', `id=${state.runId}-${index}`)
		.replace(TLS, server.tlsUrl);
	const afterClose = state.closeCalledAt !== undefined;
	const calledAt = now();
	let settled: Settled;
	let problem: string | undefined;
	try {
		// A hedged request: a derived client (same lifecycle, limits and breaker) that also hedges.
		const client = plan.hedge ? state.client.extend({use: [hedge(plan.hedge)]}) : state.client;
		settled = await (plan.safe ? viaSafe : viaClient)(client, plan, url, options);
	} catch (error) {
		// Only viaSafe throws (SafeRejected): the safe client rejected, which it must never do.
		const raw = error instanceof SafeRejected ? error.error : error;
		problem = `client.safe rejected with ${show(raw)}`;
		settled = {ok: false, error: raw, where: 'call'};
	} finally {
		clearTimeout(abortTimer);
	}
	return {index, ...settled, calledAt, settledAt: now(), afterClose, problem};
}

function show(value: unknown): string {
	if (isFetchError(value)) return `${value.name}(${JSON.stringify(summaryOf(value))}): ${value.message}`;
	if (value instanceof Error) return `${value.name}: ${value.message}${value.cause ? ` (cause: ${show(value.cause)})` : ''}`;
	return String(value);
}

function summaryOf(error: FetchFailure): string {
	switch (error.kind) {
		case 'timeout': return `timeout/${error.phase}`;
		case 'aborted': return `aborted/${error.source}`;
		case 'network': return `network/${error.code}/${error.phase}`;
		case 'http': return `http/${error.status}`;
		case 'decode': return `decode/${error.reason}`;
		case 'circuit-open': return 'circuit-open';
		case 'invalid': return `invalid/${error.reason}`;
	}
}

/** Why this outcome does not fit its plan, or undefined when it does. */
function judge(outcome: Outcome, plan: RequestPlan, run: RunPlan, state: RunState): string | undefined {
	if (outcome.problem) return outcome.problem;
	const allowed = allowedFor(plan.fault, plan.reader, plan.strict);
	if (outcome.afterClose) {
		// close() makes later calls reject at once.
		if (outcome.ok) return 'succeeded although the client was closed before the call';
		if (!isFetchError(outcome.error) || outcome.error.kind !== 'aborted' || outcome.error.source !== 'client') {
			return `after close(): expected AbortedError(client), got ${show(outcome.error)}`;
		}
		return undefined;
	}
	if (outcome.ok) return allowed.success ? undefined : 'succeeded, but this fault cannot succeed with this reader';
	const error = outcome.error;
	if (!isFetchError(error)) return `rejected with a raw error: ${show(error)}`;
	if (error.message.includes('\n')) return `message is not one line: ${JSON.stringify(error.message)}`;
	const maxAttempts = (1 + plan.retry.limit) * (1 + (plan.hedge?.max ?? 0));
	if (error.attempts > maxAttempts) return `attempts ${error.attempts} > ${maxAttempts} (${show(error)})`;
	if (error.elapsed > outcome.settledAt - outcome.calledAt + 50) return `elapsed ${error.elapsed} ms, but it settled ${Math.round(outcome.settledAt - outcome.calledAt)} ms after the call`;
	switch (error.kind) {
		case 'timeout': {
			const configured = (plan.timeout as unknown as Record<string, number | undefined>)[error.phase];
			if (error.phase === 'queue' && !run.limit) return 'timeout of phase queue without any limit';
			if (configured === undefined) return `timeout of phase ${error.phase}, which was not configured (${show(error)})`;
			if (error.timeout !== configured) return `timeout ${error.timeout} of phase ${error.phase}, configured ${configured}`;
			return undefined;
		}
		case 'aborted':
			if (error.source === 'signal') {
				const reason = state.abortReasons.get(outcome.index);
				if (!reason) return 'AbortedError(signal) without a caller abort';
				return error.reason === reason ? undefined : `AbortedError(signal) with another reason: ${String(error.reason)}`;
			}
			if (!run.close) return 'AbortedError(client) without close()';
			return error.reason === state.closeReason ? undefined : `AbortedError(client) with another reason: ${String(error.reason)}`;
		case 'circuit-open':
			return run.breaker ? undefined : 'CircuitOpenError without a breaker';
		case 'network':
			return allowed.network.includes(error.code) ? undefined : `unexpected ${show(error)}`;
		case 'http': {
			if (!allowed.http.includes(error.status)) return `unexpected ${show(error)}`;
			// The error body was read and decoded: JSON for a JSON media type, else text.
			const textBody = plan.fault.path.includes('ct=text');
			if (textBody ? typeof error.body !== 'string' : typeof (error.body as {error?: unknown} | undefined)?.error !== 'string') {
				return `HttpError ${error.status}: body ${JSON.stringify(error.body)} is not the decoded ${textBody ? 'text' : 'JSON'} error body`;
			}
			return undefined;
		}
		case 'decode':
			return allowed.decode.includes(error.reason) ? undefined : `unexpected ${show(error)}`;
		case 'invalid':
			return `unexpected ${show(error)}`;
	}
}

interface Tally {
	runs: number;
	requests: number;
	worstOver: number;
	/** The longest the event loop was held up after a deadline (forgiven in worstOver). */
	worstHeld: number;
	kinds: Map<string, number>;
	closeMs: number;
}

function bump(map: Map<string, number>, key: string): void {
	map.set(key, (map.get(key) ?? 0) + 1);
}

let runSeq = 0;

async function runSchedule(run: RunPlan, tally: Tally): Promise<void> {
	const timersBefore = refTimers();
	const tracker = trackTimers();
	const lifetime = new AbortController();
	const longLived = new AbortController();
	const client = createClient({
		signal: lifetime.signal,
		use: [...(run.limit ? [limit(run.limit)] : []), ...(run.breaker ? [breaker(run.breaker)] : [])],
		baseUrl: server.url,
	});
	const state: RunState = {
		client,
		runId: `p${process.pid}-${++runSeq}-${Date.now().toString(36)}`,
		closeCalledAt: undefined,
		closeReason: new Error('closed by the schedule'),
		longLived: longLived.signal,
		abortReasons: new Map(),
		ownSignals: [],
	};
	const problems: string[] = [];
	let closeTimer: ReturnType<typeof setTimeout> | undefined;
	let closing: Promise<number> | undefined;
	try {
		if (run.close) {
			const {at, via} = run.close;
			closeTimer = setTimeout(() => {
				state.closeCalledAt = now();
				const t0 = now();
				if (via === 'signal') lifetime.abort(state.closeReason);
				closing = client.close(state.closeReason).then(() => now() - t0 - lag.within(t0, now()));
			}, at);
		}
		const started = now();
		const pending = run.requests.map((plan, index) => runRequest(state, plan, index));
		// Every request settles long before this guard (it only turns a hang into a failure that says which).
		const longest = Math.max(...run.requests.map((plan) => plan.startAt + plan.timeout.total)) + MARGIN + 20_000;
		const unsettled = new Set(pending.map((_, i) => i));
		pending.forEach((p, i) => void p.then(() => unsettled.delete(i)));
		let guard: ReturnType<typeof setTimeout> | undefined;
		const outcomes = await Promise.race([
			Promise.all(pending),
			new Promise<undefined>((resolve) => {
				guard = setTimeout(() => resolve(undefined), longest);
			}),
		]);
		clearTimeout(guard);
		if (!outcomes) {
			const list = [...unsettled].slice(0, 10).map((i) => `#${i} ${run.requests[i]!.fault.path} ${run.requests[i]!.reader}`);
			throw new Error(`${unsettled.size} requests never settled within ${longest} ms of the start (${Math.round(now() - started)} ms): ${list.join('; ')}`);
		}
		for (const outcome of outcomes) {
			const plan = run.requests[outcome.index]!;
			const over = outcome.settledAt - outcome.calledAt - plan.timeout.total;
			const held = over > 0 ? lag.within(outcome.calledAt + plan.timeout.total, outcome.settledAt) : 0;
			tally.worstOver = Math.max(tally.worstOver, over - held);
			tally.worstHeld = Math.max(tally.worstHeld, held);
			if (over - held > MARGIN) problems.push(`#${outcome.index} ${plan.fault.path} (${plan.reader}): settled ${Math.round(over)} ms after its total deadline of ${plan.timeout.total} ms, of which the event loop was held up ${Math.round(held)} ms`);
			const why = judge(outcome, plan, run, state);
			if (why) problems.push(`#${outcome.index} ${plan.method} ${plan.fault.path} (${plan.reader}${plan.safe ? ', safe' : ''}, retry ${plan.retry.limit}${plan.hedge ? ', hedge' : ''}): ${why}`);
			bump(tally.kinds, outcome.ok ? 'ok' : isFetchError(outcome.error) ? summaryOf(outcome.error).split('/')[0]! : 'raw');
		}
		tally.requests += outcomes.length;
		// A close() scheduled after the last request settled has nothing left to do: drop its timer.
		clearTimeout(closeTimer);

		// The schedule's own close() resolves, and promptly.
		if (closing) {
			const closeMs = await closing;
			tally.closeMs = Math.max(tally.closeMs, closeMs);
			if (closeMs > CLOSE_BOUND) problems.push(`close() took ${Math.round(closeMs)} ms to resolve (not counting the time the event loop was held up)`);
		}
		// Liveness of the breaker: once the faults stop and the cooldown has passed, probes go through
		// and the circuit closes again (a probe slot that leaked would refuse every call from now on).
		// Until the run's last deadline a refusal is no proof of a leak: a probe whose body nobody reads
		// (raw-ignore) holds its slot until its total deadline, and an attempt that fails late opens the
		// circuit again (seen in a busy run: a cooldown of 111 ms, a body held 1.5 s). So the check is
		// tried again until the last deadline and one cooldown have passed (with room for a held-up
		// event loop); a refusal after that fails it.
		if (run.breaker && !run.close) {
			const lastDeadline = started + Math.max(...run.requests.map((plan) => plan.startAt + plan.timeout.total));
			const giveUpAt = Math.max(now(), lastDeadline) + run.breaker.cooldown + 5000;
			let results: string[];
			for (;;) {
				await sleep(run.breaker.cooldown + 20);
				results = [];
				for (let i = 0; i <= run.breaker.probes + 1; i++) {
					results.push(await client.get('/ok', {timeout: 5000, retry: 0}).json().then(() => 'ok', (error: unknown) => (isFetchError(error) ? summaryOf(error) : show(error))));
				}
				if (results.every((r) => r === 'ok') || now() > giveUpAt) break;
			}
			if (results.some((r) => r !== 'ok')) problems.push(`after the cooldown, sequential calls to /ok gave ${results.join(', ')} (breaker ${JSON.stringify(run.breaker)})`);
		}
		// Bodies nobody reads (raw-ignore) keep their operation open until a deadline: close() ends
		// them, and resolves once every operation has settled, so nothing is queued or pending after it.
		const t0 = now();
		await client.close();
		const t1 = now();
		if (t1 - t0 - lag.within(t0, t1) > CLOSE_BOUND) problems.push(`the final close() took ${Math.round(t1 - t0)} ms, of which the event loop was held up ${Math.round(lag.within(t0, t1))} ms`);
		const late = await client.get('/ok').then(() => 'resolved', (error: unknown) => (isFetchError(error) && error.kind === 'aborted' && error.source === 'client' ? 'ok' : show(error)));
		if (late !== 'ok') problems.push(`a call after close() did not reject with AbortedError(client): ${late}`);

		for (const [name, signal] of [['client signal', lifetime.signal], ['long-lived request signal', longLived.signal]] as const) {
			const count = getEventListeners(signal, 'abort').length;
			if (count !== 0) problems.push(`${count} abort listener(s) left on the ${name}`);
		}
		const holding = state.ownSignals.filter((signal) => getEventListeners(signal, 'abort').length > 0).length;
		if (holding > 0) problems.push(`${holding} callers' own signals still have an abort listener`);
		if (!(await until(() => server.inFlight === 0, 10_000))) problems.push(`the server still has ${server.inFlight} requests in flight 10 s after close()`);
		await until(() => refTimers() <= timersBefore, 5000);
		if (refTimers() > timersBefore) problems.push(`${refTimers()} ref'd timers alive, ${timersBefore} before the run; created during the run: ${tracker.refd().join(' | ') || 'none'}`);
		let ours: string[] = [];
		await until(() => (ours = tracker.ours()).length === 0, 3000);
		if (ours.length > 0) problems.push(`${ours.length} surefetch/ky timer(s) still alive, e.g. created at ${ours.slice(0, 3).join(' | ')}`);
	} finally {
		clearTimeout(closeTimer);
		tracker.stop();
		await client.close();
		tally.runs++;
	}
	if (problems.length > 0) {
		throw new Error(`${problems.length} problem(s) in a run of ${run.requests.length} requests (limit ${JSON.stringify(run.limit)}, breaker ${JSON.stringify(run.breaker)}, close ${JSON.stringify(run.close)}):\n  ${problems.slice(0, 15).join('\n  ')}`);
	}
}

// ---------------------------------------------------------------------------------------------
// The limits property
// ---------------------------------------------------------------------------------------------

type LimitRoute = 'ok' | 'json' | 'trickle' | 'delay' | '404';

interface LimitRequest {
	route: LimitRoute;
	param: number;
	reader: 'json' | 'text' | 'bytes' | 'raw-read';
	queue: number | undefined;
}

interface LimitPlan {
	concurrency: number;
	perHost: number | undefined;
	rate: {requests: number; per: number} | undefined;
	requests: LimitRequest[];
}

const limitRequestArb: fc.Arbitrary<LimitRequest> = fc.record({
	route: fc.constantFrom<LimitRoute>('ok', 'ok', 'json', 'trickle', 'delay', '404'),
	param: fc.integer({min: 0, max: 10}),
	reader: fc.constantFrom<LimitRequest['reader']>('json', 'text', 'bytes', 'raw-read'),
	queue: sometimes(fc.integer({min: 20, max: 400}), 25),
});

const limitPlanArb: fc.Arbitrary<LimitPlan> = fc.record({
	concurrency: fc.integer({min: 1, max: 8}),
	perHost: fc.option(fc.integer({min: 1, max: 8}), {nil: undefined}),
	rate: sometimes(fc.record({requests: fc.integer({min: 2, max: 10}), per: fc.integer({min: 50, max: 200})}), 35),
	requests: arrayOf(limitRequestArb, 30, 150),
}).map((plan) => {
	// With a rate, keep the run around a second: requests x per / rate.requests.
	const cap = plan.rate ? plan.rate.requests * Math.max(1, Math.floor(1000 / plan.rate.per)) : plan.requests.length;
	const requests = plan.requests.slice(0, Math.max(10, cap));
	return Object.assign({...plan, requests}, {
		[fc.toStringMethod]: () => `limits run (concurrency ${plan.concurrency}, perHost ${plan.perHost}, rate ${JSON.stringify(plan.rate)}, ${requests.length} requests)`,
	});
});

function limitPath(request: LimitRequest): string {
	switch (request.route) {
		case 'ok': return '/ok';
		case 'json': return `/json?size=${request.param * 512}`;
		case 'trickle': return `/trickle?every=${request.param}&chunks=${request.param % 3}&size=4`;
		case 'delay': return `/delay?ms=${request.param * 2}`;
		case '404': return '/status/404';
	}
}

async function runLimits(plan: LimitPlan, tally: Tally & {maxSeen: number}): Promise<void> {
	const group = `limits-${process.pid}-${++runSeq}`;
	const dispatched: Array<{index: number; at: number}> = [];
	const client = createClient({
		baseUrl: server.url,
		retry: 0,
		timeout: {total: 20_000},
		use: [limit({concurrency: plan.concurrency, ...(plan.perHost ? {perHost: plan.perHost} : {}), ...(plan.rate ? {rate: plan.rate} : {})})],
		on: {request: ({request, attempt}) => {
			if (attempt === 1) dispatched.push({index: Number(new URL(request.url).searchParams.get('n')), at: now()});
		}},
	});
	const problems: string[] = [];
	try {
		const results = await Promise.all(plan.requests.map(async (request, index) => {
			const path = limitPath(request);
			const url = `${path}${path.includes('?') ? '&' : '?'}group=${group}&id=${group}-${index}&n=${index}`;
			const options: RequestOptions = request.queue === undefined ? {} : {timeout: {queue: request.queue}};
			const call = client.get(url, options);
			try {
				if (request.reader === 'raw-read') await (await call).text();
				else await call[request.reader]();
				return {index, error: undefined as unknown};
			} catch (error) {
				return {index, error};
			}
		}));
		const limit = Math.min(plan.concurrency, plan.perHost ?? Number.POSITIVE_INFINITY);
		const stats = await (await fetch(`${server.url}/__stats?group=${group}`)).json() as {groupMaxInFlight: number};
		tally.maxSeen = Math.max(tally.maxSeen, stats.groupMaxInFlight);
		if (stats.groupMaxInFlight > limit) problems.push(`the server saw ${stats.groupMaxInFlight} requests in flight, the limit is ${limit}`);

		let queueTimeouts = 0;
		for (const {index, error} of results) {
			const request = plan.requests[index]!;
			tally.requests++;
			bump(tally.kinds, error === undefined ? 'ok' : isFetchError(error) ? summaryOf(error) : 'raw');
			if (error === undefined) {
				if (request.reader === 'json' && (request.route === 'trickle' || request.route === '404')) problems.push(`#${index} ${limitPath(request)} succeeded with .json()`);
				continue;
			}
			if (!isFetchError(error)) {
				problems.push(`#${index}: raw error ${show(error)}`);
				continue;
			}
			if (error.kind === 'timeout' && error.phase === 'queue') {
				queueTimeouts++;
				if (error.timeout !== request.queue) problems.push(`#${index}: queue timeout ${error.timeout}, configured ${request.queue}`);
				if (error.attempts !== 0) problems.push(`#${index}: a queue timeout with ${error.attempts} attempts`);
				if (server.hits(`${group}-${index}`) !== 0) problems.push(`#${index}: timed out in the queue, yet the server saw it`);
				continue;
			}
			const fits = (error.kind === 'http' && request.route === '404' && error.status === 404)
				|| (error.kind === 'decode' && error.reason === 'json' && request.reader === 'json' && request.route === 'trickle');
			if (!fits) problems.push(`#${index} ${limitPath(request)} (${request.reader}): unexpected ${show(error)}`);
		}
		// FIFO: first attempts are dispatched in call order (requests that left the queue are skipped).
		const order = dispatched.map((d) => d.index);
		for (let i = 1; i < order.length; i++) {
			if (order[i]! <= order[i - 1]!) {
				problems.push(`dispatch order is not FIFO: #${order[i]} after #${order[i - 1]} (${order.slice(Math.max(0, i - 5), i + 5).join(',')})`);
				break;
			}
		}
		if (order.length + queueTimeouts !== plan.requests.length) problems.push(`${order.length} dispatched + ${queueTimeouts} queue timeouts != ${plan.requests.length} requests`);
		// Rate: never more than `requests` dispatches within `per` ms. The event is emitted some
		// microtasks after the slot was taken (behind other requests' work): 25 ms of tolerance, plus
		// the time the loop was held up before the earlier event (a late one shortens the gap seen).
		if (plan.rate) {
			const times = dispatched.map((d) => d.at).sort((a, b) => a - b);
			const {requests: r, per} = plan.rate;
			for (let i = 0; i + r < times.length; i++) {
				const held = lag.within(times[i]! - per, times[i]!);
				if (times[i + r]! - times[i]! < per - 25 - held) {
					problems.push(`rate ${r}/${per} ms broken: dispatches ${i} and ${i + r} only ${Math.round(times[i + r]! - times[i]!)} ms apart (event loop held up ${Math.round(held)} ms before the first)`);
					break;
				}
			}
		}
	} finally {
		await client.close();
		tally.runs++;
	}
	if (!(await until(() => server.inFlight === 0, 10_000))) problems.push(`the server still has ${server.inFlight} requests in flight 10 s after close()`);
	if (problems.length > 0) throw new Error(`${problems.length} problem(s):\n  ${problems.slice(0, 15).join('\n  ')}`);
}

// ---------------------------------------------------------------------------------------------

function summary(name: string, tally: Tally, seed: number, extra = ''): string {
	const kinds = [...tally.kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
	return `[property] ${name}: ${tally.runs} runs, ${tally.requests} requests (${kinds}), worst settle-over-deadline ${Math.round(tally.worstOver)} ms (event loop held up at most ${Math.round(tally.worstHeld)} ms)${extra}, seed ${seed}`;
}

// A response without content gives `undefined` from .json(), whatever the decode mode, the reader's
// timing or the API (spec: "Status 204/205 or a HEAD request give undefined from .json()").
interface NoContentPlan {
	route: string;
	json: 'strict' | 'lenient';
	late: boolean;
	safe: boolean;
}

const noContentArb: fc.Arbitrary<NoContentPlan> = fc.record({
	route: fc.constantFrom('/empty?status=204', '/empty?status=205', '/status/204', '/status/205'),
	json: fc.constantFrom<'strict' | 'lenient'>('strict', 'lenient'),
	late: fc.boolean(),
	safe: fc.boolean(),
});

async function noContent(plan: NoContentPlan): Promise<void> {
	const client = createClient({baseUrl: server.url, retry: 0, decode: {json: plan.json}});
	try {
		let value: unknown;
		if (plan.safe) {
			const call = client.safe.get(plan.route);
			if (plan.late) await call;
			const result = await call.json();
			value = result.ok ? result.data : result.error;
		} else {
			const call = client.get(plan.route);
			if (plan.late) await call;
			value = await call.json().catch((error: unknown) => error);
		}
		expect(isFetchError(value) ? show(value) : value, `${plan.route} with decode.json ${plan.json}`).toBeUndefined();
	} finally {
		await client.close();
	}
}

describe('properties', () => {
	it('any schedule of faults, readers, deadlines, retries, limits, hedges, breakers, aborts and close() settles in time, with the union, and leaves nothing behind', async () => {
		const parameters = params(6);
		const tally: Tally = {runs: 0, requests: 0, worstOver: Number.NEGATIVE_INFINITY, worstHeld: 0, kinds: new Map(), closeMs: 0};
		try {
			await fc.assert(fc.asyncProperty(runArb, (run) => runSchedule(run, tally)), parameters);
		} finally {
			console.log(summary('chaos schedule', tally, parameters.seed, `, slowest close() ${Math.round(tally.closeMs)} ms`));
		}
		expect(tally.requests).toBeGreaterThanOrEqual(50 * tally.runs);
	}, 240_000);

	it('limits: FIFO dispatch, never more in flight than the limit as the server sees it, the rate window, queue deadlines without traffic', async () => {
		const parameters = params(5);
		const tally = {runs: 0, requests: 0, worstOver: 0, worstHeld: 0, kinds: new Map<string, number>(), closeMs: 0, maxSeen: 0};
		try {
			await fc.assert(fc.asyncProperty(limitPlanArb, (plan) => runLimits(plan, tally)), parameters);
		} finally {
			console.log(summary('limits', tally, parameters.seed, `, most in flight seen by the server ${tally.maxSeen}`).replace(', worst settle-over-deadline 0 ms (event loop held up at most 0 ms)', ''));
		}
	}, 240_000);

	// Bug (src/readers.ts readJson): with decode.json 'strict', the media-type check runs before the
	// 204/205/HEAD rule, so a 204 or 205 (no body, no Content-Type) rejects with DecodeError
	// 'content-type' instead of giving undefined. ('lenient' gives undefined, as the spec says.)
	it('no content: .json() gives undefined for 204/205 whatever decode.json, the reader\'s timing or safe', async () => {
		await fc.assert(fc.asyncProperty(noContentArb, noContent), {...params(24), endOnFailure: true});
	});
});
