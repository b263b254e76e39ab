import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';

describe('work directories', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rechunker-workdir-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`are removed when the process is stopped by ${signal}, which exits ${status}`, async () => {
      const module = new URL('../../src/util/work-dir.js', import.meta.url).href;
      // A run interrupted mid-way: a work dir with something in it, and a pending finally that never runs.
      const script = `const { makeWorkDir } = await import(${JSON.stringify(module)});
        const fs = await import('node:fs/promises');
        const w = await makeWorkDir(${JSON.stringify(dir)}, 'run-');
        await fs.writeFile(w + '/layer.tmp', 'x'.repeat(1 << 20));
        console.log(w);
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const work = await new Promise<string>((resolve) =>
        child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
      );
      await access(work);
      const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      child.kill(signal);
      assert.equal(await code, status);
      await assert.rejects(access(work), 'the work directory is gone');
    });
  }
});
