// Content-Encoding, decoded the way undici's fetch decodes it, so that a body reads the same over
// either transport: gzip/x-gzip, deflate (zlib-wrapped or raw, told apart by the first byte), br,
// and zstd where node:zlib has it; a list is undone right to left; any unknown coding leaves the
// body as it came. Lenient like fetch and curl (Z_SYNC_FLUSH): a truncated stream just ends, a
// corrupt one fails with zlib's error (`code: 'Z_DATA_ERROR'`). The headers stay as they came
// (fetch keeps Content-Encoding and Content-Length too).

import zlib from 'node:zlib';
import type {Transform} from 'node:stream';

type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

export const hasZstd = typeof (zlib as {createZstdDecompress?: unknown}).createZstdDecompress === 'function';
/** undici's limit (CVE-2022-32206 in curl): more codings than this is an attack, not a body. */
const maxCodings = 5;

/** The codings to undo, in order; undefined when there is nothing (or nothing known) to undo. */
export function codingsOf(header: string): Coding[] | undefined | Error {
	const listed = header.toLowerCase().split(',');
	if (listed.length > maxCodings) return new Error(`too many content-encodings in response: ${listed.length}, maximum allowed is ${maxCodings}`);
	const codings: Coding[] = [];
	for (let i = listed.length - 1; i >= 0; i--) {
		const coding = listed[i]!.trim();
		if (coding === 'gzip' || coding === 'x-gzip') codings.push('gzip');
		else if (coding === 'deflate' || coding === 'br' || (coding === 'zstd' && hasZstd)) codings.push(coding);
		else return undefined;
	}
	return codings.length > 0 ? codings : undefined;
}

/** Where decoded bytes go: the exchange, which owns the body source and undici's request. */
export interface DecoderSink {
	/** A decoded chunk; false: stop the output until `resumeOutput()`. */
	decoded(chunk: Uint8Array): boolean;
	decodedEnd(): void;
	decodeFailed(error: unknown): void;
	/** The decoder took what it was given: undici may send more. */
	inputDrained(): void;
}

export class Decoder {
	private streams: Transform[] = [];
	private stopped = false;

	constructor(private readonly codings: Coding[], private readonly sink: DecoderSink) {}

	/** Returns false when undici should pause until `sink.inputDrained()`. */
	write(chunk: Uint8Array): boolean {
		if (this.stopped || chunk.byteLength === 0) return true;
		// Made on the first byte: raw deflate is told by it, and an empty body needs no zlib at all
		// (zlib fails on an empty stream, fetch does not).
		if (this.streams.length === 0) this.build(chunk[0]!);
		return this.streams[0]!.write(chunk);
	}

	end(): void {
		if (this.stopped) return;
		if (this.streams.length > 0) this.streams[0]!.end();
		else this.sink.decodedEnd();
	}

	resumeOutput(): void {
		const last = this.streams[this.streams.length - 1];
		if (last?.isPaused()) last.resume();
	}

	destroy(): void {
		if (this.stopped) return;
		this.stopped = true;
		for (const stream of this.streams) stream.destroy();
	}

	private build(firstByte: number): void {
		const {sink} = this;
		const streams = this.codings.map((coding, i) => create(coding, i === 0 ? firstByte : 0x78));
		const fail = (error: unknown) => {
			if (this.stopped) return;
			this.destroy();
			sink.decodeFailed(error);
		};
		for (let i = 0; i < streams.length; i++) {
			streams[i]!.on('error', fail);
			if (i > 0) streams[i - 1]!.pipe(streams[i]!);
		}
		const first = streams[0]!;
		const last = streams[streams.length - 1]!;
		first.on('drain', () => sink.inputDrained());
		last.on('data', (chunk: Uint8Array) => {
			if (!this.stopped && !sink.decoded(chunk)) last.pause();
		});
		last.on('end', () => {
			if (!this.stopped) sink.decodedEnd();
		});
		this.streams = streams;
	}
}

function create(coding: Coding, firstByte: number): Transform {
	const {constants} = zlib;
	switch (coding) {
		case 'gzip':
			return zlib.createGunzip({flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH});
		case 'deflate': {
			// "deflate" is meant to be zlib-wrapped, some servers send it raw: a zlib header has method 8 in its low nibble.
			const options = {flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH};
			return (firstByte & 0x0f) === 0x08 ? zlib.createInflate(options) : zlib.createInflateRaw(options);
		}
		case 'br':
			return zlib.createBrotliDecompress({flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH});
		case 'zstd': {
			const z = zlib as unknown as {createZstdDecompress(options: object): Transform; constants: Record<string, number>};
			return z.createZstdDecompress({flush: z.constants.ZSTD_e_continue, finishFlush: z.constants.ZSTD_e_end});
		}
	}
}
