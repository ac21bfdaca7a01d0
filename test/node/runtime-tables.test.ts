// The tables of the runtimes this machine cannot run the way users meet them, row by row, on the
// exact errors they throw: Safari's messages (documented by WebKit/Foundation: no Safari runs here),
// and the Bun, Deno, workerd and Firefox errors recorded by the probe (test/runtimes/probe/*.json;
// test/runtimes/cases/probe.test.ts checks them live in each runtime). Each error is built the way
// the runtime builds it: Bun's `code` on a TypeError, Deno's reason in the message of the cause.
import {describe, expect, it} from 'vitest';
import {classify} from '../../src/classify.js';

const context = {request: {method: 'GET', url: 'http://127.0.0.1/'}, attempts: 1, elapsed: 1, phase: 'headers' as const};
const body = {...context, phase: 'body' as const};

const typeError = (message: string) => new TypeError(message);
const bun = (code: string, message = `${code} fetching "http://127.0.0.1:1/". For more information, pass \`verbose: true\` in the second argument to fetch()`) => Object.assign(new TypeError(message), {code, errno: 0});
const deno = (message: string) => new TypeError('fetch failed', {cause: new Error(message)});

describe('Safari: its documented messages (a TypeError with no cause)', () => {
	const rows: Array<[string, typeof context | typeof body, Record<string, unknown>]> = [
		['Load failed', context, {kind: 'network', code: 'unknown', phase: 'headers'}],
		['Load failed', body, {kind: 'network', code: 'unknown', phase: 'body'}],
		['The network connection was lost.', context, {kind: 'network', code: 'reset', phase: 'headers'}],
		['The network connection was lost.', body, {kind: 'network', code: 'reset', phase: 'body'}],
		['The Internet connection appears to be offline.', context, {kind: 'network', code: 'offline', phase: 'headers'}],
		['cancelled', context, {kind: 'network', code: 'unknown', phase: 'headers'}],
		['A server with the specified hostname could not be found.', context, {kind: 'network', code: 'dns'}],
		['Could not connect to the server.', context, {kind: 'network', code: 'refused'}],
		['An SSL error has occurred and a secure connection to the server cannot be made.', context, {kind: 'network', code: 'tls'}],
		['The certificate for this server is invalid. You might be connecting to a server that is pretending to be “127.0.0.1” which could put your confidential information at risk.', context, {kind: 'network', code: 'tls'}],
		['too many HTTP redirects', context, {kind: 'network', code: 'protocol'}],
		['The request timed out.', context, {kind: 'timeout', phase: 'headers', timeout: undefined}],
		['The request timed out.', body, {kind: 'timeout', phase: 'idle', timeout: undefined}],
	];
	for (const [message, where, expected] of rows) {
		it(`"${message.slice(0, 60)}" (${where.phase})`, () => {
			const error = typeError(message);
			const result = classify(error, where);
			expect(result).toMatchObject(expected);
			expect((result as {cause: unknown}).cause).toBe(error);
		});
	}

	it('"cancelled" from Safari is not taken for the caller\'s abort (ours are known by identity)', () => {
		expect(classify(typeError('cancelled'), context)).toMatchObject({kind: 'network', code: 'unknown'});
	});
});

describe('Bun: `code` on the TypeError itself', () => {
	const rows: Array<[unknown, typeof context | typeof body, Record<string, unknown>]> = [
		[bun('ECONNREFUSED', 'ECONNREFUSED: Unable to connect. Is the computer able to access the url?'), context, {code: 'refused'}],
		[bun('ENOTFOUND', 'getaddrinfo ENOTFOUND surefetch-probe.invalid'), context, {code: 'dns'}],
		[bun('DEPTH_ZERO_SELF_SIGNED_CERT', 'self signed certificate'), context, {code: 'tls'}],
		[bun('ECONNRESET', 'ECONNRESET: The socket connection was closed unexpectedly.'), body, {code: 'reset', phase: 'body'}],
		[bun('InvalidHTTPResponse'), body, {code: 'protocol'}],
		[bun('Malformed_HTTP_Response'), context, {code: 'protocol'}],
		[bun('InvalidContentLength'), context, {code: 'protocol'}],
		[bun('UnsupportedRedirectProtocol'), context, {code: 'protocol'}],
		[bun('TooManyRedirects', 'TooManyRedirects: The response redirected too many times.'), context, {code: 'protocol'}],
		[bun('ZlibError'), body, {code: 'protocol'}],
		[bun('BrotliDecompressionError'), body, {code: 'protocol'}],
		[bun('ZstdDecompressionError'), body, {code: 'protocol'}],
		[bun('ConnectionRefused', 'Unable to connect. Is the computer able to access the url?'), context, {code: 'refused'}],
		[bun('ConnectionClosed', 'The socket connection was closed unexpectedly.'), context, {code: 'reset'}],
	];
	for (const [error, where, expected] of rows) {
		it(`${(error as {code: string}).code}`, () => expect(classify(error, where)).toMatchObject({kind: 'network', ...expected}));
	}

	it('a GET with a body, refused by fetch(): InvalidRequestError body', () => {
		expect(classify(typeError('fetch() request with GET/HEAD method cannot have body.'), context)).toMatchObject({kind: 'invalid', reason: 'body'});
	});
});

