// Options: the public option types, the defaults, validation with messages that name the option and
// the rule, and the merge that happens once per client (per request only what differs).

import type {Options as KyOptions} from 'ky';
import type {FetchFailure} from './errors.js';
import type {Listeners} from './events.js';
import {makeRedactSet, type RedactSet} from './redact.js';
import {normalizeLabel} from './charset.js';

export type Deadline = number | false;

export interface TimeoutOptions {
	/** From the call until the result (queue, attempts, backoff, body). Default 60000. */
	total?: Deadline;
	/** Each attempt, from dispatch until response headers. Default 10000. */
	headers?: Deadline;
	/** Each attempt, the longest gap between body chunks. Default 30000. */
	idle?: Deadline;
	/** Each attempt, from dispatch until its body is fully read. Default off. */
	attempt?: Deadline;
	/** Each attempt, the longest wait for a concurrency or rate slot. Default off. */
	queue?: Deadline;
	/** Each attempt, until the connection is up. Only with the `surefetch/node` transport. Default off. */
	connect?: Deadline;
}

export interface ShouldRetryState {
	error: FetchFailure;
	/** The attempt that just failed, from 1. */
	attempt: number;
}

export interface RetryOptions {
	limit?: number;
	methods?: string[];
	statusCodes?: number[];
	afterStatusCodes?: number[];
	maxRetryAfter?: number;
	backoffLimit?: number;
	delay?: (attemptCount: number) => number;
	jitter?: boolean | ((delay: number) => number);
	/** `true`/`false` decide; `undefined` falls back to the default rules. */
	shouldRetry?: (state: ShouldRetryState) => boolean | undefined | Promise<boolean | undefined>;
}

export interface LimitOptions {
	concurrency?: number;
	perHost?: number;
	rate?: {requests: number; per: number};
}

export interface BreakerOptions {
	failures?: number;
	cooldown?: number;
	probes?: number;
}

export interface HedgeOptions {
	delay: number;
	max?: number;
}

export interface DecodeOptions {
	/** Force a charset for readers, over BOM and header. */
	encoding?: string;
	/** Invalid bytes fail with DecodeError instead of U+FFFD. Default: true for .json(), false for .text(). */
	fatal?: boolean;
	/** 'strict': .json() refuses a non-JSON media type. Default 'lenient'. */
	json?: 'strict' | 'lenient';
}

export interface RedactOptions {
	/** Query parameter names whose values never appear in messages (added to the defaults). */
	query?: string[];
}

type KyPassThrough = Omit<KyOptions, 'timeout' | 'totalTimeout' | 'retry' | 'signal' | 'fetch' | 'prefixUrl'>;

/** Options of a single request. */
export interface RequestOptions extends KyPassThrough {
	timeout?: Deadline | TimeoutOptions;
	retry?: number | RetryOptions;
	hedge?: false | HedgeOptions;
	maxBodyBytes?: number | false;
	decode?: DecodeOptions;
	/** The caller's signal for this request: aborting it rejects with AbortedError (source 'signal'). */
	signal?: AbortSignal;
	fetch?: typeof globalThis.fetch;
}

