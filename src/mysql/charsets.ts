// MariaDB 10.11's character sets and collations, and the conversion between a client's character
// set and the text the gate works with (JavaScript strings). The gate decodes what a client sends
// with the client's character_set_client; the tablets' connections speak utf8mb4 to MariaDB and get
// their results in the session's character_set_results (see docs/gate.md, "Character sets").
import iconv from 'iconv-lite';
import { LATIN1_TO_UNICODE } from '../collations/weights-data.js';

/**
 * Every collation MariaDB 10.11 knows, per character set: `id:name` with the character set's name
 * and `_` left off the front (`=` before a name that does not start with it), `*` after the default.
 * Taken from information_schema.COLLATIONS of MariaDB 10.11.
 */
const TABLE: Readonly<Record<string, string>> = {
  big5: '1:chinese_ci* 84:bin 1025:chinese_nopad_ci 1108:nopad_bin',
  latin2: '2:czech_cs 9:general_ci* 21:hungarian_ci 27:croatian_ci 77:bin 1033:general_nopad_ci 1101:nopad_bin',
  dec8: '3:swedish_ci* 69:bin 1027:swedish_nopad_ci 1093:nopad_bin',
  cp850: '4:general_ci* 80:bin 1028:general_nopad_ci 1104:nopad_bin',
  latin1: '5:german1_ci 8:swedish_ci* 15:danish_ci 31:german2_ci 47:bin 48:general_ci 49:general_cs 94:spanish_ci 1032:swedish_nopad_ci 1071:nopad_bin',
  hp8: '6:english_ci* 72:bin 1030:english_nopad_ci 1096:nopad_bin',
  koi8r: '7:general_ci* 74:bin 1031:general_nopad_ci 1098:nopad_bin',
  swe7: '10:swedish_ci* 82:bin 1034:swedish_nopad_ci 1106:nopad_bin',
  ascii: '11:general_ci* 65:bin 1035:general_nopad_ci 1089:nopad_bin',
  ujis: '12:japanese_ci* 91:bin 1036:japanese_nopad_ci 1115:nopad_bin',
  sjis: '13:japanese_ci* 88:bin 1037:japanese_nopad_ci 1112:nopad_bin',
  cp1251: '14:bulgarian_ci 23:ukrainian_ci 50:bin 51:general_ci* 52:general_cs 1074:nopad_bin 1075:general_nopad_ci',
  hebrew: '16:general_ci* 71:bin 1040:general_nopad_ci 1095:nopad_bin',
  tis620: '18:thai_ci* 89:bin 1042:thai_nopad_ci 1113:nopad_bin',
  euckr: '19:korean_ci* 85:bin 1043:korean_nopad_ci 1109:nopad_bin',
  latin7: '20:estonian_cs 41:general_ci* 42:general_cs 79:bin 1065:general_nopad_ci 1103:nopad_bin',
  koi8u: '22:general_ci* 75:bin 1046:general_nopad_ci 1099:nopad_bin',
  gb2312: '24:chinese_ci* 86:bin 1048:chinese_nopad_ci 1110:nopad_bin',
  greek: '25:general_ci* 70:bin 1049:general_nopad_ci 1094:nopad_bin',
  cp1250: '26:general_ci* 34:czech_cs 44:croatian_ci 66:bin 99:polish_ci 1050:general_nopad_ci 1090:nopad_bin',
  gbk: '28:chinese_ci* 87:bin 1052:chinese_nopad_ci 1111:nopad_bin',
  cp1257: '29:lithuanian_ci 58:bin 59:general_ci* 1082:nopad_bin 1083:general_nopad_ci',
  latin5: '30:turkish_ci* 78:bin 1054:turkish_nopad_ci 1102:nopad_bin',
  armscii8: '32:general_ci* 64:bin 1056:general_nopad_ci 1088:nopad_bin',
  utf8mb3: '33:general_ci* 83:bin 192:unicode_ci 193:icelandic_ci 194:latvian_ci 195:romanian_ci 196:slovenian_ci 197:polish_ci 198:estonian_ci 199:spanish_ci 200:swedish_ci 201:turkish_ci 202:czech_ci 203:danish_ci 204:lithuanian_ci 205:slovak_ci 206:spanish2_ci 207:roman_ci 208:persian_ci 209:esperanto_ci 210:hungarian_ci 211:sinhala_ci 212:german2_ci 213:croatian_mysql561_ci 214:unicode_520_ci 215:vietnamese_ci 223:general_mysql500_ci 576:croatian_ci 577:myanmar_ci 578:thai_520_w2 1057:general_nopad_ci 1107:nopad_bin 1216:unicode_nopad_ci 1238:unicode_520_nopad_ci',
  ucs2: '35:general_ci* 90:bin 128:unicode_ci 129:icelandic_ci 130:latvian_ci 131:romanian_ci 132:slovenian_ci 133:polish_ci 134:estonian_ci 135:spanish_ci 136:swedish_ci 137:turkish_ci 138:czech_ci 139:danish_ci 140:lithuanian_ci 141:slovak_ci 142:spanish2_ci 143:roman_ci 144:persian_ci 145:esperanto_ci 146:hungarian_ci 147:sinhala_ci 148:german2_ci 149:croatian_mysql561_ci 150:unicode_520_ci 151:vietnamese_ci 159:general_mysql500_ci 640:croatian_ci 641:myanmar_ci 642:thai_520_w2 1059:general_nopad_ci 1114:nopad_bin 1152:unicode_nopad_ci 1174:unicode_520_nopad_ci',
  cp866: '36:general_ci* 68:bin 1060:general_nopad_ci 1092:nopad_bin',
  keybcs2: '37:general_ci* 73:bin 1061:general_nopad_ci 1097:nopad_bin',
  macce: '38:general_ci* 43:bin 1062:general_nopad_ci 1067:nopad_bin',
  macroman: '39:general_ci* 53:bin 1063:general_nopad_ci 1077:nopad_bin',
  cp852: '40:general_ci* 81:bin 1064:general_nopad_ci 1105:nopad_bin',
  utf8mb4: '45:general_ci* 46:bin 224:unicode_ci 225:icelandic_ci 226:latvian_ci 227:romanian_ci 228:slovenian_ci 229:polish_ci 230:estonian_ci 231:spanish_ci 232:swedish_ci 233:turkish_ci 234:czech_ci 235:danish_ci 236:lithuanian_ci 237:slovak_ci 238:spanish2_ci 239:roman_ci 240:persian_ci 241:esperanto_ci 242:hungarian_ci 243:sinhala_ci 244:german2_ci 245:croatian_mysql561_ci 246:unicode_520_ci 247:vietnamese_ci 608:croatian_ci 609:myanmar_ci 610:thai_520_w2 1069:general_nopad_ci 1070:nopad_bin 1248:unicode_nopad_ci 1270:unicode_520_nopad_ci',
  utf16: '54:general_ci* 55:bin 101:unicode_ci 102:icelandic_ci 103:latvian_ci 104:romanian_ci 105:slovenian_ci 106:polish_ci 107:estonian_ci 108:spanish_ci 109:swedish_ci 110:turkish_ci 111:czech_ci 112:danish_ci 113:lithuanian_ci 114:slovak_ci 115:spanish2_ci 116:roman_ci 117:persian_ci 118:esperanto_ci 119:hungarian_ci 120:sinhala_ci 121:german2_ci 122:croatian_mysql561_ci 123:unicode_520_ci 124:vietnamese_ci 672:croatian_ci 673:myanmar_ci 674:thai_520_w2 1078:general_nopad_ci 1079:nopad_bin 1125:unicode_nopad_ci 1147:unicode_520_nopad_ci',
  utf16le: '56:general_ci* 62:bin 1080:general_nopad_ci 1086:nopad_bin',
  cp1256: '57:general_ci* 67:bin 1081:general_nopad_ci 1091:nopad_bin',
  utf32: '60:general_ci* 61:bin 160:unicode_ci 161:icelandic_ci 162:latvian_ci 163:romanian_ci 164:slovenian_ci 165:polish_ci 166:estonian_ci 167:spanish_ci 168:swedish_ci 169:turkish_ci 170:czech_ci 171:danish_ci 172:lithuanian_ci 173:slovak_ci 174:spanish2_ci 175:roman_ci 176:persian_ci 177:esperanto_ci 178:hungarian_ci 179:sinhala_ci 180:german2_ci 181:croatian_mysql561_ci 182:unicode_520_ci 183:vietnamese_ci 736:croatian_ci 737:myanmar_ci 738:thai_520_w2 1084:general_nopad_ci 1085:nopad_bin 1184:unicode_nopad_ci 1206:unicode_520_nopad_ci',
  binary: '63:=binary*',
  geostd8: '92:general_ci* 93:bin 1116:general_nopad_ci 1117:nopad_bin',
  cp932: '95:japanese_ci* 96:bin 1119:japanese_nopad_ci 1120:nopad_bin',
  eucjpms: '97:japanese_ci* 98:bin 1121:japanese_nopad_ci 1122:nopad_bin',
};

