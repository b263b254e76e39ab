import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { BLOCK, BlockGzip } from '../../src/compress/block-gzip.js';

/** Compressible but not trivially: words from a small vocabulary, with random bytes mixed in. */
function sample(size: number, seed: number): Buffer {
  const words = ['usr', 'lib', 'share', 'doc', 'changelog', 'x86_64', 'linux', 'gnu', '\n', '/'];
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (x % 17 === 0) out[i] = x >>> 24;
    else {
      const w = words[(x >>> 8) % words.length]!;
      out[i] = w.charCodeAt(i % w.length);
    }
  }
  return out;
}

async function gzipOf(data: Buffer, chunk: number, level = 6): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunk) pieces.push(data.subarray(o, o + chunk));
  return buffer(Readable.from(pieces, { objectMode: false }).pipe(new BlockGzip(level)));
}

const SIZES = [0, 1, 1000, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 12345];

describe('BlockGzip', () => {
  for (const size of SIZES) {
    it(`${size} bytes: Node's gunzip and GNU gzip read back the input`, async () => {
      const data = sample(size, size + 1);
      const gz = await gzipOf(data, 64 * 1024);
      assert.deepEqual(zlib.gunzipSync(gz), data);
      const gnu = spawnSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 * 1024 * 1024 });
      assert.equal(gnu.status, 0, gnu.stderr.toString());
      assert.equal(
        createHash('sha256').update(gnu.stdout).digest('hex'),
        createHash('sha256').update(data).digest('hex'),
      );
    });
  }

  it('incompressible input round-trips (blocks larger than their output chunk)', async () => {
    const data = randomBytes(2 * BLOCK + 7);
    assert.deepEqual(zlib.gunzipSync(await gzipOf(data, 100_000)), data);
  });

  it('the bytes depend on the input and level only, not on how it is written', async () => {
    const data = sample(2 * BLOCK + 999, 7);
    const a = await gzipOf(data, 1 << 20);
    const b = await gzipOf(data, 4093);
    assert.deepEqual(a, b);
    assert.notDeepEqual(await gzipOf(data, 4093, 1), a);
  });

  it('many streams at once (more blocks than the shared limit) each read back whole', async () => {
    const inputs = Array.from({ length: 6 }, (_, i) => sample(BLOCK * 2 + i * 1000, i));
    const outputs = await Promise.all(inputs.map((d) => gzipOf(d, 200_000)));
    outputs.forEach((gz, i) => assert.deepEqual(zlib.gunzipSync(gz), inputs[i]));
  });

  it('compresses real text about as well as one zlib stream at the same level', async () => {
    // This repository's sources, some 1.4 MB: blocks lose only matches across their edges.
    const files: string[] = [];
    for (const dir of ['src', 'test', 'bench'])
      for (const f of await fs.readdir(dir, { recursive: true })) if (f.endsWith('.ts')) files.push(path.join(dir, f));
    const data = Buffer.concat(await Promise.all(files.sort().map((f) => fs.readFile(f))));
    assert.ok(data.length > 2 * BLOCK, `${data.length} bytes of sources`);
    const ours = (await gzipOf(data, 1 << 20)).length;
    const zlibs = zlib.gzipSync(data, { level: 6 }).length;
    assert.ok(ours < zlibs * 1.02, `${ours} bytes against zlib's ${zlibs}`);
  });
});
