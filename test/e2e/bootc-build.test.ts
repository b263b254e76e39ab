import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { setAttribute } from 'fs-xattr';
import { readTar } from '../../src/tar/reader.js';
import { runCli } from '../helpers/cli.js';

/**
 * The last stage of a bootc build, as chunkah's users run it (issue 15, point 2): a root
 * filesystem with an ostree repo hardlinked to /usr, rechunked with --prune /sysroot/, the
 * config of `podman inspect`, and the bootc labels set and removed.
 */
const INSPECT = JSON.stringify([
  {
    Id: 'f'.repeat(64),
    Architecture: 'amd64',
    Os: 'linux',
    Created: '2025-03-03T03:03:03Z',
    Config: {
      Env: ['PATH=/usr/bin', 'container=oci'],
      Cmd: ['/sbin/init'],
      Labels: { 'ostree.commit': 'abc', 'org.example': 'kept' },
    },
    Annotations: { 'org.example.note': 'from-inspect' },
  },
]);

interface OutConfig {
  created: string;
  history: { created: string }[];
  config: { Env: string[]; Cmd: string[]; Labels: Record<string, string> };
}
interface OutManifest {
  config: { digest: string };
  layers: { digest: string }[];
  annotations: Record<string, string>;
}
interface Index {
  manifests: { digest: string }[];
}

describe('rechunk rootfs: as a bootc build stage', () => {
  let dir: string;
  let selinux = false;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-bootc-'));
    const root = path.join(dir, 'root');
    await fs.mkdir(path.join(root, 'usr/bin'), { recursive: true });
    await fs.mkdir(path.join(root, 'sysroot/ostree/repo/objects/ab'), { recursive: true });
    await fs.mkdir(path.join(root, 'etc'), { recursive: true });
    await fs.writeFile(path.join(root, 'usr/bin/tool'), 'tool binary\n');
    await fs.link(path.join(root, 'usr/bin/tool'), path.join(root, 'sysroot/ostree/repo/objects/ab/cdef.file'));
    await fs.writeFile(path.join(root, 'etc/os-release'), 'ID=test\n');
    try {
      await setAttribute(
        path.join(root, 'etc/os-release'),
        'security.selinux',
        Buffer.from('system_u:object_r:etc_t:s0\0'),
      );
      selinux = true;
    } catch {
      // a filesystem without security.* xattrs: that part of the check is skipped
    }
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function layers(
    layout: string,
  ): Promise<{ paths: string[]; xattrs: string[]; config: OutConfig; manifest: OutManifest }> {
    const index = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as Index;
    const blob = (d: string) => fs.readFile(path.join(layout, 'blobs/sha256', d.slice(7)));
    const manifest = JSON.parse((await blob(index.manifests[0]!.digest)).toString()) as OutManifest;
    const config = JSON.parse((await blob(manifest.config.digest)).toString()) as OutConfig;
    const paths: string[] = [];
    const xattrs: string[] = [];
    for (const l of manifest.layers as { digest: string }[]) {
      for await (const item of readTar(Readable.from([zlib.gunzipSync(await blob(l.digest))]))) {
        paths.push(`${item.entry.type === 'hardlink' ? 'L ' : ''}${item.entry.path}`);
        for (const k of item.entry.xattrs.keys()) xattrs.push(`${item.entry.path} ${k}`);
      }
    }
    return { paths: paths.sort(), xattrs, config, manifest };
  }

  it('--prune /sysroot/ --config-str "$(podman inspect)" --label containers.bootc=1 --label ostree.commit-', async () => {
    const out = path.join(dir, 'out');
    const r = await runCli(
      [
        'rechunk',
        `rootfs:${path.join(dir, 'root')}`,
        `oci:${out}:t`,
        '--quiet',
        '--json',
        '--prune',
        '/sysroot/',
        '--config-str',
        INSPECT,
        '--label',
        'containers.bootc=1',
        '--label',
        'ostree.commit-',
        '--annotation',
        'a.b=c',
      ],
      { SOURCE_DATE_EPOCH: '1700000000' },
    );
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const { paths, xattrs, config, manifest } = await layers(out);
    assert.deepEqual(
      paths.filter((p) => p.includes('sysroot')),
      ['sysroot'],
      'the directory stays, nothing under it',
    );
    assert.ok(
      paths.includes('usr/bin/tool') && !paths.some((p) => p.startsWith('L ')),
      'the hardlink set lost its other name: a plain file',
    );
    assert.deepEqual(config.config.Env, ['PATH=/usr/bin', 'container=oci']);
    assert.deepEqual(config.config.Cmd, ['/sbin/init']);
    assert.equal(config.config.Labels['containers.bootc'], '1');
    assert.equal(config.config.Labels['org.example'], 'kept');
    assert.equal(config.config.Labels['ostree.commit'], undefined);
    assert.equal(config.created, '2023-11-14T22:13:20Z', 'SOURCE_DATE_EPOCH is the created time');
    assert.ok(config.history.every((h) => h.created === '2023-11-14T22:13:20Z'));
    assert.equal(manifest.annotations['a.b'], 'c');
    assert.equal(manifest.annotations['org.example.note'], 'from-inspect');
    if (selinux)
      assert.deepEqual(
        xattrs.filter((x) => x.includes('selinux')),
        [],
        'security.selinux left out by default',
      );
    const result = JSON.parse(r.stdout) as { edits: { pruned: number; hostXattrFiles: number } };
    assert.equal(result.edits.pruned, 5, 'ostree, repo, objects, ab, cdef.file');
    if (selinux) assert.equal(result.edits.hostXattrFiles, 1);
  });

  it('without --prune: ostree.commit stays while the repo is there, and the duplicate /sysroot/ostree is a warning', async () => {
    const out = path.join(dir, 'out2');
    const r = await runCli([
      'rechunk',
      `rootfs:${path.join(dir, 'root')}`,
      `oci:${out}:t`,
      '--json',
      '--config-str',
      INSPECT,
      '--keep-host-xattrs',
    ]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const { paths, xattrs, config } = await layers(out);
    assert.ok(paths.includes('L sysroot/ostree/repo/objects/ab/cdef.file') || paths.includes('L usr/bin/tool'));
    assert.equal(config.config.Labels['ostree.commit'], 'abc');
    assert.match(
      (JSON.parse(r.stdout) as { warnings: string[] }).warnings.join('\n'),
      /\/sysroot\/ostree holds \d+ entries/,
    );
    if (selinux)
      assert.deepEqual(
        xattrs.filter((x) => x.includes('selinux')),
        ['etc/os-release security.selinux'],
      );
  });

  it('flag mistakes are USAGE errors before any work', async () => {
    for (const bad of [
      ['--prune', 'sysroot'],
      ['--label', 'nokey'],
      ['--config-str', '{oops'],
    ]) {
      const r = await runCli([
        'rechunk',
        `rootfs:${path.join(dir, 'root')}`,
        `oci:${path.join(dir, 'never')}:t`,
        ...bad,
      ]);
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /\[USAGE\]/);
    }
    await assert.rejects(fs.access(path.join(dir, 'never')));
  });
});