export interface CollationEntry {
  readonly id: number;
  readonly name: string;
  readonly charset: string;
  readonly isDefault: boolean;
}

const byId = new Map<number, CollationEntry>();
const byName = new Map<string, CollationEntry>();
const defaults = new Map<string, CollationEntry>();
for (const [charset, list] of Object.entries(TABLE)) {
  for (const item of list.split(' ')) {
    const m = /^(\d+):(=?)([a-z0-9_]+)(\*?)$/.exec(item);
    if (!m) throw new Error(`bad collation table entry ${item}`);
    const e: CollationEntry = { id: Number(m[1]), name: m[2] ? m[3] : `${charset}_${m[3]}`, charset, isDefault: m[4] === '*' };
    byId.set(e.id, e);
    byName.set(e.name, e);
    if (e.isDefault) defaults.set(charset, e);
  }
}

/** The collation with this id (as a handshake or a column definition carries it). */
export function mariadbCollation(id: number): CollationEntry | undefined {
  return byId.get(id);
}

/** A collation by name, case-insensitive; `utf8_…` means `utf8mb3_…` as in MariaDB 10.11. */
export function mariadbCollationByName(name: string): CollationEntry | undefined {
  const n = name.toLowerCase();
  return byName.get(n) ?? (n.startsWith('utf8_') ? byName.get(`utf8mb3_${n.slice(5)}`) : undefined);
}

