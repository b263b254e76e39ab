import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { decompressor, sniffCompression } from '../../src/compress/codec.js';

const data = Buffer.from('a tar would be here\n'.repeat(100));

/** A zstd skippable frame (RFC 8878 3.1.2): magic 0x184D2A5?, a 4-byte length, that many bytes. */
function skippable(nibble: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x184d2a50 + nibble, 0);
  head.writeUInt32LE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

test('compression is told by the first bytes, a zstd stream that starts with a skippable frame included', async () => {
  const cases: [Buffer, string][] = [
    [zlib.gzipSync(data), 'gzip'],
    [zstdCompress(data), 'zstd'],
    [Buffer.concat([skippable(0, Buffer.from('meta')), zstdCompress(data)]), 'zstd'],
    [Buffer.concat([skippable(15, Buffer.alloc(0)), zstdCompress(data)]), 'zstd'],
    [data, 'none'],
  ];
  for (const [bytes, kind] of cases) {
    assert.equal(sniffCompression(bytes.subarray(0, 16)), kind);
    const out = await buffer(Readable.from([bytes]).pipe(decompressor(sniffCompression(bytes))));
    assert.ok(out.equals(data), `${kind} reads back`);
  }
  // 0x184D2A4F and 0x184D2A60 are not skippable frames.
  for (const magic of [0x184d2a4f, 0x184d2a60]) {
    const b = Buffer.alloc(8);
    b.writeUInt32LE(magic, 0);
    assert.equal(sniffCompression(b), 'none');
  }
});
