// The client: `createClient`, the callable with its method shortcuts, `safe`, `extend`, `close`.

import ky, {type KyInstance} from 'ky';
import {Breakers} from './breaker.js';
import {isFetchError, type FetchFailure} from './errors.js';
import {mergeListeners, type Listeners} from './events.js';
import {Lifecycle} from './lifecycle.js';
import {Limits} from './limits.js';
import {Operation, type ClientView, type ReaderKind, type Shared} from './operation.js';
import {
	hasHooks, mergeOwn, OptionProblem, resolveConfig, splitOptions, validateOptions,
	type ClientOptions, type Config, type RequestOptions,
} from './options.js';
import {isStandardSchema, read, type InferOutput, type StandardSchemaV1} from './readers.js';

export type Input = string | URL | Request;

/** A `Promise<Response>` (settles once headers arrived and the status passed) with body readers. */
export interface ResponsePromise<T = unknown> extends Promise<Response> {
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
	/** A client with merged defaults that shares this one's limits, breakers and lifecycle. */
	extend(options: ClientOptions): Client;
	/** Aborts everything queued and in flight, refuses later calls; resolves once all settled. */
	close(reason?: unknown): Promise<void>;
	[Symbol.asyncDispose](): Promise<void>;
}

const methods = ['get', 'post', 'put', 'patch', 'delete', 'head'] as const;
const readers: ReaderKind[] = ['json', 'text', 'bytes', 'arrayBuffer', 'blob'];
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

export function createClient(options?: ClientOptions): Client {
	try {
		validateOptions(options, 'client');
	} catch (error) {
		throw error instanceof OptionProblem ? error.toError() : error;
	}
	const {own, ky: kyOptions} = splitOptions(options as Record<string, unknown> | undefined);
	const shared: Shared = {
		lifecycle: new Lifecycle(options?.signal),
		limits: options?.limit ? new Limits(options.limit) : undefined,
		breakers: options?.breaker ? new Breakers(options.breaker === true ? {} : options.breaker) : undefined,
	};
	return build(shared, resolveConfig(own), ky.create(kyOptions), kyOptions, options?.on);
}

function build(shared: Shared, config: Config, kyInstance: KyInstance, kyOptions: Record<string, unknown>, listeners: Listeners | undefined, parent?: ClientView): Client {
	const view: ClientView = {
		// ky hands afterResponse hooks a clone of the response, so a body a reader consumed must be rebuilt for them.
		afterResponseHooks: Boolean(parent?.afterResponseHooks) || hasHooks(kyOptions, 'afterResponse'),
		// A beforeRequest hook may change the method after surefetch looked at it.
		beforeRequestHooks: Boolean(parent?.beforeRequestHooks) || hasHooks(kyOptions, 'beforeRequest'),
		shared,
		config,
		ky: kyInstance,
		listeners,
		prefix: kyOptions.prefix,
		baseUrl: kyOptions.baseUrl,
		throwHttpErrors: (kyOptions.throwHttpErrors as ClientView['throwHttpErrors'] | undefined) ?? true,
		// ky streams the body to report download progress: a reader cannot buffer it inside the attempt then.
		streamsResponse: typeof kyOptions.onDownloadProgress === 'function',
	};

	const call = (method: string | undefined, input: Input, options: RequestOptions | undefined): ResponsePromise => {
		const op = start(view, method, input, options);
		return withReaders(op);
	};
	const client = ((input: Input, options?: RequestOptions) => call(undefined, input, options)) as Client;
	const safe = ((input: Input, options?: RequestOptions) => toSafe(call(undefined, input, options))) as SafeClient;
	for (const method of methods) {
		client[method] = ((input: Input, options?: RequestOptions) => call(method, input, options)) as never;
		safe[method] = ((input: Input, options?: RequestOptions) => toSafe(call(method, input, options))) as never;
	}
	Object.defineProperty(client, 'safe', {value: safe, enumerable: true});
	client.extend = (next: ClientOptions) => {
		try {
			validateOptions(next, 'extend');
		} catch (error) {
			throw error instanceof OptionProblem ? error.toError() : error;
		}
		const split = splitOptions(next as Record<string, unknown>);
		const merged = mergeOwn(config.given, split.own);
		try {
			validateOptions({timeout: merged.timeout, fetch: merged.fetch}, 'client');
		} catch (error) {
			throw error instanceof OptionProblem ? error.toError() : error;
		}
		const mergedKy = {...kyOptions, ...split.ky};
		return build(shared, resolveConfig(merged), kyInstance.extend(split.ky), mergedKy, mergeListeners(listeners, next.on), view);
	};
	client.close = (reason?: unknown) => shared.lifecycle.close(reason);
	client[asyncDispose] = () => shared.lifecycle.close();
	return client;
}

/** A request that fails before it starts (bad options) still fails as a promise, never synchronously. */
function start(view: ClientView, method: string | undefined, input: Input, options: RequestOptions | undefined): Operation {
	let config = view.config;
	let kyOptions: Record<string, unknown> = {};
	let signal: AbortSignal | undefined;
	let problem: OptionProblem | undefined;
	if (options !== undefined) {
		try {
			validateOptions(options, 'request');
			const split = splitOptions(options as Record<string, unknown>);
			kyOptions = split.ky;
			signal = options.signal;
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
	if (input === null || (typeof input !== 'string' && !(input instanceof URL) && !(input instanceof Request))) {
		return Operation.failed(view, config, input, kyOptions, (op) => op.invalid('url', undefined, `input must be a string, URL or Request, got ${input === null ? 'null' : typeof input}`));
	}
	return new Operation(view, config, input, kyOptions, signal);
}

function withReaders(op: Operation): ResponsePromise {
	const promise = op.promise as ResponsePromise;
	for (const kind of readers) {
		(promise as unknown as Record<string, unknown>)[kind] = (schema?: unknown) => {
			// Before dispatch, this tells the attempt to read the body itself (and retry body failures).
			op.reader ??= kind;
			if (schema !== undefined && (kind !== 'json' || !isStandardSchema(schema))) {
				const failure = op.invalid('option', undefined, '.json(schema) takes a Standard Schema (an object with a ~standard.validate function)');
				// The response promise itself is still observed, so nothing is reported as unhandled.
				op.promise.catch(() => {});
				return Promise.reject(failure);
			}
			return read(op, kind, schema as StandardSchemaV1 | undefined);
		};
	}
	return promise;
}

function toSafe(promise: ResponsePromise): SafeResponsePromise {
	const settleSafe = <T>(value: Promise<T>, response: () => Response | undefined): Promise<SafeResult<T>> =>
		value.then(
			(data) => ({ok: true as const, data, response: response()!}),
			(error: unknown) => {
				if (isFetchError(error)) return {ok: false as const, error};
				throw error; // the caller's own code threw: not ours to swallow
			},
		);
	let response: Response | undefined;
	promise.then((r) => {
		response = r;
	}, () => {});
	const safe = settleSafe(promise, () => response) as SafeResponsePromise;
	// Only the caller's own errors reject here; when they read through a reader instead, that
	// rejection reaches them there, so this one must not also be reported as unhandled.
	safe.catch(() => {});
	for (const kind of readers) {
		(safe as unknown as Record<string, unknown>)[kind] = (schema?: StandardSchemaV1) =>
			settleSafe((promise[kind] as (s?: StandardSchemaV1) => Promise<unknown>)(schema), () => response);
	}
	return safe;
}
