// The Node table, row by row, for the codes the fault server cannot provoke through the global
// fetch here (DNS needs a resolver, runtime timers need minutes). The errors are shaped exactly as
// undici and Node build them; the fault-server tests cover every row they can reach for real.
import {describe, expect, it} from 'vitest';
import {classify} from '../../src/classify.js';

const context = {request: {method: 'GET', url: 'http://127.0.0.1/'}, attempts: 1, elapsed: 1, phase: 'headers' as const};

function fetchFailed(cause: unknown): TypeError {
	return new TypeError('fetch failed', {cause});
}

function coded(message: string, code: string, name = 'Error'): Error {
	const error = new Error(message) as Error & {code: string};
	error.code = code;
	error.name = name;
	return error;
}

describe('the Node table', () => {
	const rows: Array<[string, unknown, Record<string, unknown>]> = [
		['ENOTFOUND', fetchFailed(coded('getaddrinfo ENOTFOUND x.invalid', 'ENOTFOUND')), {kind: 'network', code: 'dns'}],
		['EAI_AGAIN', fetchFailed(coded('getaddrinfo EAI_AGAIN x', 'EAI_AGAIN')), {kind: 'network', code: 'dns'}],
		['ECONNREFUSED in an AggregateError', fetchFailed(Object.assign(new AggregateError([coded('connect ECONNREFUSED ::1:80', 'ECONNREFUSED'), coded('connect ECONNREFUSED 127.0.0.1:80', 'ECONNREFUSED')]), {code: 'ECONNREFUSED'})), {kind: 'network', code: 'refused'}],
		['ECONNREFUSED in an AggregateError without its own code', fetchFailed(new AggregateError([coded('connect ECONNREFUSED ::1:80', 'ECONNREFUSED')])), {kind: 'network', code: 'refused'}],
		['EPIPE', fetchFailed(coded('write EPIPE', 'EPIPE')), {kind: 'network', code: 'reset'}],
		['UND_ERR_SOCKET', new TypeError('terminated', {cause: coded('other side closed', 'UND_ERR_SOCKET', 'SocketError')}), {kind: 'network', code: 'reset'}],
		['EHOSTUNREACH', fetchFailed(coded('connect EHOSTUNREACH', 'EHOSTUNREACH')), {kind: 'network', code: 'unreachable'}],
		['ENETUNREACH', fetchFailed(coded('connect ENETUNREACH', 'ENETUNREACH')), {kind: 'network', code: 'unreachable'}],
		['CERT_HAS_EXPIRED', fetchFailed(coded('certificate has expired', 'CERT_HAS_EXPIRED')), {kind: 'network', code: 'tls'}],
		['ERR_TLS_CERT_ALTNAME_INVALID', fetchFailed(coded('altname', 'ERR_TLS_CERT_ALTNAME_INVALID')), {kind: 'network', code: 'tls'}],
		['ERR_SSL_WRONG_VERSION_NUMBER', fetchFailed(coded('wrong version', 'ERR_SSL_WRONG_VERSION_NUMBER')), {kind: 'network', code: 'tls'}],
		['SELF_SIGNED_CERT_IN_CHAIN', fetchFailed(coded('self-signed in chain', 'SELF_SIGNED_CERT_IN_CHAIN')), {kind: 'network', code: 'tls'}],
		['UNABLE_TO_VERIFY_LEAF_SIGNATURE', fetchFailed(coded('leaf', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')), {kind: 'network', code: 'tls'}],
		['HTTPParserError without a code (undici 7)', new TypeError('terminated', {cause: Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), {name: 'HTTPParserError'})}), {kind: 'network', code: 'protocol'}],
		['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', fetchFailed(coded('mismatch', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')), {kind: 'network', code: 'protocol'}],
		['Z_DATA_ERROR', new TypeError('terminated', {cause: coded('incorrect header check', 'Z_DATA_ERROR')}), {kind: 'network', code: 'protocol'}],
		['redirect count exceeded', fetchFailed(new Error('redirect count exceeded')), {kind: 'network', code: 'protocol'}],
		// A proxy's failure outranks what it wraps (surefetch/node marks every one with UND_ERR_PRX_CONN, as undici 8 does some).
		['UND_ERR_PRX_CONN (undici 8, and surefetch/node\'s ProxyError)', fetchFailed(Object.assign(coded('Proxy Connection failed', 'UND_ERR_PRX_CONN', 'ProxyConnectionError'), {cause: coded('other side closed', 'UND_ERR_SOCKET', 'SocketError')})), {kind: 'network', code: 'proxy'}],
		['UND_ERR_PRX_TLS', fetchFailed(Object.assign(coded('Secure Proxy Connection failed', 'UND_ERR_PRX_TLS', 'SecureProxyConnectionError'), {cause: coded('altname', 'ERR_TLS_CERT_ALTNAME_INVALID')})), {kind: 'network', code: 'proxy'}],
		['UND_ERR_CONNECT_TIMEOUT', fetchFailed(coded('Connect Timeout Error', 'UND_ERR_CONNECT_TIMEOUT', 'ConnectTimeoutError')), {kind: 'timeout', phase: 'connect', timeout: undefined}],
		['ETIMEDOUT', fetchFailed(coded('connect ETIMEDOUT', 'ETIMEDOUT')), {kind: 'timeout', phase: 'connect', timeout: undefined}],
		['UND_ERR_HEADERS_TIMEOUT', fetchFailed(coded('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT', 'HeadersTimeoutError')), {kind: 'timeout', phase: 'headers', timeout: undefined}],
		['UND_ERR_BODY_TIMEOUT', new TypeError('terminated', {cause: coded('Body Timeout Error', 'UND_ERR_BODY_TIMEOUT', 'BodyTimeoutError')}), {kind: 'timeout', phase: 'idle', timeout: undefined}],
		['a browser\'s opaque TypeError', new TypeError('Failed to fetch'), {kind: 'network', code: 'unknown'}],
		['Firefox', new TypeError('NetworkError when attempting to fetch resource.'), {kind: 'network', code: 'unknown'}],
		['Safari', new TypeError('Load failed'), {kind: 'network', code: 'unknown'}],
	];
	for (const [name, error, expected] of rows) {
		it(name, () => {
			const result = classify(error, context);
			expect(result).toMatchObject(expected);
			expect((result as {cause: unknown}).cause).toBe(error);
		});
	}

	it('with a custom fetch, an unknown error is the caller\'s and passes through', () => {
		const mine = new RangeError('my transport');
		expect(classify(mine, {...context, customFetch: true})).toBe(mine);
		expect(classify(mine, context)).toMatchObject({kind: 'network', code: 'unknown'});
	});
});
