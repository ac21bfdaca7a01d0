// Options: the types, the defaults, validation from one table (messages name the option, the value
// and the rule), and the merge that happens once per client (per request only what differs).

import type {Options as KyOptions} from 'ky';
import {normalizeLabel} from './charset.js';
import type {FetchFailure} from './errors.js';
import type {Listeners} from './events.js';
import type {Policy} from './policy.js';
import {makeRedactSet, type RedactSet} from './redact.js';

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
	/** Each attempt, the longest wait in a policy's queue (a `limit` slot). Default off. */
	queue?: Deadline;
	/** Each attempt, until the connection is up. Only with the `surefetch/node` transport. Default off. */
	connect?: Deadline;
}

export interface ShouldRetryState {
	error: FetchFailure;
	/** The attempt that just failed, from 1. */
	attempt: number;
	/** The same number, under ky's name. */
	retryCount: number;
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
	maxBodyBytes?: number | false;
	decode?: DecodeOptions;
	/** The caller's signal for this request: aborting it rejects with AbortedError (source 'signal'). */
	signal?: AbortSignal;
	fetch?: typeof globalThis.fetch;
}

/** Options of a client (and of `extend`). */
export interface ClientOptions extends Omit<RequestOptions, 'signal'> {
	/** The policies this client runs (order does not matter). */
	use?: Policy[];
	redact?: RedactOptions;
	on?: Listeners;
	/** The client's lifetime: aborting it is `close(signal.reason)`. */
	signal?: AbortSignal;
}

export const defaultDeadlines = {
	total: 60_000,
	headers: 10_000,
	idle: 30_000,
	attempt: false,
	queue: false,
	connect: false,
} as const satisfies Required<TimeoutOptions>;

/** ky 2.x's retry defaults (ky does not export them). */
const defaultRetry = {
	limit: 2,
	methods: ['get', 'put', 'head', 'delete', 'options', 'trace', 'query'],
	statusCodes: [408, 413, 429, 500, 502, 503, 504],
	afterStatusCodes: [413, 429, 503],
};

export const defaultMaxBodyBytes = 64 * 1024 * 1024;

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

/** What an operation reads: resolved once per client (or per request that overrides something). */
export interface Config {
	deadlines: Record<keyof TimeoutOptions, Deadline>;
	retry: ResolvedRetry;
	maxBodyBytes: number | false;
	decode: {encoding: string | undefined; fatal: boolean | undefined; json: 'strict' | 'lenient'};
	redact: RedactSet;
	fetch: typeof globalThis.fetch | undefined;
	/** The surefetch options as given (merged across extend), to merge request options onto. */
	given: OwnOptions;
}

/** The options surefetch owns; every other key belongs to ky. */
export interface OwnOptions {
	timeout?: Deadline | TimeoutOptions;
	retry?: number | RetryOptions;
	maxBodyBytes?: number | false;
	decode?: DecodeOptions;
	fetch?: typeof globalThis.fetch;
	redact?: RedactOptions;
}

const ownKeys = ['timeout', 'retry', 'maxBodyBytes', 'decode', 'fetch', 'redact'];
/** Keys that never go to ky: handled by the client itself. */
const clientKeys = ['use', 'on', 'signal'];
/** Keys that would reach an object's prototype when copied by assignment: never copied. */
const unsafeKeys = ['__proto__', 'constructor', 'prototype'];

/** Capability a transport sets when it can time the connect phase. */
export const connectPhaseSupport = Symbol.for('surefetch.transport.connect');
/** Marks surefetch's own transports: their errors are runtime errors, not the caller's own. */
export const ourTransport = Symbol.for('surefetch.transport');
/** The init key through which an attempt hands its connect deadline to a transport that has one. */
export const connectDeadline = Symbol.for('surefetch.connectDeadline');

// ---------------------------------------------------------------------------------------------
// Validation, from tables. A rule is [test, what it must be, the error type when only the range is wrong].

