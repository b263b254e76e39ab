import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import os from 'node:os';
import { sha256 } from '../../src/oci/digest.js';
import { MediaType, type Descriptor, type ImageConfig, type Manifest } from '../../src/oci/types.js';
import { OciLayout } from '../../src/layout/oci-layout.js';
import { COMPONENTS_ANNOTATION } from '../../src/plan/recorded-plan.js';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, corpusSuite } from '../helpers/corpus.js';
import { makeImage, readJson, tarBytes } from '../helpers/make-image.js';
import { newEntry } from '../../src/tar/entry.js';

/**
 * A rebuild onto a destination that holds the previous build takes the layers whose tar is
 * unchanged from it instead of compressing them again, and the image it writes is byte for byte
 * the one a full build writes.
 */
interface Result {
  manifestDigest: string;
  layers: { digest: string; reused: boolean; components: string[] }[];
}

async function rechunk(args: string[]): Promise<Result> {
  const r = await runCli(['rechunk', ...args, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Result;
}

describe('layer reuse on rebuild', () => {
  const suite = corpusSuite('rechunker-reuse-');

  it('reuses unchanged layers from the destination and writes the same image as a full build', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const src = (tag: string) => `oci:${corpusLayout()}:${tag}`;
    const onto = path.join(suite.out, 'onto');
    const fresh = path.join(suite.out, 'fresh');
    const base = await rechunk([src('base'), `oci:${onto}:base`]);
    assert.equal(base.layers.filter((l) => l.reused).length, 0, 'nothing to reuse on a first build');

    // The usual pipeline: the destination holds the previous build (prior taken from it).
    const rebuilt = await rechunk([src('updated'), `oci:${onto}:updated`, '--prior', `oci:${onto}:base`]);
    // The same build into an empty layout: every layer compressed.
    const full = await rechunk([src('updated'), `oci:${fresh}:updated`, '--prior', `oci:${onto}:base`]);
    assert.equal(full.layers.filter((l) => l.reused).length, 0, 'an empty destination holds nothing to reuse');
    assert.equal(rebuilt.manifestDigest, full.manifestDigest, 'byte-identical to a full build');

    const reused = rebuilt.layers.filter((l) => l.reused);
    const baseDigests = new Set(base.layers.map((l) => l.digest));
    assert.ok(reused.length >= base.layers.length / 2, `${reused.length} of ${rebuilt.layers.length} layers reused`);
    for (const l of reused)
      assert.ok(baseDigests.has(l.digest), `${l.components.join(',')}: a reused layer is the prior's blob`);
    // A changed layer is never taken from the prior.
    for (const l of rebuilt.layers.filter((x) => !baseDigests.has(x.digest))) assert.equal(l.reused, false);
    // The same input again reuses every component layer.
    const again = await rechunk([src('updated'), `oci:${onto}:updated2`, '--prior', `oci:${onto}:updated`]);
    assert.equal(again.manifestDigest, rebuilt.manifestDigest);
    assert.ok(again.layers.filter((l) => l.reused).length >= again.layers.length - 1, 'all but the directory layer');
    await fs.rm(fresh, { recursive: true, force: true });
  });

  it('compresses again when the compression level differs from the prior build', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const src = (tag: string) => `oci:${corpusLayout()}:${tag}`;
    const onto = path.join(suite.out, 'level');
    await rechunk([src('base'), `oci:${onto}:base`]);
    const other = await rechunk([
      src('base'),
      `oci:${onto}:base1`,
      '--prior',
      `oci:${onto}:base`,
      '--compression-level',
      '1',
    ]);
    assert.equal(
      other.layers.filter((l) => l.reused).length,
      0,
      'a blob of another level is not what this build writes',
    );
  });

  it('takes no blob on the word of a prior from outside the destination', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-reuse-trust-'));
    try {
      const tree = (hostname: string) =>
        tarBytes([
          { entry: newEntry('etc', 'dir') },
          { entry: newEntry('etc/hostname', 'file', { size: hostname.length }), body: Buffer.from(hostname) },
        ]);
      const [src, other, dest, scratch, forged] = ['src', 'other', 'dest', 'scratch', 'forged'].map((d) =>
        path.join(tmp, d),
      );
      await makeImage(src!, 't', [await tree('box\n')]);
      await makeImage(other!, 't', [await tree('PWNED\n')]);
      // The destination holds another image's layers; a full build of src says what it must get.
      await rechunk([`oci:${other}:t`, `oci:${dest}:other`]);
      const full = await rechunk([`oci:${src}:t`, `oci:${scratch}:t`]);
      // A prior elsewhere: src's own build, with each layer's descriptor and diff_id swapped for
      // those of the destination's layer of the same components.
      const read = async (dir: string, tag: string) => {
        const layout = new OciLayout(dir);
        const desc = (await layout.readIndex()).manifests.find(
          (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
        )!;
        const manifest = await readJson<Manifest>(layout.blobPath(desc.digest));
        const config = await readJson<ImageConfig>(layout.blobPath(manifest.config.digest));
        return { manifest, config };
      };
      const mine = await read(scratch!, 't');
      const theirs = await read(dest!, 'other');
      let swapped = 0;
      mine.manifest.layers.forEach((l: Descriptor, i) => {
        const j = theirs.manifest.layers.findIndex(
          (x) => x.annotations?.[COMPONENTS_ANNOTATION] === l.annotations?.[COMPONENTS_ANNOTATION],
        );
        if (j < 0) return;
        mine.manifest.layers[i] = {
          ...l,
          digest: theirs.manifest.layers[j]!.digest,
          size: theirs.manifest.layers[j]!.size,
        };
        mine.config.rootfs.diff_ids[i] = theirs.config.rootfs.diff_ids[j]!;
        swapped++;
      });
      assert.ok(swapped > 0, 'the forged prior names blobs the destination holds');
      const layout = new OciLayout(forged!);
      const configBytes = Buffer.from(JSON.stringify(mine.config));
      await layout.writeBlobBytes(configBytes, sha256(configBytes));
      mine.manifest.config = { ...mine.manifest.config, digest: sha256(configBytes), size: configBytes.length };
      const manifestBytes = Buffer.from(JSON.stringify(mine.manifest));
      await layout.writeBlobBytes(manifestBytes, sha256(manifestBytes));
      const manifest = { mediaType: MediaType.OciManifest, digest: sha256(manifestBytes), size: manifestBytes.length };
      await layout.setManifest(manifest, 'v1');

      const built = await rechunk([`oci:${src}:t`, `oci:${dest}:t`, '--prior', `oci:${forged}:v1`]);
      assert.equal(built.layers.filter((l) => l.reused).length, 0, 'no layer taken from the forged prior');
      assert.equal(built.manifestDigest, full.manifestDigest, 'the image a full build of src writes');
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
});
