// Types of charsets.js (the charset fixtures served on /charset/:name).

export type CharsetName =
  | 'gbk'
  | 'gb18030'
  | 'shift_jis'
  | 'euc-kr'
  | 'big5'
  | 'iso-8859-1'
  | 'utf-16le-bom'
  | 'utf-16be-bom'
  | 'utf-8-bom'
  | 'invalid-utf-8'
  | 'wrong-label'
  | 'no-charset'
  | 'header-vs-bom';

export interface CharsetFixture {
  readonly name: CharsetName;
  /** The charset parameter of Content-Type, or null when there is none (no-charset). */
  readonly label: string | null;
  /**
   * The WHATWG encoding a correct decoder uses (BOM, then label, then UTF-8), e.g.
   * 'windows-1252' for the label iso-8859-1; null when the label is unknown (wrong-label).
   */
  readonly encoding: string | null;
  /** The byte-order mark the bodies start with, if any. */
  readonly bom: 'utf-8' | 'utf-16le' | 'utf-16be' | null;
  /**
   * What a correct client does: 'ok' decodes to `text`/`json`; 'invalid-bytes' fails a fatal
   * decode (lenient decoding gives `text`, with U+FFFD); 'unknown-label' fails because
   * TextDecoder does not know `label` (the bytes are UTF-8 and mean `text`).
   */
  readonly expect: 'ok' | 'invalid-bytes' | 'unknown-label';
  /** The Content-Type the server sends for ?as=json and ?as=text. */
  readonly contentType: { readonly json: string; readonly text: string };
  /** The exact bodies (BOM included). Shared instances: copy before mutating. */
  readonly bytes: { readonly json: Uint8Array; readonly text: Uint8Array };
  /** The decoded text (without BOM). */
  readonly text: string;
  /** The decoded JSON body. */
  readonly json: { readonly greeting: string };
}

export const charsets: { readonly [K in CharsetName]: CharsetFixture };

/** Every fixture name, in a stable order. */
export const CHARSET_NAMES: readonly CharsetName[];

/** The Content-Type the server sends; header 'none' drops the charset parameter (?header=none). */
export function contentTypeOf(name: CharsetName, as?: 'json' | 'text', header?: 'label' | 'none'): string;
