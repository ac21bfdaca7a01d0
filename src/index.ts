// The public surface of `surefetch`. Re-exports only.
import {createClient} from './client.js';

export {createClient} from './client.js';
export type {Client, SafeClient, ResponsePromise, SafeResponsePromise, SafeResult, Input} from './client.js';
export {
	FetchError, TimeoutError, AbortedError, NetworkError, HttpError, DecodeError, CircuitOpenError, InvalidRequestError,
	isFetchError,
} from './errors.js';
export type {
	FetchFailure, FailureKind, FailureContext, TimeoutPhase, NetworkCode, DecodeReason, InvalidReason, AbortSource, RequestInfo,
} from './errors.js';
export type {ClientOptions, RequestOptions, TimeoutOptions, RetryOptions, ShouldRetryState, DecodeOptions, RedactOptions, Deadline} from './options.js';
export type {Listeners, Timings, RequestEvent, ResponseEvent, RetryEvent, ErrorEvent, BreakerEvent, BreakerState} from './events.js';
export type {Policy, CallContext, SendContext, AttemptContext, Send, SendOptions, Outcome, Admission, PolicyEvent} from './policy.js';
export type {StandardSchemaV1, InferOutput} from './readers.js';
export {defaultRedactedQuery} from './redact.js';
export {limit, type LimitOptions} from './policies/limit.js';
export {breaker, type BreakerOptions} from './policies/breaker.js';
export {hedge, type HedgeOptions} from './policies/hedge.js';
export {dedupe} from './policies/dedupe.js';

/** A client with the defaults. */
const surefetch = /* @__PURE__ */ createClient();
export default surefetch;