/** Options of a client (and of `extend`). */
export interface ClientOptions extends Omit<RequestOptions, 'signal'> {
	limit?: LimitOptions;
	breaker?: boolean | BreakerOptions;
	redact?: RedactOptions;
	on?: Listeners;
	/** The client's lifetime: aborting it is `close(signal.reason)`. */
	signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Defaults

export const defaultDeadlines = {
	total: 60_000,
	headers: 10_000,
	idle: 30_000,
	attempt: false,
	queue: false,
	connect: false,
} as const satisfies Required<TimeoutOptions>;

/** ky 2.x's retry defaults (ky does not export them); surefetch decides retries, ky schedules them. */
const defaultRetry = {
	limit: 2,
	methods: ['get', 'put', 'head', 'delete', 'options', 'trace', 'query'],
	statusCodes: [408, 413, 429, 500, 502, 503, 504],
	afterStatusCodes: [413, 429, 503],
	maxRetryAfter: Number.POSITIVE_INFINITY,
	backoffLimit: Number.POSITIVE_INFINITY,
	delay: (attemptCount: number) => 0.3 * (2 ** (attemptCount - 1)) * 1000,
};

export const defaultMaxBodyBytes = 64 * 1024 * 1024;

// setTimeout's ceiling: a larger delay fires at once.
const maxTimer = 2_147_483_647;

// ---------------------------------------------------------------------------------------------
// Resolved configuration: what an operation reads, computed once per client (or per request when
// the request overrides something).

export interface ResolvedRetry {
	limit: number;
	methods: ReadonlySet<string>;
	statusCodes: ReadonlySet<number>;
	afterStatusCodes: ReadonlySet<number>;
	maxRetryAfter: number;
	backoffLimit: number;
	delay: (attemptCount: number) => number;
	jitter: RetryOptions['jitter'];
	shouldRetry: RetryOptions['shouldRetry'];
}

export interface Config {
	deadlines: Record<keyof TimeoutOptions, Deadline>;
	retry: ResolvedRetry;
	hedge: false | Required<HedgeOptions>;
	maxBodyBytes: number | false;
	decode: {encoding: string | undefined; fatal: boolean | undefined; json: 'strict' | 'lenient'};
	redact: RedactSet;
	fetch: typeof globalThis.fetch | undefined;
	/** The surefetch options as given (merged across extend), to merge request options onto. */
	given: SurefetchOptions;
}

/** The options surefetch owns; every other key belongs to ky. */
export interface SurefetchOptions {
	timeout?: Deadline | TimeoutOptions;
	retry?: number | RetryOptions;
	hedge?: false | HedgeOptions;
	maxBodyBytes?: number | false;
	decode?: DecodeOptions;
	fetch?: typeof globalThis.fetch;
	redact?: RedactOptions;
}

const requestKeys = ['timeout', 'retry', 'hedge', 'maxBodyBytes', 'decode', 'fetch'] as const;

/** Keys that would reach an object's prototype when copied by assignment: never copied. */
const unsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);
const clientOnlyKeys = ['limit', 'breaker', 'on', 'redact'] as const;

/** Thrown by validation; createClient rethrows it as TypeError/RangeError, a request as InvalidRequestError. */
export class OptionProblem {
	constructor(readonly type: 'type' | 'range', readonly message: string) {}
	toError(): Error {
		return this.type === 'range' ? new RangeError(this.message) : new TypeError(this.message);
	}
}

const isObject = (value: unknown): value is Record<string, unknown> =>
	typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(type: 'type' | 'range', message: string): never {
	throw new OptionProblem(type, message);
}

function checkDuration(name: string, value: unknown, allowFalse: boolean): void {
	if (value === undefined || (allowFalse && value === false)) return;
	if (typeof value !== 'number' || Number.isNaN(value)) fail('type', `${name} must be a number of milliseconds${allowFalse ? ' or false' : ''}, got ${show(value)}`);
	if (value <= 0 || !Number.isFinite(value)) fail('range', `${name} must be a positive, finite number of milliseconds, got ${value}`);
	if (value > maxTimer) fail('range', `${name} (${value}) cannot exceed ${maxTimer} ms, the largest delay a timer can wait`);
}

function checkCount(name: string, value: unknown, min: number): void {
	if (value === undefined) return;
	if (typeof value !== 'number' || !Number.isInteger(value)) fail('type', `${name} must be an integer, got ${show(value)}`);
	if (value < min) fail('range', `${name} must be at least ${min}, got ${value}`);
}

function checkFunction(name: string, value: unknown): void {
	if (value !== undefined && typeof value !== 'function') fail('type', `${name} must be a function, got ${show(value)}`);
}

function checkKeys(name: string, value: Record<string, unknown>, allowed: readonly string[]): void {
	for (const key of Object.keys(value)) {
		if (!allowed.includes(key)) fail('type', `${name}.${key} is not an option of ${name} (known: ${allowed.join(', ')})`);
	}
}

function show(value: unknown): string {
	if (typeof value === 'string') return JSON.stringify(value);
	if (value === null || typeof value !== 'object') return String(value);
	return Array.isArray(value) ? 'an array' : 'an object';
}

const deadlineNames = ['total', 'headers', 'idle', 'attempt', 'queue', 'connect'] as const;

function normalizeTimeout(value: unknown): TimeoutOptions | undefined {
	if (value === undefined) return undefined;
	if (value === false) return {total: false};
	if (typeof value === 'number') return {total: value};
	if (!isObject(value)) fail('type', `timeout must be a number, false, or an object of deadlines, got ${show(value)}`);
	return value as TimeoutOptions;
}

