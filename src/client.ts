// The client: `createClient`, the callable with its method shortcuts, `safe`, `extend`, `close`;
// and ky's hooks, wrapped so that they see surefetch's errors.

import ky, {replaceOption, type KyInstance} from 'ky';
import {owners} from './attempt.js';
import {isFetchError, type FetchFailure} from './errors.js';
import {mergeListeners, type Listeners} from './events.js';
import {Lifecycle} from './lifecycle.js';
import {initErrors, Operation, type ClientView} from './operation.js';
import {
	hasHooks, isReplace, mergeOwn, OptionProblem, resolveConfig, setReplaceMark, splitOptions, validateOptions,
	type ClientOptions, type Config, type RequestOptions,
} from './options.js';
import {sortPolicies, type Policy} from './policy.js';
import {isStandardSchema, read, type InferOutput, type ReaderKind, type StandardSchemaV1} from './readers.js';

export type Input = string | URL | Request;

/** A `Promise<Response>` (settles once headers arrived and the status passed) with body readers. */
export interface ResponsePromise<T = unknown> extends Promise<Response> {
	/** The parsed body; `undefined` for 204, 205 and HEAD (typed `T` all the same: check the status when it can be empty). */
	json<J = T>(): Promise<J>;
	json<S extends StandardSchemaV1>(schema: S): Promise<InferOutput<S>>;
	text(): Promise<string>;
	bytes(): Promise<Uint8Array>;
	arrayBuffer(): Promise<ArrayBuffer>;
	blob(): Promise<Blob>;
}

export type SafeResult<T> = {ok: true; data: T; response: Response} | {ok: false; error: FetchFailure};

/** The same readers, resolving to a result instead of rejecting with a surefetch error. */
export interface SafeResponsePromise<T = unknown> extends Promise<SafeResult<Response>> {
	json<J = T>(): Promise<SafeResult<J>>;
	json<S extends StandardSchemaV1>(schema: S): Promise<SafeResult<InferOutput<S>>>;
	text(): Promise<SafeResult<string>>;
	bytes(): Promise<SafeResult<Uint8Array>>;
	arrayBuffer(): Promise<SafeResult<ArrayBuffer>>;
	blob(): Promise<SafeResult<Blob>>;
}

type Call<P> = <T = unknown>(input: Input, options?: RequestOptions) => P & (P extends ResponsePromise ? ResponsePromise<T> : SafeResponsePromise<T>);

export interface SafeClient {
	<T = unknown>(input: Input, options?: RequestOptions): SafeResponsePromise<T>;
	get: Call<SafeResponsePromise>;
	post: Call<SafeResponsePromise>;
	put: Call<SafeResponsePromise>;
	patch: Call<SafeResponsePromise>;
	delete: Call<SafeResponsePromise>;
	head: Call<SafeResponsePromise>;
}

export interface Client {
	<T = unknown>(input: Input, options?: RequestOptions): ResponsePromise<T>;
	get: Call<ResponsePromise>;
	post: Call<ResponsePromise>;
	put: Call<ResponsePromise>;
	patch: Call<ResponsePromise>;
	delete: Call<ResponsePromise>;
	head: Call<ResponsePromise>;
	/** The same client whose promises resolve to `{ ok, data, response } | { ok: false, error }`. */
	readonly safe: SafeClient;
	/** A client with merged defaults that runs this one's policies (then its own) and shares its lifecycle. */
	extend(options: ClientOptions | ((parent: ClientOptions) => ClientOptions)): Client;
	/** Aborts everything queued and in flight, refuses later calls; resolves once all settled. */
	close(reason?: unknown): Promise<void>;
	[Symbol.asyncDispose](): Promise<void>;
}

const methods = ['get', 'post', 'put', 'patch', 'delete', 'head'] as const;
const readers: ReaderKind[] = ['json', 'text', 'bytes', 'arrayBuffer', 'blob'];
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

setReplaceMark(Object.getOwnPropertySymbols(replaceOption(0))[0]);

/** Options problems at client level are thrown, as TypeError or RangeError. */
function check(options: unknown, level: 'client' | 'extend'): void {
	try {
		validateOptions(options, level);
	} catch (error) {
		throw error instanceof OptionProblem ? error.toError() : error;
	}
}