describe('Deno: the reason in the message of the cause of "fetch failed", or of the body\'s TypeError', () => {
	const rows: Array<[unknown, typeof context | typeof body, Record<string, unknown>]> = [
		[deno('error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)'), context, {kind: 'network', code: 'refused'}],
		[deno('error sending request for url (http://x.invalid/): client error (Connect): dns error: failed to lookup address information: Name or service not known'), context, {kind: 'network', code: 'dns'}],
		[deno('error sending request for url (https://127.0.0.1:1/ok): client error (Connect): invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))'), context, {kind: 'network', code: 'tls'}],
		[deno('Connection reset by peer (os error 104)'), context, {kind: 'network', code: 'reset'}],
		[deno('error sending request from 127.0.0.1:1 for http://127.0.0.1:2/ (127.0.0.1:2): client error (SendRequest): connection closed before message completed'), context, {kind: 'network', code: 'reset'}],
		[deno('error sending request for url (http://10.0.0.1/): client error (Connect): tcp connect error: Network is unreachable (os error 101)'), context, {kind: 'network', code: 'unreachable'}],
		[deno('error sending request for url (http://10.0.0.1/): client error (Connect): tcp connect error: Connection timed out (os error 110)'), context, {kind: 'timeout', phase: 'connect'}],
		[deno('error sending request from 127.0.0.1:1 for http://127.0.0.1:2/ (127.0.0.1:2): client error (SendRequest): invalid HTTP status-code parsed'), context, {kind: 'network', code: 'protocol'}],
		[typeError('error reading a body from connection'), body, {kind: 'network', code: 'reset', phase: 'body'}],
		[typeError('Invalid gzip header'), body, {kind: 'network', code: 'protocol'}],
		[typeError('deflate decompression error: invalid block type'), body, {kind: 'network', code: 'protocol'}],
		[typeError('brotli error'), body, {kind: 'network', code: 'protocol'}],
		[typeError('Fetch failed: Maximum number of redirects (20) reached'), context, {kind: 'network', code: 'protocol'}],
		[typeError('Fetch failed: Can not redirect to a non HTTP(s) url'), context, {kind: 'network', code: 'protocol'}],
		[typeError('Fetch failed: Requests to port 1 are blocked'), context, {kind: 'invalid', reason: 'url'}],
	];
	for (const [error, where, expected] of rows) {
		it(`${((error as Error).cause as Error | undefined)?.message ?? (error as Error).message}`, () => expect(classify(error, where)).toMatchObject(expected));
	}
});

describe('workerd and Firefox: what they name, and what they hide', () => {
	const rows: Array<[unknown, typeof context | typeof body, Record<string, unknown>]> = [
		[Object.assign(new Error('Network connection lost.'), {retryable: true}), context, {kind: 'network', code: 'unknown'}],
		[new Error('internal error; reference = 9tn4a1d2k5hfr0m0r4l7q8vb'), context, {kind: 'network', code: 'unknown'}],
		[typeError('Gzip decompression failed.'), body, {kind: 'network', code: 'protocol'}],
		[typeError('Too many redirects.http://127.0.0.1:1/redirect-loop, http://127.0.0.1:1/redirect-loop'), context, {kind: 'network', code: 'protocol'}],
		[typeError('Fetch API cannot load: file:///etc/passwd'), context, {kind: 'network', code: 'protocol'}],
		[typeError('NetworkError when attempting to fetch resource.'), context, {kind: 'network', code: 'unknown'}],
		[typeError('Error in input stream'), body, {kind: 'network', code: 'unknown', phase: 'body'}],
		[typeError('Decoding failed.'), body, {kind: 'network', code: 'protocol'}],
		[typeError('Content-Length header of network response exceeds response Body.'), body, {kind: 'network', code: 'reset'}],
	];
	for (const [error, where, expected] of rows) {
		it((error as Error).message.slice(0, 60), () => expect(classify(error, where)).toMatchObject(expected));
	}

	it('an opaque message counts only when nothing on the cause chain names the reason', () => {
		const wrapped = new TypeError('Network request failed', {cause: Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'})});
		expect(classify(wrapped, context)).toMatchObject({kind: 'network', code: 'refused'});
	});
});
