/**
 * Tar archives for tests, built in memory. Two halves:
 * - `makeTar` / `readAll`: well-formed archives through OUR writer and reader;
 * - `rawHeader` and friends: hand-crafted blocks (GNU long names, base-256 numbers, bad
 *   checksums, hostile paths, sparse types) written here independently of src/tar/header.ts, so
 *   reader tests do not depend on the encoder they would otherwise share bugs with.
 * All names are latin1 byte strings, like TarEntry's.
 */
import { newEntry, type EntryType, type TarEntry } from '../../src/tar/entry.js';
import { readTar, type ReadTarOptions } from '../../src/tar/reader.js';
import { writeTar, type TarWriteItem } from '../../src/tar/writer.js';

export interface EntrySpec extends Partial<Omit<TarEntry, 'xattrs'>> {
  path: string;
  type?: EntryType;
  /** A string body is UTF-8; size defaults to the body's length. */
  body?: Buffer | string;
  xattrs?: Map<string, Buffer> | Record<string, Buffer | string>;
}

export function writeItem(spec: EntrySpec): TarWriteItem {
  const { body, xattrs, type, ...rest } = spec;
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const map =
    xattrs instanceof Map
      ? xattrs
      : new Map(Object.entries(xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v)] as const));
  const entry = newEntry(spec.path, type ?? 'file', { ...rest, size: spec.size ?? bytes?.length ?? 0, xattrs: map });
  return bytes === undefined ? { entry } : { entry, body: bytes };
}

export async function collect(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/** A whole archive written by our writer. */
export async function makeTar(items: Array<EntrySpec | TarWriteItem>): Promise<Buffer> {
  return collect(writeTar(items.map((i) => ('entry' in i ? i : writeItem(i)))));
}

/** Cut a buffer into chunks of `size` bytes (the last may be shorter), to test chunk boundaries. */
export function chunked(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

export interface ReadEntry {
  entry: TarEntry;
  body: Buffer;
}

/** Read every entry and body with our reader, feeding it `chunkSize`-byte chunks. */
export async function readAll(
  archive: Buffer,
  opts: ReadTarOptions & { chunkSize?: number } = {},
): Promise<ReadEntry[]> {
  const out: ReadEntry[] = [];
  const source = opts.chunkSize ? chunked(archive, opts.chunkSize) : [archive];
  for await (const { entry, body } of readTar(source, opts)) out.push({ entry, body: await collect(body) });
  return out;
}

// ---- Hand-crafted blocks -------------------------------------------------------------------

/**
 * A numeric field: a number or bigint is written as zero-padded octal + NUL; `base256` as GNU's
 * binary form (0x80 + big-endian, or two's complement for negatives); `raw` byte for byte.
 */
export type NumField = number | bigint | { base256: bigint } | { raw: string };

export interface RawSpec {
  name: string;
  typeflag?: string;
  mode?: NumField;
  uid?: NumField;
  gid?: NumField;
  size?: NumField;
  mtime?: NumField;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: NumField;
  devminor?: NumField;
  prefix?: string;
  /** 'ustar' = "ustar\0" "00"; 'gnu' = "ustar  \0"; 'v7' = no magic at all. */
  magic?: 'ustar' | 'gnu' | 'v7';
  /** 'signed' = the historic signed-char sum; 'bad' = off by one. */
  checksum?: 'unsigned' | 'signed' | 'bad';
  /** Bytes to write at an offset after the fields, before the checksum (e.g. GNU atime area). */
  poke?: { offset: number; bytes: Buffer };
}

export function rawHeader(spec: RawSpec): Buffer {
  const b = Buffer.alloc(512);
  const str = (off: number, len: number, s: string | undefined) => {
    if (s === undefined) return;
    if (s.length > len) throw new Error(`make-tar: "${s}" longer than ${len}`);
    b.write(s, off, 'latin1');
  };
  const num = (off: number, len: number, v: NumField | undefined) => {
    if (v === undefined) return;
    if (typeof v === 'object' && 'raw' in v) b.write(v.raw, off, 'latin1');
    else if (typeof v === 'object') base256(v.base256).copy(b, off);
    else
      b.write(
        BigInt(v)
          .toString(8)
          .padStart(len - 1, '0'),
        off,
        'latin1',
      );
    function base256(x: bigint): Buffer {
      const out = Buffer.alloc(len);
      let u = x < 0n ? (1n << BigInt(8 * len)) + x : x;
      for (let i = len - 1; i >= 0; i--, u >>= 8n) out[i] = Number(u & 0xffn);
      if (x >= 0n) out[0] |= 0x80;
      return out;
    }
  };
  str(0, 100, spec.name);
  num(100, 8, spec.mode ?? 0o644);
  num(108, 8, spec.uid ?? 0);
  num(116, 8, spec.gid ?? 0);
  num(124, 12, spec.size ?? 0);
  num(136, 12, spec.mtime ?? 0);
  str(156, 1, spec.typeflag ?? '0');
  str(157, 100, spec.linkname);
  const magic = spec.magic ?? 'ustar';
  if (magic === 'ustar') b.write('ustar\x0000', 257, 'latin1');
  if (magic === 'gnu') b.write('ustar  \x00', 257, 'latin1');
  str(265, 32, spec.uname);
  str(297, 32, spec.gname);
  num(329, 8, spec.devmajor);
  num(337, 8, spec.devminor);
  str(345, 155, spec.prefix);
  if (spec.poke) spec.poke.bytes.copy(b, spec.poke.offset);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += spec.checksum === 'signed' && byte > 127 ? byte - 256 : byte;
  if (spec.checksum === 'bad') sum += 1;
  b.write((sum < 0 ? '-' : '') + Math.abs(sum).toString(8).padStart(6, '0') + '\0', 148, 'latin1');
  return b;
}

/** Header plus body plus padding; size defaults to the body's length. */
export function rawEntry(spec: RawSpec, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = rawHeader({ size: body.length, ...spec });
  return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
}

/** PAX records, formatted here by hand ("%d %s=%s\n", the length counting itself). */
export function paxRecords(records: Array<[string, string | Buffer]>): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const value = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
      const rest = Buffer.byteLength(k, 'latin1') + value.length + 3;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${k}=`, 'latin1'), value, Buffer.from('\n')]);
    }),
  );
}

/** A PAX extended header ('x', or 'g' when global) and its records. */
export function paxEntry(
  records: Array<[string, string | Buffer]>,
  opts: { global?: boolean; name?: string } = {},
): Buffer {
  return rawEntry({ name: opts.name ?? 'PaxHeaders/x', typeflag: opts.global ? 'g' : 'x' }, paxRecords(records));
}

/** A GNU long name ('L') or long link name ('K') record, as GNU tar writes it. */
export function gnuLongEntry(kind: 'L' | 'K', value: string): Buffer {
  return rawEntry({ name: '././@LongLink', typeflag: kind, magic: 'gnu' }, Buffer.from(value + '\0', 'latin1'));
}

/** The end-of-archive marker: two zero blocks. */
export const END = Buffer.alloc(1024);
