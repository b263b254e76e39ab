import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSample } from '../../examples/make-sample.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { Podman } from '../helpers/podman.js';
import { compareTrees, formatDifferences } from '../helpers/tree-compare.js';
import { snapshotTree } from '../helpers/tree-snapshot.js';
import { has, umociUnpack } from '../helpers/tools.js';

/**
 * The Quick start's image. Its truth is what umoci (OCI semantics: layers applied into one tree,
 * implied directories keep their metadata) unpacks from the *original*; podman's view of the
 * rechunked image must equal it, although podman's view of the original does not.
 */
const sample = path.join(repoRoot, 'examples', 'sample');

describe('the sample image', () => {
  let tmp: string;
  let podman: Podman | undefined;
  let skip: string | undefined;
  before(async () => {
    tmp = `/var/tmp/rechunker-sample-${process.pid}-${Date.now().toString(36)}`;
    await fs.mkdir(tmp, { recursive: true });
    if (process.getuid?.() !== 0) skip = 'needs root for podman and umoci';
    else if (!(await has('podman')) || !(await has('umoci')) || !(await has('getfattr')))
      skip = 'needs podman, umoci and getfattr';
    else podman = await Podman.create();
  });
  after(async () => {
    await podman?.cleanup();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('plan --paths names every path once, under its component', async () => {
    const r = await runCli(['plan', `oci:${sample}:latest`, '--paths', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => l.split('\t'));
    const paths = rows.map(([, p]) => p);
    assert.equal(new Set(paths).size, paths.length, 'no path twice');
    assert.ok(
      rows.some(([c, p]) => c === 'pkgdb' && p === 'var/lib/dpkg/status'),
      r.stdout,
    );
    const json = JSON.parse((await runCli(['plan', `oci:${sample}:latest`, '--paths', '--json'])).stdout) as {
      components: { name: string; paths: string[] }[];
    };
    assert.deepEqual(
      json.components.flatMap((c) => c.paths.map((p) => `${c.name}\t${p}`)).sort(),
      rows.map((x) => x.join('\t')).sort(),
    );
  });

  it('is what examples/make-sample.ts writes, byte for byte', async () => {
    const digest = await makeSample(path.join(tmp, 'regenerated'));
    const index = JSON.parse(await fs.readFile(path.join(sample, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[];
    };
    assert.equal(index.manifests[0]!.digest, digest, 'regenerate with: node --import tsx examples/make-sample.ts');
  });

  it('rechunked, shows under podman exactly what umoci unpacks from the original', async (t) => {
    if (skip) return t.skip(skip);
    const out = path.join(tmp, 'out');
    const r = await runCli(['rechunk', `oci:${sample}:latest`, `oci:${out}:latest`, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const truth = await snapshotTree(await umociUnpack(sample, 'latest', path.join(tmp, 'bundle')));

    const original = await snapshotTree(await podman!.mount(await podman!.pull(`oci:${sample}:latest`)));
    const shadowed = compareTrees(truth, original);
    assert.ok(
      shadowed.some((d) => d.path === 'usr/bin'),
      `podman shadows usr/bin in the original:\n${formatDifferences(shadowed)}`,
    );
    assert.ok(
      shadowed.every((d) => d.type === 'dir'),
      `only directories are shadowed:\n${formatDifferences(shadowed)}`,
    );

    const rechunked = await snapshotTree(await podman!.mount(await podman!.pull(`oci:${out}:latest`)));
    const diffs = compareTrees(truth, rechunked);
    assert.equal(diffs.length, 0, formatDifferences(diffs));
    assert.equal(
      rechunked.get('usr/bin/ping')?.xattrs.get('security.capability'),
      '0100000200200000000000000000000000000000',
    );
    assert.ok(rechunked.get('var/log/journal')?.xattrs.has('system.posix_acl_access'));
    assert.equal(rechunked.get('usr/share/doc/hello/old.txt'), undefined, 'whiteout honoured');
    assert.equal(rechunked.get('etc/skel/.bashrc'), undefined, 'opaque directory honoured');
    assert.deepEqual(rechunked.get('usr/bin/hello')?.hardlinks, ['usr/bin/hello', 'usr/bin/hello-again']);
  });
});
