import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { newEntry } from '../../src/tar/entry.js';
import { writeTar, type TarWriteItem } from '../../src/tar/writer.js';
import { collect, makeTar, readAll } from '../helpers/make-tar.js';

async function* chunks(...parts: Buffer[]): AsyncGenerator<Buffer> {
  yield* parts;
}
const badTar = (re: RegExp) => (e: unknown) =>
  e instanceof RechunkerError && e.code === 'BAD_TAR' && re.test(e.message);

describe('writeTar', () => {
  it('ends with exactly two zero blocks and no blocking-factor padding', async () => {
    const tar = await makeTar([{ path: 'a', body: 'x' }]);
    assert.equal(tar.length, 512 + 512 + 1024);
    assert.deepEqual(tar.subarray(1024), Buffer.alloc(1024));
    assert.deepEqual(await collect(writeTar([])), Buffer.alloc(1024));
  });

  it('is deterministic: same entries, same bytes, whatever the xattr insertion order', async () => {
    const a = newEntry('f', 'file', {
      xattrs: new Map([
        ['user.b', Buffer.from('2')],
        ['security.capability', Buffer.from([1])],
      ]),
    });
    const b = newEntry('f', 'file', {
      xattrs: new Map([
        ['security.capability', Buffer.from([1])],
        ['user.b', Buffer.from('2')],
      ]),
    });
    assert.deepEqual(await collect(writeTar([{ entry: a }])), await collect(writeTar([{ entry: b }])));
  });

  it('accepts bodies as a Buffer or as chunks, sync or async item sources', async () => {
    const body = Buffer.alloc(100000, 3);
    const items = (): TarWriteItem[] => [
      { entry: newEntry('one', 'file', { size: body.length }), body },
      {
        entry: newEntry('many', 'file', { size: body.length }),
        body: chunks(body.subarray(0, 10), body.subarray(10, 50000), body.subarray(50000)),
      },
    ];
    async function* asyncItems() {
      yield* items();
    }
    const fromSync = await collect(writeTar(items()));
    assert.deepEqual(await collect(writeTar(asyncItems())), fromSync);
    const got = await readAll(fromSync);
    assert.deepEqual(
      got.map((g) => g.body),
      [body, body],
    );
  });

  it('checks the body length against entry.size', async () => {
    const e = (size: number) => newEntry('f', 'file', { size });
    await assert.rejects(
      collect(writeTar([{ entry: e(5), body: Buffer.from('abcd') }])),
      badTar(/body of "f" is 4 bytes, but its entry says 5/),
    );
    await assert.rejects(
      collect(writeTar([{ entry: e(3), body: Buffer.from('abcd') }])),
      badTar(/body of "f" is 4 bytes/),
    );
    await assert.rejects(
      collect(writeTar([{ entry: e(3), body: chunks(Buffer.from('ab'), Buffer.from('cd')) }])),
      badTar(/more than 3 bytes/),
    );
    await assert.rejects(collect(writeTar([{ entry: e(5), body: chunks(Buffer.from('ab')) }])), badTar(/is 2 bytes/));
    await assert.rejects(collect(writeTar([{ entry: e(5) }])), badTar(/is 0 bytes/));
  });

  it('refuses entries our own code should never produce', async () => {
    const bad = [
      newEntry('./a', 'file'),
      newEntry('a/', 'dir'),
      newEntry('../a', 'file'),
      newEntry('d', 'dir', { size: 5 }),
      newEntry('h', 'hardlink', { linkname: '/abs' }),
      newEntry('h', 'hardlink', { linkname: '' }),
      newEntry('f', 'file', { linkname: 'x' }),
      newEntry('f', 'file', { uid: -1 }),
      newEntry('f', 'file', { mtimeNsec: 1e9 }),
      newEntry('f', 'file', { mode: 0o100644 }),
      newEntry('caf\u00e9\u20ac', 'file'),
      newEntry('f', 'file', { xattrs: new Map([['user.a=b', Buffer.alloc(0)]]) }),
    ];
    for (const entry of bad) await assert.rejects(collect(writeTar([{ entry }])), Error, entry.path);
  });

  it('batches small entries into few buffers and passes big bodies through uncopied', async () => {
    const items: TarWriteItem[] = [];
    for (let i = 0; i < 1000; i++)
      items.push({ entry: newEntry(`f${i}`, 'file', { size: 10 }), body: Buffer.alloc(10) });
    const big = Buffer.alloc(1 << 20, 1);
    items.push({ entry: newEntry('big', 'file', { size: big.length }), body: big });
    const out: Buffer[] = [];
    for await (const b of writeTar(items)) out.push(b);
    assert.ok(out.length <= 20, `${out.length} buffers`);
    assert.ok(out.every((b) => b.length <= 1 << 20));
    assert.ok(out.includes(big), 'the big body is yielded as is');
    assert.equal((await readAll(Buffer.concat(out))).length, 1001);
  });

  it('copies small chunks, so a source may reuse its buffer', async () => {
    const scratch = Buffer.alloc(4);
    async function* reusing() {
      for (const s of ['abcd', 'efgh', 'ijkl']) {
        scratch.write(s);
        yield scratch;
      }
    }
    const tar = await collect(writeTar([{ entry: newEntry('f', 'file', { size: 12 }), body: reusing() }]));
    assert.equal((await readAll(tar))[0]!.body.toString(), 'abcdefghijkl');
  });
});
