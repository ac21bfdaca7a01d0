// surefetch/otel with the real OpenTelemetry SDK: one INTERNAL span per call with the HTTP client
// attributes (url.full redacted), retry events, the duration histogram, an abort that is not an
// error, and undici's own CLIENT span (its diagnostics-channel instrumentation) nested under ours.
import {context, SpanKind, SpanStatusCode, trace} from '@opentelemetry/api';
import {AsyncLocalStorageContextManager} from '@opentelemetry/context-async-hooks';
import {UndiciInstrumentation} from '@opentelemetry/instrumentation-undici';
import {MetricReader, MeterProvider} from '@opentelemetry/sdk-metrics';
import {BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan} from '@opentelemetry/sdk-trace-base';
import {afterAll, beforeEach, describe, expect, it} from 'vitest';
import {createClient, limit} from '../../src/index.js';
import {otel} from '../../src/otel.js';
import {at, fault, uid} from '../support/fault.js';

class TestReader extends MetricReader {
	protected override async onForceFlush(): Promise<void> {}
	protected override async onShutdown(): Promise<void> {}
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({spanProcessors: [new SimpleSpanProcessor(exporter)]});
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);
const reader = new TestReader();
const meterProvider = new MeterProvider({readers: [reader]});
const tracer = provider.getTracer('test');
const meter = meterProvider.getMeter('test');
const undici = new UndiciInstrumentation();
undici.setTracerProvider(provider);
undici.enable();

afterAll(async () => {
	undici.disable();
	context.disable();
	await provider.shutdown();
	await meterProvider.shutdown();
});
beforeEach(() => exporter.reset());

const ours = () => exporter.getFinishedSpans().filter((span) => span.name.startsWith('surefetch '));
const children = (parent: ReadableSpan) => exporter.getFinishedSpans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('otel()', () => {
	it('a retried call: one INTERNAL span, attributes by the HTTP conventions, the URL redacted, a retry event', async () => {
		const api = createClient({retry: {limit: 2, delay: () => 10}, use: [otel({tracer, meter})]});
		const id = uid('otel');
		await api.get(at(`/flaky?id=${id}&fail=1&status=503&token=S3CR3T`)).json();
		const [span] = ours();
		expect(ours()).toHaveLength(1);
		expect(span!.name).toBe('surefetch GET');
		expect(span!.kind).toBe(SpanKind.INTERNAL);
		const port = Number(new URL(fault.url).port);
		expect(span!.attributes).toMatchObject({
			'http.request.method': 'GET',
			'server.address': '127.0.0.1',
			'server.port': port,
			'http.response.status_code': 200,
			'surefetch.attempts': 2,
		});
		expect(span!.attributes['url.full']).toContain('token=***');
		expect(JSON.stringify(span!.attributes)).not.toContain('S3CR3T');
		expect(span!.status.code).toBe(SpanStatusCode.UNSET);
		expect(span!.events.map((e) => [e.name, e.attributes?.['error.type']])).toEqual([['surefetch.retry', '503']]);
		// Each attempt's own CLIENT span (undici's instrumentation of Node's fetch) is a child of ours.
		const clients = children(span!).filter((child) => child.kind === SpanKind.CLIENT);
		expect(clients).toHaveLength(2);
		expect(clients.map((c) => c.attributes['http.response.status_code'])).toEqual([503, 200]);
	});

	it('failures: error status and error.type; a network failure has its code and phase; an abort is not an error', async () => {
		const api = createClient({retry: 0, use: [otel({tracer, meter})]});
		await api.get(at('/status/404')).catch(() => {});
		await api.get(fault.refusedUrl).catch(() => {});
		await api.get(at('/stall-before-headers'), {signal: AbortSignal.timeout(100)}).catch(() => {});
		const [http, network, aborted] = ours();
		expect(http!.status.code).toBe(SpanStatusCode.ERROR);
		expect(http!.attributes).toMatchObject({'error.type': '404', 'http.response.status_code': 404, 'surefetch.attempts': 1});
		expect(network!.attributes).toMatchObject({'error.type': 'network', 'surefetch.error.code': 'refused', 'surefetch.error.phase': 'headers'});
		expect(aborted!.status.code).toBe(SpanStatusCode.UNSET);
		expect(aborted!.attributes['error.type']).toBeUndefined();
	});

	it('the span stays open while a reader reads, and is active for the call (a span started inside nests)', async () => {
		const seen: Array<string | undefined> = [];
		const api = createClient({retry: 0, use: [otel({tracer, meter}), limit({concurrency: 2})], hooks: {beforeRequest: [() => {
			seen.push(trace.getActiveSpan()?.spanContext().spanId);
		}]}});
		await api.get(at('/trickle?every=20&chunks=5&size=4')).text();
		const [span] = ours();
		expect(seen).toEqual([span!.spanContext().spanId]);
		const ms = (span!.endTime[0] - span!.startTime[0]) * 1000 + (span!.endTime[1] - span!.startTime[1]) / 1e6;
		expect(ms).toBeGreaterThanOrEqual(80); // the body trickled for ~100 ms inside the call
	});

	it('records surefetch.client.request.duration in seconds, never http.client.request.duration', async () => {
		const api = createClient({retry: 0, use: [otel({tracer, meter})]});
		await api.get(at('/ok')).json();
		await api.get(at('/status/500')).catch(() => {});
		const {resourceMetrics} = await reader.collect();
		const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
		expect(metrics.map((m) => m.descriptor.name)).not.toContain('http.client.request.duration');
		const duration = metrics.find((m) => m.descriptor.name === 'surefetch.client.request.duration')!;
		expect(duration.descriptor.unit).toBe('s');
		const points = duration.dataPoints as Array<{attributes: Record<string, unknown>; value: {count: number; sum: number}}>;
		const failed = points.find((p) => p.attributes['error.type'] === '500');
		expect(failed?.value.count).toBeGreaterThanOrEqual(1);
		expect(points.every((p) => p.value.sum < 60)).toBe(true); // seconds, not ms
	});
});