/** Capability marker that a transport sets to say it can time the connect phase. */
export const connectPhaseSupport = Symbol.for('surefetch.transport.connect');
/** Marks surefetch's own transports: their errors are runtime errors, not the caller's own. */
export const ourTransport = Symbol.for('surefetch.transport');
/** The init key through which an attempt hands its connect deadline to a transport that has one. */
export const connectDeadline = Symbol.for('surefetch.connectDeadline');

function validateTimeout(value: unknown, transport: unknown): void {
	if (value === undefined) return;
	if (typeof value === 'number') return checkDuration('timeout', value, true);
	const timeout = normalizeTimeout(value)!;
	checkKeys('timeout', timeout as Record<string, unknown>, deadlineNames);
	for (const name of deadlineNames) checkDuration(`timeout.${name}`, timeout[name], true);
	const {total} = timeout;
	if (typeof total === 'number') {
		for (const name of ['headers', 'attempt', 'queue', 'connect', 'idle'] as const) {
			const phase = timeout[name];
			if (typeof phase === 'number' && phase > total) fail('range', `timeout.${name} (${phase}) cannot exceed timeout.total (${total})`);
		}
	}
	if (typeof timeout.connect === 'number' && !(transport as Record<symbol, unknown> | undefined)?.[connectPhaseSupport]) {
		fail('type', 'timeout.connect needs a transport that sees the connection: pass `fetch: createNodeTransport()` from \'surefetch/node\' (global fetch cannot time the connect phase)');
	}
}

function validateRetry(value: unknown): void {
	if (value === undefined) return;
	if (typeof value === 'number') return checkCount('retry', value, 0);
	if (!isObject(value)) fail('type', `retry must be a number or an object, got ${show(value)}`);
	checkKeys('retry', value, ['limit', 'methods', 'statusCodes', 'afterStatusCodes', 'maxRetryAfter', 'backoffLimit', 'delay', 'jitter', 'shouldRetry', 'retryOnTimeout']);
	checkCount('retry.limit', value.limit, 0);
	for (const name of ['methods', 'statusCodes', 'afterStatusCodes'] as const) {
		const list = value[name];
		if (list === undefined) continue;
		if (!Array.isArray(list)) fail('type', `retry.${name} must be an array, got ${show(list)}`);
		const want = name === 'methods' ? 'string' : 'number';
		for (const item of list) if (typeof item !== want) fail('type', `retry.${name} must contain only ${want}s, got ${show(item)}`);
	}
	for (const name of ['maxRetryAfter', 'backoffLimit'] as const) {
		const n = value[name];
		if (n !== undefined && (typeof n !== 'number' || Number.isNaN(n) || n < 0)) fail('range', `retry.${name} must be a number >= 0, got ${show(n)}`);
	}
	checkFunction('retry.delay', value.delay);
	checkFunction('retry.shouldRetry', value.shouldRetry);
	if (value.jitter !== undefined && typeof value.jitter !== 'boolean' && typeof value.jitter !== 'function') fail('type', `retry.jitter must be a boolean or a function, got ${show(value.jitter)}`);
	if (value.retryOnTimeout !== undefined) fail('type', 'retry.retryOnTimeout is ky\'s; surefetch retries timeouts of phase headers, idle, attempt and connect by itself (use retry.shouldRetry to change that)');
}

function validateDecode(value: unknown): void {
	if (value === undefined) return;
	if (!isObject(value)) fail('type', `decode must be an object, got ${show(value)}`);
	checkKeys('decode', value, ['encoding', 'fatal', 'json']);
	if (value.encoding !== undefined) {
		if (typeof value.encoding !== 'string') fail('type', `decode.encoding must be a string, got ${show(value.encoding)}`);
		if (!normalizeLabel(value.encoding)) fail('range', `decode.encoding ${show(value.encoding)} is not a charset this runtime's TextDecoder knows`);
	}
	if (value.fatal !== undefined && typeof value.fatal !== 'boolean') fail('type', `decode.fatal must be a boolean, got ${show(value.fatal)}`);
	if (value.json !== undefined && value.json !== 'strict' && value.json !== 'lenient') fail('type', `decode.json must be 'strict' or 'lenient', got ${show(value.json)}`);
}

