import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkDestination } from '../../src/engine/check-destination.js';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, hasCorpus } from '../helpers/corpus.js';
import { freePort, registryAvailable, startRegistry, type RegistryServer } from '../helpers/registry-server.js';

/**
 * Issue 15, point 3: a destination that refuses the credentials, cannot be reached, does not let
 * us push, or is not writable fails within 2 seconds on the corpus image, before the source is
 * read, with nothing written (the work directory included).
 */
const LIMIT_MS = 2000;

describe('the destination is checked before the work', () => {
  let basic: RegistryServer | undefined;
  let token: RegistryServer | undefined;
  let tmp: string;
  let work: string;
  let ro: string | undefined;
  /** What starting the CLI alone takes on this machine (node, oclif), measured once. */
  let startup = 0;
  const skip = !registryAvailable() ? 'docker-registry is not installed' : !hasCorpus() ? 'no corpus' : undefined;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rechunker-destcheck-'));
    work = path.join(tmp, 'work');
    await fs.mkdir(work);
    if (skip) return;
    const t0 = Date.now();
    await runCli(['--help']); // not --version: bin/run.js answers that without oclif
    startup = Date.now() - t0;
    basic = await startRegistry({ auth: 'htpasswd' });
    token = await startRegistry({ auth: 'token', token: { anonymousPull: () => true } });
    const dir = path.join(tmp, 'ro');
    await fs.mkdir(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir], { stdio: 'ignore' });
      ro = dir;
    } catch {
      ro = undefined;
    }
  });
  after(async () => {
    await basic?.stop();
    await token?.stop();
    if (ro) execFileSync('umount', [ro]);
    await fs.rm(tmp, { recursive: true, force: true });
  });

  async function failsFast(dest: string, code: string, pattern: RegExp, ...flags: string[]): Promise<void> {
    const started = Date.now();
    const r = await runCli([
      'rechunk',
      `oci:${corpusLayout()}:updated`,
      dest,
      '--quiet',
      '--no-prior',
      '--work-dir',
      work,
      '--tls-verify=false',
      ...flags,
    ]);
    // The CLI's own start (node, oclif) is not the check's: it is taken off.
    const took = Date.now() - started - startup;
    assert.equal(r.code, 1, `${dest}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`\\[${code}\\]`));
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.ok(took < LIMIT_MS, `${dest}: failed after ${took} ms`);
    assert.deepEqual(await fs.readdir(work), [], 'no work directory left');
  }

  it('wrong credentials: AUTH', async (t) => {
    if (skip) return t.skip(skip);
    await failsFast(`docker://${basic!.host}/os:t`, 'AUTH', /push check/, '--creds', 'tester:wrong');
  });

  it('no push access (anonymous pull only): AUTH', async (t) => {
    if (skip) return t.skip(skip);
    await failsFast(`docker://${token!.host}/os:t`, 'AUTH', /push check/);
  });

  it('nothing listening: NETWORK', async (t) => {
    if (skip) return t.skip(skip);
    await failsFast(`docker://127.0.0.1:${await freePort()}/os:t`, 'NETWORK', /cannot connect/);
  });

  it('a read-only directory: IO, and nothing is made in it', async (t) => {
    if (skip) return t.skip(skip);
    if (!ro) return t.skip('cannot mount a read-only tmpfs here');
    await failsFast(`oci:${ro}/sub/out:t`, 'IO', /not writable \(EROFS\)/);
    await failsFast(`oci-archive:${ro}/x.tar:t`, 'IO', /not writable/);
  });

  it('a work directory without room for the unpacked image: IO before any layer is read', async (t) => {
    if (skip) return t.skip(skip);
    const small = path.join(tmp, 'small');
    await fs.mkdir(small);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { stdio: 'ignore' });
    } catch {
      return t.skip('cannot mount a tmpfs here');
    }
    try {
      const r = await runCli([
        'rechunk',
        `oci:${corpusLayout()}:updated`,
        `oci:${path.join(tmp, 'out')}:t`,
        '--quiet',
        '--no-prior',
        '--work-dir',
        small,
      ]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /\[IO\].*free, about .* needed/);
      assert.deepEqual(await fs.readdir(small), []);
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('the right credentials pass the check, and the cancelled upload leaves no repository data', async (t) => {
    if (skip) return t.skip(skip);
    await checkDestination(`docker://${basic!.host}/os:t`, { creds: 'tester:secret-pw', tlsVerify: false });
    // distribution keeps a cancelled upload's directory and hash state for its purger; the
    // upload's data and start time go at once, so the upload is no longer open.
    const uploads = path.join(basic!.dir, 'storage/docker/registry/v2/repositories/os/_uploads');
    const left = (await fs.readdir(uploads, { recursive: true }).catch(() => [])) as string[];
    assert.ok(left.length > 0, 'the upload was started');
    assert.deepEqual(
      left.filter((p) => /(^|\/)(data|startedat)$/.test(p)),
      [],
      `cancelled: ${left.join(', ')}`,
    );
    const started = Date.now();
    await assert.rejects(
      checkDestination(`docker://${basic!.host}/os:t`, { creds: 'tester:nope', tlsVerify: false }),
      /AUTH|401/,
    );
    assert.ok(Date.now() - started < LIMIT_MS);
  });
});
