// fetch's rules for the URL of each hop (WHATWG fetch, as undici's fetch applies them): the ports
// fetch refuses to reach, and the request target sent on the wire (never the fragment).

// fetch's "bad port" list (https://fetch.spec.whatwg.org/#port-blocking): ports of protocols that a
// request body could be smuggled into (SMTP, IRC, X11, ...). Refused before any traffic, as
// TypeError('fetch failed', {cause: Error('bad port')}), which classify.ts reads as an invalid URL.
const badPorts = new Set([
	'1', '7', '9', '11', '13', '15', '17', '19', '20', '21', '22', '23', '25', '37', '42', '43', '53', '69', '77', '79',
	'87', '95', '101', '102', '103', '104', '109', '110', '111', '113', '115', '117', '119', '123', '135', '137',
	'139', '143', '161', '179', '389', '427', '465', '512', '513', '514', '515', '526', '530', '531', '532',
	'540', '548', '554', '556', '563', '587', '601', '636', '989', '990', '993', '995', '1719', '1720', '1723',
	'2049', '3659', '4045', '4190', '5060', '5061', '6000', '6566', '6665', '6666', '6667', '6668', '6669', '6679',
	'6697', '10080',
]);

/** `url.port` is '' for the scheme's default port, which is never a bad one. */
export function isBadPort(url: URL): boolean {
	return url.port !== '' && badPorts.has(url.port);
}

/**
 * The request target: path and query, never the fragment. A bare "?" (an empty query) is kept, as
 * Node 24 and 26 send it (`URL#search` is '' for it, the href still has it).
 */
export function requestPath(url: URL): string {
	const {pathname, search} = url;
	if (search !== '') return pathname + search;
	const {href} = url;
	const hash = href.indexOf('#');
	return href.charCodeAt((hash < 0 ? href.length : hash) - 1) === 0x3f ? `${pathname}?` : pathname;
}

/** The URL a Response reports: serialized without its fragment. */
export function withoutFragment(url: URL): string {
	const {href} = url;
	const hash = href.indexOf('#');
	return hash < 0 ? href : href.slice(0, hash);
}