function validateHedge(value: unknown): void {
	if (value === undefined || value === false) return;
	if (!isObject(value)) fail('type', `hedge must be false or { delay, max? }, got ${show(value)}`);
	checkKeys('hedge', value, ['delay', 'max']);
	if (value.delay === undefined) fail('type', 'hedge.delay is required (ms without headers before another attempt starts)');
	checkDuration('hedge.delay', value.delay, false);
	checkCount('hedge.max', value.max, 1);
}

function validateLimit(value: unknown): void {
	if (value === undefined) return;
	if (!isObject(value)) fail('type', `limit must be an object, got ${show(value)}`);
	checkKeys('limit', value, ['concurrency', 'perHost', 'rate']);
	checkCount('limit.concurrency', value.concurrency, 1);
	checkCount('limit.perHost', value.perHost, 1);
	if (value.rate !== undefined) {
		if (!isObject(value.rate)) fail('type', `limit.rate must be { requests, per }, got ${show(value.rate)}`);
		checkKeys('limit.rate', value.rate, ['requests', 'per']);
		if (value.rate.requests === undefined || value.rate.per === undefined) fail('type', 'limit.rate needs both requests and per');
		checkCount('limit.rate.requests', value.rate.requests, 1);
		checkDuration('limit.rate.per', value.rate.per, false);
	}
}

function validateBreaker(value: unknown): void {
	if (value === undefined || typeof value === 'boolean') return;
	if (!isObject(value)) fail('type', `breaker must be a boolean or { failures?, cooldown?, probes? }, got ${show(value)}`);
	checkKeys('breaker', value, ['failures', 'cooldown', 'probes']);
	checkCount('breaker.failures', value.failures, 1);
	checkDuration('breaker.cooldown', value.cooldown, false);
	checkCount('breaker.probes', value.probes, 1);
}

function validateListeners(value: unknown): void {
	if (value === undefined) return;
	if (!isObject(value)) fail('type', `on must be an object of listeners, got ${show(value)}`);
	checkKeys('on', value, ['request', 'response', 'retry', 'error', 'breaker']);
	for (const [name, listener] of Object.entries(value)) checkFunction(`on.${name}`, listener);
}

function validateRedact(value: unknown): void {
	if (value === undefined) return;
	if (!isObject(value)) fail('type', `redact must be an object, got ${show(value)}`);
	checkKeys('redact', value, ['query']);
	if (value.query !== undefined && (!Array.isArray(value.query) || value.query.some((name) => typeof name !== 'string'))) {
		fail('type', 'redact.query must be an array of parameter names');
	}
}

/** Validates the options surefetch owns, at the client or the request level. Throws OptionProblem. */
export function validateOptions(options: unknown, level: 'client' | 'extend' | 'request'): void {
	if (options === undefined) return;
	if (!isObject(options)) fail('type', `options must be an object, got ${show(options)}`);
	const o = options;
	if (level === 'request') {
		for (const key of clientOnlyKeys) if (o[key] !== undefined) fail('type', `${key} is a client option: set it in createClient(), not per request`);
	}
	if (level === 'extend') {
		if (o.signal !== undefined) fail('type', 'signal cannot be changed by extend(): a derived client shares its parent\'s lifecycle');
		if (o.limit !== undefined) fail('type', 'limit cannot be changed by extend(): a derived client shares its parent\'s limits');
		if (o.breaker !== undefined) fail('type', 'breaker cannot be changed by extend(): a derived client shares its parent\'s breakers');
	}
	if ('prefixUrl' in o) fail('type', 'prefixUrl was renamed prefix in ky 2 (and baseUrl was added); use one of those');
	if ('totalTimeout' in o) fail('type', 'totalTimeout is ky\'s; in surefetch use timeout.total');
	if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) fail('type', `signal must be an AbortSignal, got ${show(o.signal)}`);
	checkFunction('fetch', o.fetch);
	validateTimeout(o.timeout, o.fetch);
	validateRetry(o.retry);
	validateHedge(o.hedge);
	validateDecode(o.decode);
	validateLimit(o.limit);
	validateBreaker(o.breaker);
	validateListeners(o.on);
	validateRedact(o.redact);
	if (o.maxBodyBytes !== undefined && o.maxBodyBytes !== false) {
		if (typeof o.maxBodyBytes !== 'number' || !Number.isInteger(o.maxBodyBytes) || o.maxBodyBytes < 0) {
			fail('range', `maxBodyBytes must be a whole number of bytes >= 0 or false, got ${show(o.maxBodyBytes)}`);
		}
	}
}