export function createClient(options?: ClientOptions): Client {
	check(options, 'client');
	const {own, ky: kyOptions} = splitOptions(options as Record<string, unknown> | undefined);
	const wrapped = wrapHooks(kyOptions);
	// Every deadline is surefetch's: ky's own timers stay off.
	return build(new Lifecycle(options?.signal), resolveConfig(own), ky.create({...wrapped, timeout: false}), kyOptions, options?.on, options?.use ?? []);
}

/** The client family's shared state and this client's settings. */
function build(lifecycle: Lifecycle, config: Config, kyInstance: KyInstance, kyOptions: Record<string, unknown>, listeners: Listeners | undefined, policies: Policy[], parent?: ClientView): Client {
	const view: ClientView = {
		lifecycle,
		config,
		ky: kyInstance,
		listeners,
		policies: sortPolicies(policies),
		prefix: kyOptions.prefix,
		baseUrl: kyOptions.baseUrl,
		throwHttpErrors: (kyOptions.throwHttpErrors as ClientView['throwHttpErrors'] | undefined) ?? true,
		parseJson: kyOptions.parseJson as ClientView['parseJson'],
		afterResponseHooks: Boolean(parent?.afterResponseHooks) || hasHooks(kyOptions, 'afterResponse'),
		beforeRequestHooks: Boolean(parent?.beforeRequestHooks) || hasHooks(kyOptions, 'beforeRequest'),
		initHooks: Boolean(parent?.initHooks) || hasHooks(kyOptions, 'init'),
		errorHooks: Boolean(parent?.errorHooks) || hasHooks(kyOptions, 'beforeError') || hasHooks(kyOptions, 'beforeRetry'),
		streamsResponse: typeof kyOptions.onDownloadProgress === 'function',
		headers: [...(parent?.headers ?? []), kyOptions.headers],
	};

	const call = (method: string | undefined, input: Input, options: RequestOptions | undefined) => withReaders(start(view, method, input, options));
	const client = ((input: Input, options?: RequestOptions) => call(undefined, input, options)) as Client;
	const safe = ((input: Input, options?: RequestOptions) => toSafe(call(undefined, input, options))) as SafeClient;
	for (const method of methods) {
		client[method] = ((input: Input, options?: RequestOptions) => call(method, input, options)) as never;
		safe[method] = ((input: Input, options?: RequestOptions) => toSafe(call(method, input, options))) as never;
	}
	Object.defineProperty(client, 'safe', {value: safe, enumerable: true});
	client.extend = (next) => {
		const options = typeof next === 'function' ? next({...kyOptions, ...config.given, use: policies, on: listeners}) : next;
		check(options, 'extend');
		const split = splitOptions(options as Record<string, unknown>);
		const merged = mergeOwn(config.given, split.own);
		check({timeout: merged.timeout, fetch: merged.fetch}, 'client');
		return build(
			lifecycle, resolveConfig(merged), kyInstance.extend(wrapHooks(split.ky)), {...kyOptions, ...split.ky},
			mergeListeners(listeners, options?.on), [...policies, ...options?.use ?? []], view,
		);
	};
	client.close = (reason?: unknown) => lifecycle.close(reason);
	client[asyncDispose] = () => lifecycle.close();
	return client;
}

/** A call. A request that fails before it starts (bad options, bad input) still fails as a promise, never synchronously. */
function start(view: ClientView, method: string | undefined, input: Input, options: RequestOptions | undefined): Operation {
	let {config} = view;
	let kyOptions: Record<string, unknown> = {};
	let problem: OptionProblem | undefined;
	if (options !== undefined) {
		try {
			validateOptions(options, 'request');
			const split = splitOptions(options as Record<string, unknown>);
			kyOptions = split.ky.hooks ? wrapHooks(split.ky) : split.ky;
			if (split.hasOwn) {
				const merged = mergeOwn(config.given, split.own);
				validateOptions({timeout: merged.timeout, fetch: merged.fetch}, 'request');
				config = resolveConfig(merged);
			}
		} catch (error) {
			if (!(error instanceof OptionProblem)) throw error;
			problem = error;
		}
	}
	if (method) kyOptions.method = method;
	if (problem) return Operation.failed(view, config, input, kyOptions, (op) => op.invalid('option', undefined, problem!.message));
	if (typeof input !== 'string' && !(input instanceof URL) && !(input instanceof Request)) {
		return Operation.failed(view, config, input, kyOptions, (op) => op.invalid('url', undefined, `input must be a string, URL or Request, got ${input === null ? 'null' : typeof input}`));
	}
	return new Operation(view, config, input, kyOptions, options?.signal);
}

