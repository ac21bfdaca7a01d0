// `surefetch/otel`: `otel({tracer?, meter?})`, a policy on @opentelemetry/api (an optional peer
// dependency: nothing of OpenTelemetry is loaded without this entry). One INTERNAL span per call,
// `surefetch {METHOD}`, active while the call runs, so that the runtime's own per-attempt CLIENT
// spans (undici's diagnostics-channel instrumentation, the browser's fetch instrumentation) nest
// under it; retries, hedges and breaker changes as span events; and the histogram
// `surefetch.client.request.duration` (s) for the whole call, retries included. It never records
// `http.client.request.duration`: that one is the runtime's.

import {context, metrics, SpanKind, SpanStatusCode, trace, type Attributes, type Meter, type Tracer} from '@opentelemetry/api';
import {isFetchError} from './errors.js';
import {stage, type Policy} from './policy.js';

export interface OtelOptions {
	/** Default: `trace.getTracer('surefetch')`. */
	tracer?: Tracer;
	/** Default: `metrics.getMeter('surefetch')`. */
	meter?: Meter;
}

const knownMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY'];

/** The HTTP client attributes of a request (OTel semantic conventions), from its redacted URL. */
function requestAttributes(method: string, url: string): Attributes {
	const attributes: Attributes = {'http.request.method': knownMethods.includes(method) ? method : '_OTHER', 'url.full': url};
	if (!knownMethods.includes(method)) attributes['http.request.method_original'] = method;
	try {
		const {hostname, port, protocol} = new URL(url);
		attributes['server.address'] = hostname.replace(/^\[|\]$/g, '');
		attributes['server.port'] = Number(port) || (protocol === 'https:' ? 443 : 80);
	} catch {}
	return attributes;
}

export function otel(options: OtelOptions = {}): Policy {
	const tracer = options.tracer ?? trace.getTracer('surefetch');
	const duration = (options.meter ?? metrics.getMeter('surefetch')).createHistogram('surefetch.client.request.duration', {
		unit: 's',
		description: 'Duration of surefetch calls, retries and the body a reader reads included.',
		advice: {explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60]},
	});
	return {
		name: 'otel',
		[stage]: 0,
		call(call, next) {
			const {method, url} = call.request;
			const span = tracer.startSpan(`surefetch ${method}`, {kind: SpanKind.INTERNAL, attributes: requestAttributes(method, url)});
			call.listen((event) => {
				if (event.type === 'retry') {
					span.addEvent('surefetch.retry', {'surefetch.attempt': event.attempt, 'surefetch.retry.delay': event.delay, 'error.type': event.error.kind === 'http' ? String(event.error.status) : event.error.kind});
				} else if (event.type === 'hedge') {
					span.addEvent('surefetch.hedge', {'surefetch.attempt': event.attempt});
				} else if (event.type === 'breaker') {
					span.addEvent('surefetch.breaker', {'surefetch.breaker.origin': event.origin, 'surefetch.breaker.state': event.state, 'surefetch.breaker.previous': event.previous});
				} else {
					// The call is over: the URL and method ky finally sent, its outcome.
					const {error, status, attempts} = event;
					const attributes = requestAttributes(call.request.method, call.request.url);
					if (status !== undefined) attributes['http.response.status_code'] = status;
					if (error && error.kind !== 'aborted') {
						attributes['error.type'] = error.kind === 'http' ? String(error.status) : error.kind;
						// An abort by the caller (or close()) is their choice, not an error of the call.
						span.setStatus({code: SpanStatusCode.ERROR, message: error.message});
					}
					span.setAttributes({...attributes, 'surefetch.attempts': attempts});
					if (error && 'phase' in error) span.setAttribute('surefetch.error.phase', error.phase);
					if (error && (error.kind === 'network' || error.kind === 'decode' || error.kind === 'invalid')) span.setAttribute('surefetch.error.code', error.kind === 'network' ? error.code : error.reason);
					span.end();
					duration.record(call.elapsed / 1000, attributes);
				}
			});
			return context.with(trace.setSpan(context.active(), span), () => next().catch((error: unknown) => {
				// The caller's own error (a hook, a custom fetch) never reaches `end` as a union member.
				if (!isFetchError(error)) span.recordException(error as Error);
				throw error;
			}));
		},
	} as Policy;
}
