// Collation id -> character set, and how to turn a column's bytes into a JS string. The ids were
// read from MariaDB 10.11's information_schema.COLLATIONS and COLLATION_CHARACTER_SET_APPLICABILITY.
// A character set we cannot decode faithfully leaves the value as bytes (a Buffer) rather than
// guessing: a wrong string is worse than raw bytes.

const IDS: Readonly<Record<string, readonly number[]>> = {
  armscii8: [32, 64, 1056, 1088],
  ascii: [11, 65, 1035, 1089],
  big5: [1, 84, 1025, 1108],
  binary: [63],
  cp1250: [26, 34, 44, 66, 99, 1050, 1090],
  cp1251: [14, 23, 50, 51, 52, 1074, 1075],
  cp1256: [57, 67, 1081, 1091],
  cp1257: [29, 58, 59, 1082, 1083],
  cp850: [4, 80, 1028, 1104],
  cp852: [40, 81, 1064, 1105],
  cp866: [36, 68, 1060, 1092],
  cp932: [95, 96, 1119, 1120],
  dec8: [3, 69, 1027, 1093],
  eucjpms: [97, 98, 1121, 1122],
  euckr: [19, 85, 1043, 1109],
  gb2312: [24, 86, 1048, 1110],
  gbk: [28, 87, 1052, 1111],
  geostd8: [92, 93, 1116, 1117],
  greek: [25, 70, 1049, 1094],
  hebrew: [16, 71, 1040, 1095],
  hp8: [6, 72, 1030, 1096],
  keybcs2: [37, 73, 1061, 1097],
  koi8r: [7, 74, 1031, 1098],
  koi8u: [22, 75, 1046, 1099],
  latin1: [5, 8, 15, 31, 47, 48, 49, 94, 1032, 1071],
  latin2: [2, 9, 21, 27, 77, 1033, 1101],
  latin5: [30, 78, 1054, 1102],
  latin7: [20, 41, 42, 79, 1065, 1103],
  macce: [38, 43, 1062, 1067],
  macroman: [39, 53, 1063, 1077],
  sjis: [13, 88, 1037, 1112],
  swe7: [10, 82, 1034, 1106],
  tis620: [18, 89, 1042, 1113],
  ucs2: [35, 90, 159, 640, 641, 642, 1059, 1114, 1152, 1174],
  ujis: [12, 91, 1036, 1115],
  utf16: [54, 55, 101, 672, 673, 674, 1078, 1079, 1125, 1147],
  utf16le: [56, 62, 1080, 1086],
  utf32: [60, 61, 160, 736, 737, 738, 1084, 1085, 1184, 1206],
  utf8mb3: [33, 83, 192, 223, 576, 577, 578, 1057, 1107, 1216, 1238],
  utf8mb4: [45, 46, 224, 608, 609, 610, 1069, 1070, 1248, 1270],
};

/** Contiguous id ranges (UCA collations), inclusive. */
const RANGES: readonly [number, number, string][] = [
  [128, 151, 'ucs2'],
  [101, 124, 'utf16'],
  [160, 183, 'utf32'],
  [192, 215, 'utf8mb3'],
  [224, 247, 'utf8mb4'],
  // MariaDB 10.10+ UCA-14.0 collations.
  [2048, 2247, 'utf8mb3'],
  [2304, 2503, 'utf8mb4'],
  [2560, 2759, 'ucs2'],
  [2816, 3015, 'utf16'],
  [3072, 3271, 'utf32'],
];

const BY_ID = new Map<number, string>();
for (const [name, ids] of Object.entries(IDS)) for (const id of ids) BY_ID.set(id, name);

export const BINARY_COLLATION = 63;

/** The character set of a collation id, or undefined if unknown. */
export function charsetOfCollation(id: number): string | undefined {
  const name = BY_ID.get(id);
  if (name !== undefined) return name;
  for (const [lo, hi, cs] of RANGES) if (id >= lo && id <= hi) return cs;
  return undefined;
}

/** WHATWG labels for the character sets whose MariaDB mapping matches one exactly enough. */
const WHATWG: Readonly<Record<string, string>> = {
  // MariaDB's latin1 is cp1252, not ISO-8859-1.
  latin1: 'windows-1252',
  cp1250: 'windows-1250',
  cp1251: 'windows-1251',
  cp1256: 'windows-1256',
  cp1257: 'windows-1257',
  latin2: 'iso-8859-2',
  greek: 'iso-8859-7',
  hebrew: 'iso-8859-8',
  latin5: 'iso-8859-9',
  latin7: 'iso-8859-13',
  koi8r: 'koi8-r',
  koi8u: 'koi8-u',
  cp866: 'ibm866',
  macroman: 'macintosh',
  sjis: 'shift_jis',
  cp932: 'shift_jis',
  ujis: 'euc-jp',
  eucjpms: 'euc-jp',
  euckr: 'euc-kr',
  gbk: 'gbk',
  gb2312: 'gbk',
  big5: 'big5',
  utf16: 'utf-16be',
  ucs2: 'utf-16be',
  utf16le: 'utf-16le',
  tis620: 'windows-874',
};

/** Turns `buf[start, end)` into a string. */
export type StringDecoderFn = (buf: Buffer, start: number, end: number) => string;

const utf8: StringDecoderFn = (buf, start, end) => buf.toString('utf8', start, end);

function utf32(buf: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i + 4 <= end; i += 4) s += String.fromCodePoint(buf.readUInt32BE(i));
  return s;
}

const cache = new Map<string, StringDecoderFn | null>();

/**
 * How to decode a column of this collation as text; null means "keep the bytes" (binary
 * collation, or a character set without a faithful decoder).
 */
export function stringDecoderFor(collationId: number): StringDecoderFn | null {
  const cs = charsetOfCollation(collationId);
  if (cs === undefined || cs === 'binary') return null;
  if (cs === 'utf8mb4' || cs === 'utf8mb3' || cs === 'ascii') return utf8;
  if (cs === 'utf32') return utf32;
  const hit = cache.get(cs);
  if (hit !== undefined) return hit;
  const label = WHATWG[cs];
  let fn: StringDecoderFn | null = null;
  if (label !== undefined) {
    try {
      const td = new TextDecoder(label);
      fn = (buf, start, end) => td.decode(buf.subarray(start, end));
    } catch {
      fn = null;
    }
  }
  cache.set(cs, fn);
  return fn;
}
