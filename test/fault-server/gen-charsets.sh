#!/usr/bin/env bash
# Regenerates the byte fixtures of charsets.js with iconv.
#
#   bash test/fault-server/gen-charsets.sh
#
# For every fixture it encodes the text body (the text itself) and the JSON body
# ({"greeting":"<text>"}) with iconv, prepends a byte-order mark where the fixture has one,
# and writes them as base64 between the GENERATED markers of charsets.js (nothing else in that
# file is touched). It then checks, with the TextDecoder of the running Node, that every fixture
# decodes back to its text. Needs: bash, iconv (glibc), base64, awk, node.
#
# Texts must not contain `"`, `\` or `'` (they are pasted into JSON and a JS string literal).
set -euo pipefail
cd "$(dirname "$0")"

target=charsets.js
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT

b64() { base64 | tr -d '\n'; }

# fixture NAME BOM ICONV_CHARSET TEXT
#   BOM: printf escapes of the byte-order mark to prepend ('' for none)
#   ICONV_CHARSET: the iconv name the body is encoded with
fixture() {
  local name=$1 bom=$2 charset=$3 text=$4
  local text_b64 json_b64
  text_b64=$({ printf "$bom"; printf '%s' "$text" | iconv -f UTF-8 -t "$charset"; } | b64)
  json_b64=$({ printf "$bom"; printf '{"greeting":"%s"}' "$text" | iconv -f UTF-8 -t "$charset"; } | b64)
  emit "$name" "$text" "$json_b64" "$text_b64"
}

# emit NAME JS_TEXT JSON_B64 TEXT_B64 (JS_TEXT is pasted into a single-quoted JS literal)
emit() {
  printf "  '%s': { text: '%s', json: '%s', body: '%s' },\n" "$1" "$2" "$3" "$4" >>"$generated"
}

fixture gbk            ''            GBK        '简体中文：你好，世界！欢迎使用'
fixture gb18030        ''            GB18030    '中文（四字节：𠮷）你好'
fixture shift_jis      ''            SHIFT_JIS  '日本語：こんにちは、世界。カタカナ'
fixture euc-kr         ''            EUC-KR     '한국어: 안녕하세요, 세계'
fixture big5           ''            BIG5       '繁體中文：你好，世界。臺灣'
# Only bytes 0x20-0x7E and 0xA0-0xFF: WHATWG decodes the label iso-8859-1 as windows-1252, which
# differs from real ISO-8859-1 only in 0x80-0x9F (e.g. 0x80 is "€" there), so no such byte is used.
fixture iso-8859-1     ''            ISO-8859-1 'Café déjà vu, naïve façade, Ærøskøbing, 25 °C, ½, ¿Qué?'
fixture utf-16le-bom   '\xff\xfe'    UTF-16LE   'UTF-16LE: héllo wörld ✓ 你好 😀'
fixture utf-16be-bom   '\xfe\xff'    UTF-16BE   'UTF-16BE: héllo wörld ✓ 你好 😀'
fixture utf-8-bom      '\xef\xbb\xbf' UTF-8     'UTF-8 with BOM: héllo wörld ✓ 你好'
fixture wrong-label    ''            UTF-8      'nuqneH, plain ASCII under an unknown label'
fixture no-charset     ''            UTF-8      'no charset: héllo wörld ✓ 你好'
# The header says gbk, the body is UTF-8 with a UTF-8 BOM: the BOM must win.
fixture header-vs-bom  '\xef\xbb\xbf' UTF-8     '标题说 GBK，正文是 UTF-8：你好'

# invalid-utf-8 is written byte by byte (iconv refuses to produce invalid UTF-8): 0xFF and 0xFE
# can never appear in UTF-8, and 0xE4 0xBD is a 3-byte sequence cut short. The expected text is
# what a non-fatal WHATWG decoder yields: one U+FFFD per bad byte / per truncated sequence.
invalid_text=$(printf 'bad bytes: \xff\xfe, cut sequence: \xe4\xbd end' | b64)
invalid_json=$(printf '{"greeting":"bad bytes: \xff\xfe, cut sequence: \xe4\xbd end"}' | b64)
emit invalid-utf-8 'bad bytes: \uFFFD\uFFFD, cut sequence: \uFFFD end' "$invalid_json" "$invalid_text"

# Replace the lines between the markers with the fresh block.
awk -v block="$generated" '
  /BEGIN GENERATED/ { print; while ((getline line < block) > 0) print line; skip = 1; next }
  /END GENERATED/   { skip = 0 }
  !skip             { print }
' "$target" >"$target.tmp"
mv "$target.tmp" "$target"

# Check every fixture with the running Node (full ICU): fails loudly when a body does not decode
# to its text with the decoder a correct client would pick.
node --input-type=module -e '
  import { charsets, CHARSET_NAMES } from "./charsets.js";
  const strip = (s) => s.replace(/^\uFEFF/, "");
  let bad = 0;
  for (const name of CHARSET_NAMES) {
    const f = charsets[name];
    const decode = (bytes) => new TextDecoder(f.encoding ?? "utf-8", { fatal: f.expect === "ok" }).decode(bytes);
    const text = decode(f.bytes.text);
    const json = JSON.parse(strip(decode(f.bytes.json)));
    const ok = text === f.text && json.greeting === f.json.greeting;
    if (!ok) { bad++; console.error(`MISMATCH ${name}: ${JSON.stringify(text)} vs ${JSON.stringify(f.text)}`); }
    else console.error(`ok  ${name.padEnd(14)} ${f.bytes.text.length} bytes -> ${f.text}`);
  }
  // The two negative fixtures must really be negative.
  const throws = (fn) => { try { fn(); return false; } catch { return true; } };
  if (!throws(() => new TextDecoder("utf-8", { fatal: true }).decode(charsets["invalid-utf-8"].bytes.text))) {
    bad++; console.error("invalid-utf-8 decodes without error");
  }
  if (!throws(() => new TextDecoder(charsets["wrong-label"].label))) {
    bad++; console.error("wrong-label is a known label");
  }
  if (bad) process.exit(1);
'