// ---------------------------------------------------------------------------------------------
// Merging and resolving

/** Splits options into what surefetch owns and what passes through to ky. */
export function splitOptions<T extends Record<string, unknown>>(options: T | undefined): {own: SurefetchOptions; ky: Record<string, unknown>; hasOwn: boolean} {
	const own: Record<string, unknown> = {};
	const ky: Record<string, unknown> = {};
	let hasOwn = false;
	if (options) {
		for (const key of Object.keys(options)) {
			if (unsafeKeys.has(key)) continue;
			const value = options[key];
			if ((requestKeys as readonly string[]).includes(key) || key === 'redact') {
				own[key] = value;
				hasOwn = true;
			} else if (key !== 'signal' && key !== 'limit' && key !== 'breaker' && key !== 'on') {
				ky[key] = value;
			}
		}
	}
	return {own: own as SurefetchOptions, ky, hasOwn};
}

/** Later options win key by key; objects merge one level deep, the way ky merges its own options. */
export function mergeOwn(base: SurefetchOptions, next: SurefetchOptions): SurefetchOptions {
	const out: SurefetchOptions = {...base};
	for (const key of Object.keys(next) as Array<keyof SurefetchOptions>) {
		if (unsafeKeys.has(key)) continue;
		const value = next[key];
		if (value === undefined) continue;
		if (key === 'timeout') {
			const a = normalizeTimeout(base.timeout);
			const b = normalizeTimeout(value);
			out.timeout = a && b ? {...a, ...b} : b;
		} else if (key === 'retry') {
			const a = typeof base.retry === 'number' ? {limit: base.retry} : base.retry;
			const b = typeof value === 'number' ? {limit: value} : value as RetryOptions;
			out.retry = a ? {...a, ...b} : b;
		} else if (key === 'decode') {
			out.decode = {...base.decode, ...(value as DecodeOptions)};
		} else if (key === 'redact') {
			out.redact = {query: [...(base.redact?.query ?? []), ...((value as RedactOptions).query ?? [])]};
		} else {
			(out as Record<string, unknown>)[key] = value;
		}
	}
	return out;
}

export function resolveConfig(given: SurefetchOptions): Config {
	const timeout = normalizeTimeout(given.timeout) ?? {};
	const deadlines = {...defaultDeadlines} as Record<keyof TimeoutOptions, Deadline>;
	for (const name of deadlineNames) if (timeout[name] !== undefined) deadlines[name] = timeout[name]!;
	const r = typeof given.retry === 'number' ? {limit: given.retry} : (given.retry ?? {});
	const hedge = given.hedge ? {delay: given.hedge.delay, max: given.hedge.max ?? 1} : false as const;
	return {
		deadlines,
		retry: {
			limit: r.limit ?? defaultRetry.limit,
			methods: new Set((r.methods ?? defaultRetry.methods).map((m) => m.toLowerCase())),
			statusCodes: new Set(r.statusCodes ?? defaultRetry.statusCodes),
			afterStatusCodes: new Set(r.afterStatusCodes ?? defaultRetry.afterStatusCodes),
			maxRetryAfter: r.maxRetryAfter ?? defaultRetry.maxRetryAfter,
			backoffLimit: r.backoffLimit ?? defaultRetry.backoffLimit,
			delay: r.delay ?? defaultRetry.delay,
			jitter: r.jitter,
			shouldRetry: r.shouldRetry,
		},
		hedge,
		maxBodyBytes: given.maxBodyBytes ?? defaultMaxBodyBytes,
		decode: {encoding: given.decode?.encoding, fatal: given.decode?.fatal, json: given.decode?.json ?? 'lenient'},
		redact: makeRedactSet(given.redact?.query),
		fetch: given.fetch,
		given,
	};
}

/** Whether ky options carry afterResponse hooks (they get a clone of the response: its body must still be there). */
/** Whether ky options carry hooks of a kind (ky's `replaceOption` wrapper `{value}` included). */
export function hasHooks(options: Record<string, unknown>, kind: 'afterResponse' | 'beforeRequest'): boolean {
	const hooks = options.hooks as Record<string, unknown> & {value?: Record<string, unknown>} | undefined;
	const list = hooks?.[kind] ?? hooks?.value?.[kind];
	return Array.isArray(list) && list.length > 0;
}
