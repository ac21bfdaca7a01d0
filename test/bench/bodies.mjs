// The bodies the bench server sends and the clients check, built the same way on both sides so the
// expected decoded values are known without sending them. Plain ESM, no dependency.
//
// GBK cannot be encoded with Node's APIs (TextEncoder only writes UTF-8), so the 10 MB GBK body
// repeats the GBK bytes of a known short text from the fault server's charset fixtures inside one
// JSON string: {"greeting":"<text × repeat>"}. The UTF-8 body holds the same text, repeated to the
// same size in UTF-8.

import {charsets} from '../fault-server/charsets.js';

const encoder = new TextEncoder();

/** The known Chinese text and its GBK bytes ('简体中文：你好，世界！欢迎使用', 30 bytes in GBK). */
export const GBK_TEXT = charsets.gbk.text;
export const GBK_TEXT_BYTES = charsets.gbk.bytes.text;

export const MIB = 1024 * 1024;
/** Target size of the two 10 MB JSON bodies (10,000,000 bytes). */
export const TEN_MB = 10_000_000;
/** Size of the streamed body of the memory case (200 MiB). */
export const BIG_BYTES = 200 * MIB;

const PREFIX = encoder.encode('{"greeting":"');
const SUFFIX = encoder.encode('"}');

function jsonAround(unit, repeat) {
	const body = new Uint8Array(PREFIX.length + unit.length * repeat + SUFFIX.length);
	body.set(PREFIX, 0);
	let at = PREFIX.length;
	for (let i = 0; i < repeat; i++, at += unit.length) body.set(unit, at);
	body.set(SUFFIX, at);
	return body;
}

const repeatFor = (unit) => Math.floor((TEN_MB - PREFIX.length - SUFFIX.length) / unit.length);

/** How often the text is repeated in each 10 MB body. */
export const GBK_REPEAT = repeatFor(GBK_TEXT_BYTES);
export const UTF8_REPEAT = repeatFor(encoder.encode(GBK_TEXT));

/** The server side: the bytes of each body. */
export function buildGbkBody() {
	return jsonAround(GBK_TEXT_BYTES, GBK_REPEAT);
}
export function buildUtf8Body() {
	return jsonAround(encoder.encode(GBK_TEXT), UTF8_REPEAT);
}

/** The client side: the string `.greeting` must equal. */
export function expectedGreeting(kind) {
	return GBK_TEXT.repeat(kind === 'gbk' ? GBK_REPEAT : UTF8_REPEAT);
}

/**
 * Issue 10's decoding case: a 12 MB UTF-8 JSON array of records mixing ASCII and CJK (every record
 * has ASCII keys and numbers; about two in three carry Japanese or Chinese text). Record i is
 * `record(i)`, so a client can check every one without the server sending the expected values.
 */
export const RECORDS_BYTES = 12_000_000;
const CITIES = ['Berlin', '東京都渋谷区', '上海市浦东新区'];
const NOTES = ['plain ascii text here', '简体中文：你好，世界！欢迎使用', 'こんにちは、世界。ようこそ'];
export const record = (i) => ({id: i, name: `user-${i}`, city: CITIES[i % 3], note: NOTES[i % 5 % 3], ok: i % 2 === 0, score: (i * 37) % 1000 / 10});

/** How many records fit in `RECORDS_BYTES` (computed once, same on both sides). */
export const RECORDS_COUNT = (() => {
	let size = 1; // '['
	let i = 0;
	while (true) {
		const next = encoder.encode(JSON.stringify(record(i))).length + (i > 0 ? 1 : 0);
		if (size + next + 1 > RECORDS_BYTES) return i;
		size += next;
		i++;
	}
})();

export function buildRecordsBody() {
	return encoder.encode(JSON.stringify(Array.from({length: RECORDS_COUNT}, (_, i) => record(i))));
}

/** ~100 B of JSON. */
export const SMALL = {id: 1, name: 'surefetch', ok: true, tags: ['bench', 'small'], count: 42, note: 'a small JSON body'};

/** ~1 KB of JSON: a list of users. */
export const ONE_KB = {
	page: 1,
	users: Array.from({length: 15}, (_, i) => ({id: i + 1, name: `user-${i + 1}`, email: `user${i + 1}@example.com`, active: i % 3 !== 0})),
};