/** Thrown by validation: createClient rethrows it as TypeError/RangeError, a request as InvalidRequestError. */
export class OptionProblem {
	constructor(readonly range: boolean, readonly message: string) {}
	toError(): Error {
		return this.range ? new RangeError(this.message) : new TypeError(this.message);
	}
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && !Number.isNaN(v);

export function show(v: unknown): string {
	return typeof v === 'string' ? JSON.stringify(v) : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? 'an array' : 'an object';
}

export function fail(name: string, value: unknown, rule: string, range = false): never {
	throw new OptionProblem(range, `${name} (${show(value)}) must be ${rule}`);
}

// setTimeout's ceiling: a longer delay fires at once.
const maxTimer = 2_147_483_647;

type Check = (value: unknown, name: string) => void;

/** ms: a positive finite number up to setTimeout's ceiling (`false` too when `off`). */
export const duration = (off: boolean): Check => (v, name) => {
	if (off && v === false) return;
	if (!isNumber(v)) fail(name, v, `a number of ms${off ? ' or false' : ''}`);
	if (!(v > 0 && v <= maxTimer)) fail(name, v, `a positive number of ms, at most ${maxTimer}`, true);
};
export const integer = (min: number, what = `a whole number >= ${min}`): Check => (v, name) => {
	if (!isNumber(v)) fail(name, v, what);
	if (!Number.isInteger(v) || v < min) fail(name, v, what, true);
};
const atLeastZero: Check = (v, name) => {
	if (!isNumber(v)) fail(name, v, 'a number >= 0');
	if (v < 0) fail(name, v, 'a number >= 0', true);
};
const isFunction: Check = (v, name) => typeof v === 'function' || fail(name, v, 'a function');
const isBoolean: Check = (v, name) => typeof v === 'boolean' || fail(name, v, 'true or false');
const listOf = (type: 'string' | 'number'): Check => (v, name) => (Array.isArray(v) && v.every((x) => typeof x === type)) || fail(name, v, `an array of ${type}s`);

/** An object whose keys are all known; undefined values are skipped. */
export function checkObject(value: unknown, name: string, rules: Record<string, Check>): void {
	if (!isObject(value)) fail(name, value, `an object (${Object.keys(rules).join(', ')})`);
	for (const key of Object.keys(value)) {
		const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
		if (!rule) throw new OptionProblem(false, `${name}.${key} is not an option of ${name} (known: ${Object.keys(rules).join(', ')})`);
		if (value[key] !== undefined) rule(value[key], `${name}.${key}`);
	}
}

const deadline = duration(true);
const timeoutRules: Record<string, Check> = {total: deadline, headers: deadline, idle: deadline, attempt: deadline, queue: deadline, connect: deadline};

const retryRules: Record<string, Check> = {
	limit: integer(0),
	methods: listOf('string'),
	statusCodes: listOf('number'),
	afterStatusCodes: listOf('number'),
	maxRetryAfter: atLeastZero,
	backoffLimit: atLeastZero,
	delay: isFunction,
	jitter: (v, name) => typeof v === 'boolean' || typeof v === 'function' || fail(name, v, 'true, false or a function'),
	shouldRetry: isFunction,
	retryOnTimeout: (_v, name) => {
		throw new OptionProblem(false, `${name} is ky's: timeouts of an attempt are retried (decide with retry.shouldRetry)`);
	},
};

const ownRules: Record<string, Check> = {
	timeout(v, name) {
		if (typeof v === 'number' || v === false) return deadline(v, name);
		checkObject(v, name, timeoutRules);
		const t = v as TimeoutOptions;
		if (typeof t.total === 'number') {
			for (const phase of ['headers', 'attempt', 'queue', 'connect', 'idle'] as const) {
				const ms = t[phase];
				if (typeof ms === 'number' && ms > t.total) throw new OptionProblem(true, `timeout.${phase} (${ms}) cannot exceed timeout.total (${t.total})`);
			}
		}
	},
	retry: (v, name) => (typeof v === 'number' ? integer(0)(v, name) : checkObject(v, name, retryRules)),
	maxBodyBytes: (v, name) => v === false || integer(0, 'a whole number of bytes >= 0 or false')(v, name),
	decode: (v, name) => checkObject(v, name, {
		encoding(label, n) {
			if (typeof label !== 'string') fail(n, label, 'a charset label');
			if (!normalizeLabel(label)) fail(n, label, 'a charset this runtime\'s TextDecoder knows', true);
		},
		fatal: isBoolean,
		json: (mode, n) => mode === 'strict' || mode === 'lenient' || fail(n, mode, '\'strict\' or \'lenient\''),
	}),
	fetch: isFunction,
	redact: (v, name) => checkObject(v, name, {query: listOf('string')}),
	signal: (v, name) => v instanceof AbortSignal || fail(name, v, 'an AbortSignal'),
	on: (v, name) => checkObject(v, name, {request: isFunction, response: isFunction, retry: isFunction, error: isFunction, breaker: isFunction}),
	use: (v, name) => (Array.isArray(v) && v.every(isPolicy)) || fail(name, v, 'an array of policies'),
};

function isPolicy(p: unknown): boolean {
	return isObject(p) && typeof p.name === 'string' && ['call', 'send', 'admit'].some((hook) => typeof p[hook] === 'function');
}

/** Options that are gone, and what to write instead. */
const moved: Record<string, string> = {
	prefixUrl: 'prefixUrl is ky 1\'s: use prefix or baseUrl',
	totalTimeout: 'totalTimeout is ky\'s: use timeout.total',
};
for (const policy of ['limit', 'breaker', 'hedge']) moved[policy] = `${policy} is a policy now: createClient({use: [${policy}({...})]})`;

/** Validates the options surefetch owns. Throws OptionProblem. */
export function validateOptions(options: unknown, level: 'client' | 'extend' | 'request'): void {
	if (options === undefined) return;
	if (!isObject(options)) fail('options', options, 'an object');
	for (const key of Object.keys(options)) {
		const value = unwrap(options[key]);
		if (value === undefined || unsafeKeys.includes(key)) continue;
		if (Object.hasOwn(moved, key)) throw new OptionProblem(false, moved[key]!);
		if ((level === 'request' && (key === 'use' || key === 'on' || key === 'redact')) || (level === 'extend' && key === 'signal')) throw new OptionProblem(false, `${key} cannot be set ${level === 'extend' ? 'by extend() (a derived client shares its parent\'s lifecycle)' : 'per request: it is a client option'}`);
		if (Object.hasOwn(ownRules, key)) ownRules[key]!(value, key);
	}
	const transport = unwrap(options.fetch);
	const timeout = unwrap(options.timeout) as TimeoutOptions | undefined;
	if (typeof timeout?.connect === 'number' && !(transport as Record<symbol, unknown> | undefined)?.[connectPhaseSupport]) {
		throw new OptionProblem(false, 'timeout.connect needs fetch: createNodeTransport() from \'surefetch/node\' (fetch cannot see the connection)');
	}
}

// ---------------------------------------------------------------------------------------------
// ky's `replaceOption(value)`: the value replaces the parent's instead of merging with it.

let replaceMark: symbol | undefined;

/** Sets the symbol ky marks `replaceOption` values with (client.ts reads it off ky once). */
export function setReplaceMark(mark: symbol | undefined): void {
	replaceMark = mark;
}

export function isReplace(value: unknown): value is {value: unknown} {
	return replaceMark !== undefined && isObject(value) && (value as Record<symbol, unknown>)[replaceMark] === true;
}

function unwrap(value: unknown): unknown {
	return isReplace(value) ? value.value : value;
}

// ---------------------------------------------------------------------------------------------
// Merging and resolving

/** Splits options into what surefetch owns, what the client handles, and what passes through to ky. */
export function splitOptions(options: Record<string, unknown> | undefined): {own: OwnOptions; ky: Record<string, unknown>; hasOwn: boolean} {
	const own: Record<string, unknown> = {};
	const ky: Record<string, unknown> = {};
	let hasOwn = false;
	for (const key of Object.keys(options ?? {})) {
		if (unsafeKeys.includes(key) || clientKeys.includes(key)) continue;
		if (ownKeys.includes(key)) {
			own[key] = options![key];
			hasOwn = true;
		} else {
			ky[key] = options![key];
		}
	}
	return {own, ky, hasOwn};
}

/** Later options win key by key; objects merge one level deep, as ky merges its own (replaceOption replaces). */
export function mergeOwn(base: OwnOptions, next: OwnOptions): OwnOptions {
	const out: Record<string, unknown> = {...base};
	for (const key of Object.keys(next) as Array<keyof OwnOptions>) {
		if (unsafeKeys.includes(key)) continue;
		const given = next[key];
		if (given === undefined) continue;
		const value = unwrap(given);
		const before = base[key];
		if (isReplace(given) || before === undefined || (key !== 'timeout' && key !== 'retry' && key !== 'decode' && key !== 'redact')) {
			out[key] = value;
		} else if (key === 'redact') {
			out.redact = {query: [...(base.redact?.query ?? []), ...((value as RedactOptions).query ?? [])]};
		} else {
			// A number is the shorthand of one field (timeout: total, retry: limit).
			const field = key === 'timeout' ? 'total' : 'limit';
			const widen = (v: unknown) => (typeof v === 'number' ? {[field]: v} : v === false ? {total: false} : v);
			out[key] = {...(widen(before) as object), ...(widen(value) as object)};
		}
	}
	return out as OwnOptions;
}

export function resolveConfig(given: OwnOptions): Config {
	const t = given.timeout;
	const timeout: TimeoutOptions = typeof t === 'number' || t === false ? {total: t} : t ?? {};
	const deadlines = {...defaultDeadlines} as Config['deadlines'];
	for (const key of Object.keys(timeout) as Array<keyof TimeoutOptions>) if (timeout[key] !== undefined) deadlines[key] = timeout[key]!;
	return {
		deadlines,
		retry: resolveRetry(given.retry),
		maxBodyBytes: given.maxBodyBytes ?? defaultMaxBodyBytes,
		decode: {encoding: given.decode?.encoding, fatal: given.decode?.fatal, json: given.decode?.json ?? 'lenient'},
		redact: makeRedactSet(given.redact?.query),
		fetch: given.fetch,
		given,
	};
}

export function resolveRetry(retry: number | RetryOptions | undefined): ResolvedRetry {
	const r = typeof retry === 'number' ? {limit: retry} : retry ?? {};
	return {
		limit: r.limit ?? defaultRetry.limit,
		methods: new Set((r.methods ?? defaultRetry.methods).map((m) => m.toLowerCase())),
		statusCodes: new Set(r.statusCodes ?? defaultRetry.statusCodes),
		afterStatusCodes: new Set(r.afterStatusCodes ?? defaultRetry.afterStatusCodes),
		maxRetryAfter: r.maxRetryAfter ?? Number.POSITIVE_INFINITY,
		backoffLimit: r.backoffLimit ?? Number.POSITIVE_INFINITY,
		delay: r.delay ?? ((n: number) => 0.3 * (2 ** (n - 1)) * 1000),
		jitter: r.jitter,
		shouldRetry: r.shouldRetry,
	};
}

/** Whether ky options carry hooks of a kind (ky's `replaceOption` wrapper included). */
export function hasHooks(options: Record<string, unknown>, kind: string): boolean {
	const hooks = unwrap(options.hooks) as Record<string, unknown> | undefined;
	const list = hooks?.[kind];
	return Array.isArray(list) && list.length > 0;
}

/** A policy factory's options, checked: TypeError or RangeError naming the option, the value and the rule. */
export function checkPolicyOptions(name: string, options: unknown, rules: Record<string, Check>): void {
	try {
		checkObject(options ?? {}, name, rules);
	} catch (error) {
		throw error instanceof OptionProblem ? error.toError() : error;
	}
}
