import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { newEntry } from '../../src/tar/entry.js';
import { runCli } from '../helpers/cli.js';
import { makeImage, tarBytes } from '../helpers/make-image.js';
import { has, skopeoInspect } from '../helpers/tools.js';

/** The CLI as skopeo and podman users expect it: help, usage errors, summaries, exit codes. */
let tmp: string;
let image: string;
let other: string;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-cli-eco-'));
  const tar = (body: string) =>
    tarBytes([
      { entry: newEntry('etc', 'dir') },
      { entry: newEntry('etc/hostname', 'file', { size: body.length }), body: Buffer.from(body) },
      { entry: newEntry('etc/link', 'symlink', { linkname: 'hostname' }) },
    ]);
  await makeImage(path.join(tmp, 'src'), 'v1', [await tar('host\n')]);
  await makeImage(path.join(tmp, 'src'), 'v2', [await tar('other\n')]);
  image = `oci:${path.join(tmp, 'src')}:v1`;
  other = `oci:${path.join(tmp, 'src')}:v2`;
});
after(() => fs.rm(tmp, { recursive: true, force: true }));

function usageLine(r: { code: number; stderr: string }, mention: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^rechunker: error \[USAGE\]: /);
  assert.match(lines[0]!, mention);
}

describe('usage errors before any work', () => {
  it('--authfile naming a missing file is an error, not a silent anonymous login', async () => {
    usageLine(
      await runCli(['copy', image, `oci:${tmp}/x:t`, '--authfile', `${tmp}/none.json`]),
      /--authfile .*none\.json: no such file/,
    );
    usageLine(
      await runCli(['rechunk', image, `oci:${tmp}/x:t`, '--dest-authfile', `${tmp}/none.json`]),
      /--dest-authfile/,
    );
  });

  it('--compression-level with --compression none, or out of range, is a usage error', async () => {
    usageLine(
      await runCli(['rechunk', image, `oci:${tmp}/x:t`, '--compression', 'none', '--compression-level', '3']),
      /no meaning with --compression none/,
    );
    usageLine(await runCli(['rechunk', image, `oci:${tmp}/x:t`, '--compression-level', '12']), /gzip takes 1-9/);
  });

  it('--platform naming another platform than a single image is a PLATFORM error', async () => {
    for (const cmd of ['rechunk', 'copy']) {
      const r = await runCli([cmd, image, `oci:${tmp}/plat-${cmd}:t`, '--platform', 'linux/arm64', '-q']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^rechunker: error \[PLATFORM\]: .*for linux\/amd64, not linux\/arm64/);
      await assert.rejects(fs.access(path.join(tmp, `plat-${cmd}`)), 'nothing written');
    }
  });
});

