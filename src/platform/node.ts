// What only Node-like runtimes need (Node, and Bun and Deno, which resolve the `node` export
// condition): the error codes of Node, undici and Bun, Deno's messages, and a faster UTF-8 path on
// Buffer. Browsers and workers load ./default.ts instead (package.json "imports": #platform).

import {Buffer, isUtf8} from 'node:buffer';
import diagnostics from 'node:diagnostics_channel';
import type {Verdict} from './verdict.js';

const net = (code: string): Verdict => ['network', code] as Verdict;
const late = (phase: string): Verdict => ['timeout', phase] as Verdict;

/** Exact `code` values along an error's cause chain. */
export const codes: Record<string, Verdict> = {
	UND_ERR_CONNECT_TIMEOUT: late('connect'),
	ETIMEDOUT: late('connect'),
	UND_ERR_HEADERS_TIMEOUT: late('headers'),
	UND_ERR_BODY_TIMEOUT: late('idle'),
	ENOTFOUND: net('dns'),
	EAI_AGAIN: net('dns'),
	ECONNREFUSED: net('refused'),
	ECONNRESET: net('reset'),
	EPIPE: net('reset'),
	UND_ERR_SOCKET: net('reset'),
	UND_ERR_CLOSED: net('reset'),
	EHOSTUNREACH: net('unreachable'),
	ENETUNREACH: net('unreachable'),
	DEPTH_ZERO_SELF_SIGNED_CERT: net('tls'),
	SELF_SIGNED_CERT_IN_CHAIN: net('tls'),
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: net('tls'),
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: net('tls'),
	UND_ERR_RES_CONTENT_LENGTH_MISMATCH: net('protocol'),
	UND_ERR_HEADERS_OVERFLOW: net('protocol'),
	UND_ERR_NOT_SUPPORTED: net('protocol'),
	UND_ERR_DESTROYED: net('reset'),
	UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: net('protocol'),
	Z_DATA_ERROR: net('protocol'),
	Z_BUF_ERROR: net('protocol'),
	ERR_INVALID_HTTP_RESPONSE: net('protocol'),
	UND_ERR_PRX_TLS: net('proxy'),
	// undici 8's failed proxy connection; surefetch/node marks every proxy failure with it (src/node/proxy.ts).
	UND_ERR_PRX_CONN: net('proxy'),
	// Bun (1.4): a Node code where one fits (ECONNREFUSED, ECONNRESET, ENOTFOUND, the TLS codes above),
	// else the name its HTTP client gives the failure; older Bun named more of them its own way.
	InvalidHTTPResponse: net('protocol'), // a bad chunk size
	Malformed_HTTP_Response: net('protocol'), // a status line that is not one
	InvalidContentLength: net('protocol'),
	UnsupportedRedirectProtocol: net('protocol'), // a redirect to file:, javascript:…
	TooManyRedirects: net('protocol'),
	ZlibError: net('protocol'), // gzip and deflate
	BrotliDecompressionError: net('protocol'),
	ZstdDecompressionError: net('protocol'),
	ConnectionRefused: net('refused'),
	ConnectionClosed: net('reset'),
	DNSLookupFailed: net('dns'),
};

/** Code prefixes of families too large to list. */
export const prefixes: Array<[string, Verdict]> = [
	['CERT_', net('tls')],
	['ERR_TLS_', net('tls')],
	['ERR_SSL_', net('tls')],
	['HPE_', net('protocol')], // llhttp
	['ERR__ERROR_FORMAT_', net('protocol')], // zlib's brotli decoder
];

/** Error names, for errors whose code a version dropped (undici 7's HTTPParserError). */
export const names: Record<string, Verdict> = {
	HTTPParserError: net('protocol'),
	ConnectTimeoutError: late('connect'),
	HeadersTimeoutError: late('headers'),
	BodyTimeoutError: late('idle'),
	ResponseContentLengthMismatchError: net('protocol'),
};

/**
 * Messages of errors that carry no code. Deno's fetch (reqwest and hyper under it) puts the reason in
 * the text of the cause of `TypeError: fetch failed`, or of the body's TypeError; Bun refuses a GET
 * body in fetch(), not in the Request constructor.
 */
export const messages: Array<[RegExp, Verdict]> = [
	[/\bConnection refused \(os error \d+\)/, net('refused')],
	[/\bdns error\b|failed to lookup address information/, net('dns')],
	[/invalid peer certificate|received fatal alert|tls handshake/i, net('tls')],
	[/\b(?:Connection reset by peer|Broken pipe) \(os error \d+\)|connection closed before message completed/, net('reset')],
	// The same words for a connection that dies mid-body and a chunk size that is not one: the
	// connection is what Deno names.
	[/^error reading a body from connection$/, net('reset')],
	[/\b(?:Network is unreachable|No route to host) \(os error \d+\)/, net('unreachable')],
	[/\bConnection timed out \(os error \d+\)/, late('connect')],
	[/^Fetch failed: Requests to port \d+ are blocked$/, ['invalid', 'url']],
	[/invalid HTTP (?:status-code|version|header|method) parsed|message head is too large|invalid content-length parsed|Invalid gzip header|deflate decompression error|^brotli error$|Maximum number of redirects \(\d+\) reached/, net('protocol')],
	// surefetch sends only http(s), data: and blob: URLs: another scheme comes from a redirect.
	[/^Url scheme '[^']*' not supported$|Can not redirect to a non HTTP\(s\) url/, net('protocol')],
	[/^fetch\(\) request with GET\/HEAD(?:\/OPTIONS)? method cannot have body\.?$/, ['invalid', 'body']],
];

// Valid UTF-8 only (simdutf checks 10 MB in ~0.6 ms), so the text is exactly TextDecoder's; up to
// 2x faster than a fatal TextDecoder on Node 24.
export function utf8(view: Uint8Array): string | undefined {
	return view.byteLength > 4096 && isUtf8(view) ? Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('utf8') : undefined;
}

/** Node's diagnostics channels: built once, published to only when someone subscribes. */
export const channels = {
	request: diagnostics.tracingChannel('surefetch:request'),
	retry: diagnostics.channel('surefetch:retry'),
	breaker: diagnostics.channel('surefetch:breaker'),
};
