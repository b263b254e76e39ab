// OciLayout.writeBlob hashes a blob once: a source stream that verifies itself against the same
// descriptor is trusted to fail instead of ending when its bytes are wrong; any other stream,
// including one that verifies itself against a different descriptor, is hashed on the way in.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { sha256, verifiesItself, VerifyStream } from '../../src/oci/digest.js';
import { OciLayout } from '../../src/layout/oci-layout.js';

function verified(data: Buffer, desc: { digest: string; size: number }): Readable {
  return Readable.from([data.subarray(0, 1000), data.subarray(1000)]).pipe(
    new VerifyStream(desc.digest, desc.size, 'test blob'),
  );
}

describe('OciLayout.writeBlob', () => {
  let dir: string;
  let layout: OciLayout;
  const good = Buffer.alloc(50_000, 3);
  const desc = { digest: sha256(good), size: good.length };
  const bad = Buffer.from(good).fill(9, 0, 10);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rechunker-layout-write-'));
    layout = new OciLayout(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores a self-verifying stream of the right bytes', async () => {
    const source = verified(good, desc);
    assert.ok(verifiesItself(source, desc));
    assert.deepEqual(await layout.writeBlob(source, desc), desc);
    assert.ok((await readFile(layout.blobPath(desc.digest))).equals(good));
    await rm(layout.blobPath(desc.digest));
  });

  it('leaves nothing when a self-verifying stream turns out wrong', async () => {
    await assert.rejects(
      layout.writeBlob(verified(bad, desc), desc),
      (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH',
    );
    assert.equal(await layout.hasBlob(desc.digest), false);
    assert.deepEqual(await readdir(path.join(dir, 'blobs', 'sha256')), []);
  });

  it('hashes a stream that verifies itself against another descriptor', async () => {
    const other = { digest: sha256(bad), size: bad.length };
    const source = verified(bad, other);
    assert.equal(verifiesItself(source, desc), false);
    await assert.rejects(
      layout.writeBlob(source, desc),
      (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH',
    );
    assert.equal(await layout.hasBlob(desc.digest), false);
    assert.deepEqual(await readdir(path.join(dir, 'blobs', 'sha256')), []);
  });

  it('hashes a plain stream', async () => {
    await assert.rejects(
      layout.writeBlob(Readable.from([bad]), desc),
      (e: unknown) => e instanceof RechunkerError && e.code === 'DIGEST_MISMATCH',
    );
    await assert.rejects(
      layout.writeBlob(Readable.from([good.subarray(1)]), desc),
      (e: unknown) => e instanceof RechunkerError && e.code === 'SIZE_MISMATCH',
    );
    assert.deepEqual(await layout.writeBlob(Readable.from([good]), desc), desc);
  });
});