/** A character set's canonical name (`utf8` → `utf8mb3`), or undefined when MariaDB has none by that name. */
export function mariadbCharset(name: string): string | undefined {
  const n = name.toLowerCase();
  if (n === 'utf8') return 'utf8mb3';
  return defaults.has(n) ? n : undefined;
}

/** The default collation of a character set. */
export function defaultCollation(charset: string): CollationEntry {
  const e = defaults.get(charset);
  if (!e) throw new Error(`unknown character set ${charset}`);
  return e;
}

/**
 * Character sets a client may use for character_set_client: MariaDB refuses the ones whose
 * characters are not ASCII-compatible (ucs2, utf16, utf16le, utf32).
 */
export function isClientCharset(charset: string): boolean {
  return !['ucs2', 'utf16', 'utf16le', 'utf32'].includes(charset);
}

/** iconv-lite's name of each single- or multi-byte character set that Node cannot decode itself. */
const ICONV: Readonly<Record<string, string>> = {
  big5: 'big5', cp850: 'cp850', hp8: 'hp-roman8', koi8r: 'koi8-r', latin2: 'iso-8859-2', ujis: 'eucjp', sjis: 'shift_jis',
  hebrew: 'iso-8859-8', tis620: 'tis620', euckr: 'euc-kr', koi8u: 'koi8-u', gb2312: 'gb2312', greek: 'iso-8859-7', cp1250: 'cp1250',
  gbk: 'gbk', latin5: 'iso-8859-9', armscii8: 'armscii8', cp866: 'cp866', macce: 'maccenteuro', macroman: 'macroman', cp852: 'cp852',
  latin7: 'iso-8859-13', cp1251: 'cp1251', cp1256: 'cp1256', cp1257: 'cp1257', geostd8: 'georgianps', cp932: 'cp932', eucjpms: 'eucjp',
};

/** MariaDB's latin1 is Windows-1252 with its five holes kept as the C1 controls of the same number. */
const LATIN1_DECODE = String.fromCharCode(...LATIN1_TO_UNICODE);
const LATIN1_ENCODE = new Map<number, number>(LATIN1_TO_UNICODE.map((u, b) => [u, b]));

export type TextDecoder = (buf: Buffer, start?: number) => string;
export type TextEncoder = (text: string) => Buffer;

const utf8Decoder: TextDecoder = (buf, start = 0) => buf.toString('utf8', start);

/**
 * How to turn a client's bytes in this character set into text. Character sets without a decoder
 * here (dec8, swe7, keybcs2: 7- and 8-bit sets nobody has used for decades) and binary are read
 * byte for byte, as latin1 is, so their bytes reach MariaDB unchanged when they are ASCII.
 */
export function decoderFor(charset: string): TextDecoder {
  switch (charset) {
    case 'utf8mb4':
    case 'utf8mb3':
      return utf8Decoder;
    case 'latin1':
      return (buf, start = 0) => {
        let s = '';
        for (let i = start; i < buf.length; i += 8192) {
          const end = Math.min(buf.length, i + 8192);
          const codes: number[] = [];
          for (let j = i; j < end; j++) codes.push(LATIN1_DECODE.charCodeAt(buf[j]));
          s += String.fromCharCode(...codes);
        }
        return s;
      };
    case 'ascii':
    case 'binary':
    case 'dec8':
    case 'swe7':
    case 'keybcs2':
      return (buf, start = 0) => buf.toString('latin1', start);
    default: {
      const enc = ICONV[charset];
      if (!enc) return utf8Decoder;
      return (buf, start = 0) => iconv.decode(start ? buf.subarray(start) : buf, enc);
    }
  }
}

/** The reverse of decoderFor: text in this character set ('?' for what it cannot hold, as MariaDB). */
export function encoderFor(charset: string): TextEncoder {
  switch (charset) {
    case 'utf8mb4':
    case 'utf8mb3':
      return (s) => Buffer.from(s, 'utf8');
    case 'latin1':
      return (s) => {
        const out = Buffer.allocUnsafe(s.length);
        for (let i = 0; i < s.length; i++) out[i] = LATIN1_ENCODE.get(s.charCodeAt(i)) ?? 0x3f;
        return out;
      };
    case 'ascii':
    case 'binary':
    case 'dec8':
    case 'swe7':
    case 'keybcs2':
      return (s) => Buffer.from(s, 'latin1');
    default: {
      const enc = ICONV[charset];
      if (!enc) return (s) => Buffer.from(s, 'utf8');
      return (s) => iconv.encode(s, enc);
    }
  }
}
