import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/types.js';
import { OciLayout } from '../../src/layout/oci-layout.js';
import { newEntry, type TarEntry } from '../../src/tar/entry.js';
import type { TarWriteItem } from '../../src/tar/writer.js';
import { runCli } from '../helpers/cli.js';
import { imageTree } from '../helpers/image-tree.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';

/** Inputs real registries serve beyond the corpus's gzip OCI images, each flattened before and after. */
let tmp: string;
before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-inputs-'));
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const T = 1_700_000_000;
const f = (p: string, body: string, init: Partial<TarEntry> = {}): TarWriteItem => ({
  entry: newEntry(p, 'file', { size: Buffer.byteLength(body), mtimeSec: T, ...init }),
  body: Buffer.from(body),
});
const d = (p: string, init: Partial<TarEntry> = {}): TarWriteItem => ({
  entry: newEntry(p, 'dir', { mtimeSec: T, ...init }),
});

const layers = async (marker: string) => [
  await tarBytes([
    d('usr'),
    d('usr/bin'),
    f('usr/bin/tool', `tool ${marker}\n`, { mode: 0o755, uid: 3_000_000_000, gid: 70000 }),
    f(`usr/${'long-name-'.repeat(20)}`, 'long\n', { mtimeNsec: 123456789 }),
  ]),
  await tarBytes([
    f('usr/bin/tool', `tool ${marker} v2\n`, { mode: 0o755, mtimeSec: T + 100 }),
    f('etc/late', 'x', { mtimeSec: T + 10_000 }),
  ]),
];

async function sameTree(input: string, output: string, platform?: string): Promise<void> {
  const p = platform ? { os: 'linux', architecture: platform } : undefined;
  const diffs = compareTrees(await imageTree(input, p), await imageTree(output));
  assert.equal(diffs.length, 0, formatDifferences(diffs));
}

async function rechunk(src: string, dst: string, ...flags: string[]): Promise<void> {
  const r = await runCli(['rechunk', src, dst, '--quiet', ...flags]);
  assert.equal(r.code, 0, r.stderr);
}

describe('input variants', () => {
  it('the deepest tree Linux holds goes, and a deeper path is refused in one line', async () => {
    const dir = path.join(tmp, 'deep');
    // 2046 directories and a file: 4095 bytes, PATH_MAX less its NUL.
    const deepest = `${'d/'.repeat(2046)}fil`;
    assert.equal(deepest.length, 4095);
    await makeImage(dir, 'v', [await tarBytes([f(deepest, 'x\n')])]);
    await rechunk(`oci:${dir}:v`, `oci:${dir}:out`);
    assert.equal((await imageTree(`oci:${dir}:out`)).get(deepest)!.sha256, sha256(Buffer.from('x\n')).slice(7));

    // 12,000 levels: no filesystem holds it, and no runtime could unpack it.
    await makeImage(dir, 'too-deep', [await tarBytes([f(`${'d/'.repeat(12_000)}file`, 'x\n')])]);
    const r = await runCli(['rechunk', `oci:${dir}:too-deep`, `oci:${dir}:out2`, '--quiet']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^rechunker: error \[BAD_TAR\]: .*more than Linux's 4095\n$/);
  });

  it('directories the source only implies stay implied, so every unpacker model sees the source', async () => {
    const dir = path.join(tmp, 'implied');
    await makeImage(dir, 'v', [await tarBytes([f('opt/app/lib/deep/file', 'x\n'), d('etc'), f('etc/conf', 'c\n')])]);
    await rechunk(`oci:${dir}:v`, `oci:${dir}:out`);
    const r = await runCli(['verify', `oci:${dir}:v`, `oci:${dir}:out`, '--model', 'all', '--quiet']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = await imageTree(`oci:${dir}:out`);
    assert.equal(out.get('etc')!.mtimeNs, BigInt(T) * 1_000_000_000n, 'a defined directory keeps its metadata');
  });

  it('zstd layers in, gzip out', async () => {
    const dir = path.join(tmp, 'zstd');
    await makeImage(dir, 'v', await layers('z'), { compression: 'zstd' });
    await rechunk(`oci:${dir}:v`, `oci:${dir}:out`);
    await sameTree(`oci:${dir}:v`, `oci:${dir}:out`);
  });

  it('uncompressed layers in, zstd out', async () => {
    const dir = path.join(tmp, 'none');
    await makeImage(dir, 'v', await layers('n'), { compression: 'none' });
    await rechunk(`oci:${dir}:v`, `oci:${dir}:out`, '--compression', 'zstd');
    await sameTree(`oci:${dir}:v`, `oci:${dir}:out`);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const out = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'out')!;
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'blobs', 'sha256', out.digest.slice(7)), 'utf8')) as {
      layers: { mediaType: string }[];
    };
    assert.ok(manifest.layers.every((l) => l.mediaType === MediaType.OciLayerZstd));
  });

  it('Docker schema2 media types', async () => {
    const dir = path.join(tmp, 'docker');
    await makeImage(dir, 'v', await layers('d'), { docker: true });
    await rechunk(`oci:${dir}:v`, `oci:${dir}:out`);
    await sameTree(`oci:${dir}:v`, `oci:${dir}:out`);
  });

  it('a multi-platform index: --platform picks, and a missing platform is named', async () => {
    const dir = path.join(tmp, 'multi');
    const amd = await makeImage(dir, 'amd', await layers('amd64'));
    const arm = await makeImage(dir, 'arm', await layers('arm64'), { config: { architecture: 'arm64' } });
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          { ...amd.manifest, platform: { os: 'linux', architecture: 'amd64' } },
          { ...arm.manifest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        ],
      }),
    );
    const layout = new OciLayout(dir);
    await layout.writeBlobBytes(index, sha256(index));
    await layout.setManifest({ mediaType: MediaType.OciIndex, digest: sha256(index), size: index.length }, 'multi');

    await rechunk(`oci:${dir}:multi`, `oci:${dir}:out-arm`, '--platform', 'linux/arm64');
    await sameTree(`oci:${dir}:arm`, `oci:${dir}:out-arm`);
    const r = await runCli(['rechunk', `oci:${dir}:multi`, `oci:${dir}:out-s390x`, '--platform', 'linux/s390x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^rechunker: error \[PLATFORM\]: .*linux\/s390x.*linux\/amd64, linux\/arm64\/v8/);
  });

  it('SOURCE_DATE_EPOCH clamps later mtimes and keeps earlier ones; other tags survive', async () => {
    const dir = path.join(tmp, 'sde');
    await makeImage(dir, 'v', await layers('s'));
    const r = await runCli(['rechunk', `oci:${dir}:v`, `oci:${dir}:out`, '--quiet'], {
      SOURCE_DATE_EPOCH: String(T + 1000),
    });
    assert.equal(r.code, 0, r.stderr);
    const out = await imageTree(`oci:${dir}:out`);
    assert.equal(out.get('etc/late')!.mtimeNs, BigInt(T + 1000) * 1_000_000_000n, 'clamped');
    assert.equal(out.get('usr/bin/tool')!.mtimeNs, BigInt(T + 100) * 1_000_000_000n, 'earlier kept');
    assert.ok((await imageTree(`oci:${dir}:v`)).size > 0, 'the source tag is still there');
  });
});