/** The operation behind a ResponsePromise: its readers are shared functions, not five closures per call. */
const operation = Symbol('surefetch.operation');

const readerMethods = Object.fromEntries(readers.map((kind) => [kind, function (this: Promise<Response>, schema?: unknown) {
	const op = (this as unknown as {[operation]: Operation})[operation];
	// Before dispatch, this tells the attempt to read the body itself (and retry body failures).
	op.reader ??= kind;
	if (schema !== undefined && (kind !== 'json' || !isStandardSchema(schema))) {
		// The response promise itself is still observed, so nothing is reported as unhandled.
		op.promise.catch(() => {});
		return Promise.reject(op.invalid('option', undefined, '.json(schema) takes a Standard Schema (an object with a ~standard.validate function)'));
	}
	return read(op, kind, schema as StandardSchemaV1 | undefined);
}]));

function withReaders(op: Operation): ResponsePromise {
	const promise = Object.assign(op.promise, readerMethods) as unknown as ResponsePromise & {[operation]: Operation};
	promise[operation] = op;
	return promise;
}

function toSafe(promise: ResponsePromise): SafeResponsePromise {
	let response: Response | undefined;
	const settle = <T>(value: Promise<T>): Promise<SafeResult<T>> => value.then(
		(data) => ({ok: true as const, data, response: response!}),
		(error: unknown) => {
			if (isFetchError(error)) return {ok: false as const, error};
			throw error; // the caller's own code threw: not ours to swallow
		},
	);
	promise.then((r) => {
		response = r;
	}, () => {});
	const safe = settle(promise) as SafeResponsePromise;
	// Only the caller's own errors reject here; when they read through a reader instead, that
	// rejection reaches them there, so this one must not also be reported as unhandled.
	safe.catch(() => {});
	for (const kind of readers) {
		(safe as unknown as Record<string, unknown>)[kind] = (schema?: StandardSchemaV1) => settle((promise as unknown as Record<string, (s?: StandardSchemaV1) => Promise<unknown>>)[kind]!(schema));
	}
	return safe;
}

// ---------------------------------------------------------------------------------------------
// ky's hooks see surefetch's errors: `beforeRetry` and `beforeError` get the union member (what
// `beforeError` returns is what the caller gets), and an `init` hook's own error is marked so that
// it propagates unchanged.

function toUnion(error: unknown): unknown {
	if (isFetchError(error)) return error;
	const e = error as {response?: object; request?: object} | null | undefined;
	const op = (e?.response && owners.get(e.response)) || (e?.request && owners.get(e.request));
	return op ? (op as unknown as Operation).toFailure(error) : error;
}

type Hook = (...args: any[]) => unknown;

const wrappers: Record<string, (hook: Hook) => Hook> = {
	beforeRetry: (hook) => (state: {error: unknown}) => hook({...state, error: toUnion(state.error)}),
	beforeError: (hook) => (state: {error: unknown}) => hook({...state, error: toUnion(state.error)}),
	init: (hook) => (options: unknown) => {
		try {
			return hook(options);
		} catch (error) {
			if (typeof error === 'object' && error !== null) initErrors.add(error);
			throw error;
		}
	},
};

function wrapHooks(options: Record<string, unknown>): Record<string, unknown> {
	const given = options.hooks;
	const replace = isReplace(given);
	const hooks = (replace ? given.value : given) as Record<string, unknown> | undefined;
	if (typeof hooks !== 'object' || hooks === null) return options;
	const out: Record<string, unknown> = {...hooks};
	for (const kind of Object.keys(wrappers)) {
		const list = hooks[kind];
		if (Array.isArray(list)) out[kind] = list.map((hook) => (typeof hook === 'function' ? wrappers[kind]!(hook as Hook) : hook));
	}
	return {...options, hooks: replace ? replaceOption(out) : out};
}