describe('help and unknown commands', () => {
  it('an unknown command is one [USAGE] line with a did-you-mean, exit 2, and a --json error', async () => {
    const r = await runCli(['rechunkk', image, 'oci:x']);
    usageLine(r, /unknown command "rechunkk"; did you mean `rechunker rechunk`\?/);
    const j = await runCli(['coppy', '--json']);
    assert.equal(j.code, 2);
    const parsed = JSON.parse(j.stdout) as { error: { code: string; message: string } };
    assert.equal(parsed.error.code, 'USAGE');
    assert.match(parsed.error.message, /did you mean `rechunker copy`/);
  });

  it('a mistyped flag is a [USAGE] line that names the nearest flag', async () => {
    usageLine(
      await runCli(['copy', image, 'oci:x', '--tls-verfy']),
      /Nonexistent flag: --tls-verfy \(did you mean --tls-verify\? see rechunker copy --help\)/,
    );
    usageLine(await runCli(['copy', image, 'oci:x', '--src-cred', 'a:b']), /did you mean --src-creds\?/);
  });

  it('rechunker help, help COMMAND and -h show help, exit 0', async () => {
    const top = await runCli(['help']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /COMMANDS[\s\S]*rechunk[\s\S]*verify/);
    const one = await runCli(['help', 'copy']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /USAGE\s+\$ rechunker copy SOURCE DESTINATION/);
    const h = await runCli(['verify', '-h']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /--model/);
  });

  it('every command lists every transport under References, and states ranges and defaults', async () => {
    const transports = ['oci:DIR', 'oci-archive:FILE', 'docker://HOST', 'containers-storage:'];
    for (const cmd of ['rechunk', 'copy', 'verify', 'plan']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      const refs = r.stdout.slice(r.stdout.indexOf('References:'));
      for (const t of transports) assert.ok(refs.includes(t), `${cmd} --help lists ${t}`);
    }
    const rechunk = (await runCli(['rechunk', '--help'])).stdout.replace(/\s+/g, ' ');
    assert.match(rechunk, /--max-layers=<value> \[default: 64\] most layers .*\(2-500\)/);
    assert.match(rechunk, /--jobs=<value> layers compressed in parallel, 1-64 \(default: the number of cores/);
    assert.match(rechunk, /--work-dir=DIR .*default: \$TMPDIR, else \/var\/tmp/);
    assert.match(rechunk, /--retry-times=<value> \[default: 4\]/);
    assert.match(rechunk, /--\[no-\]dest-tls-verify/);
  });
});

describe('summaries and scripts', () => {
  it('copy says where the bytes went, in text and in --json, and --digestfile holds the digest', async () => {
    const dest = `oci:${tmp}/copied:t`;
    const digestFile = path.join(tmp, 'copy.digest');
    const r = await runCli(['copy', image, dest, '-q', '--digestfile', digestFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^blobs: 2 uploaded \([\d.]+ \w?B\), 0 already there; [\d.]+ \w?B compressed in all$/m);
    const digest = await fs.readFile(digestFile, 'utf8');
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    assert.ok(r.stdout.includes(`${dest} ${digest}`));
    const j = await runCli(['copy', image, dest, '--json']);
    const result = JSON.parse(j.stdout) as {
      manifestDigest: string;
      transfer: { uploaded: number; skipped: number; mounted: number; totalBytes: number };
    };
    assert.equal(result.manifestDigest, digest);
    assert.deepEqual([result.transfer.uploaded, result.transfer.skipped, result.transfer.mounted], [0, 2, 0]);
    assert.ok(result.transfer.totalBytes > 0);
  });

  it('copy of a Docker schema 2 image into an OCI layout writes OCI manifests, which skopeo reads', async (t) => {
    if (!(await has('skopeo'))) return t.skip('skopeo is not installed');
    const docker = path.join(tmp, 'docker');
    const made = await makeImage(docker, 'd', [await tarBytes([{ entry: newEntry('etc', 'dir') }])], { docker: true });
    const dest = `oci:${tmp}/from-docker:d`;
    const r = await runCli(['copy', `oci:${docker}:d`, dest, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const digest = (JSON.parse(r.stdout) as { manifestDigest: string }).manifestDigest;
    assert.notEqual(digest, made.manifest.digest, 'another manifest, so another digest');
    const inspected = (await skopeoInspect(dest)) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, digest);
    assert.deepEqual(
      inspected.Layers,
      made.layers.map((l) => l.digest),
      'the same layer blobs',
    );
  });

  it('rechunk says how many layers were reused from the prior and how many are new', async () => {
    const dest = `oci:${tmp}/rechunked:t`;
    const first = await runCli(['rechunk', image, dest, '-q', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const a = JSON.parse(first.stdout) as {
      layers: unknown[];
      layersReused: number;
      transfer: { uploaded: number; skipped: number };
    };
    assert.equal(a.layersReused, 0);
    assert.equal(a.transfer.uploaded, a.layers.length + 1, 'every layer and the config');
    const second = await runCli(['rechunk', image, dest, '-q']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      new RegExp(
        `in ${a.layers.length} layers: ${a.layers.length} as the prior build wrote them, 0 compressed now; ` +
          `${a.layers.length} already at the destination`,
      ),
    );
    assert.match(second.stdout, /^blobs: 0 uploaded/m);
  });
});

describe('verify exit codes, as diff', () => {
  it('0 when equal, 1 when different, 2 for trouble', async () => {
    assert.equal((await runCli(['verify', image, image, '-q'])).code, 0);
    const diff = await runCli(['verify', image, other, '-q']);
    assert.equal(diff.code, 1, diff.stderr);
    assert.match(diff.stdout, /etc\/hostname \(file\): content/);
    const missing = await runCli(['verify', image, `oci:${tmp}/nothing:x`, '-q']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^rechunker: error \[NOT_FOUND\]/);
    assert.equal((await runCli(['verify', image])).code, 2, 'a usage error is trouble too');
  });

  it('when every model agrees the differences are listed once', async () => {
    const r = await runCli(['verify', image, other, '-q', '--model', 'all']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^oci, overlay, delegate(, [a-z]+)*: 1 difference\(s\)/, 'every model on one line');
    assert.equal(r.stdout.match(/etc\/hostname/g)?.length, 1);
  });
});
