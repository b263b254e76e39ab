import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { corpusLayout, corpusSuite } from '../helpers/corpus.js';
import { registryAvailable, startRegistry } from '../helpers/registry-server.js';

/**
 * Rebuilding identical input onto its own previous output (a pipeline re-run with nothing new)
 * reads nothing and writes nothing, and says so; and what it leaves is what a full build with the
 * same prior writes.
 */
interface Result {
  manifestDigest: string;
  unchanged: boolean;
  layers: { reused: boolean }[];
  layersReused: number;
  transfer: { uploaded: number };
}

async function rechunk(args: string[]): Promise<Result> {
  const r = await runCli(['rechunk', ...args, '--quiet', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Result;
}

/** Every file under dir with its size and mtime: a write anywhere shows. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    const st = await fs.stat(p);
    out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
  }
  return out.sort();
}

describe('rebuild of identical input', () => {
  const suite = corpusSuite('rechunker-unchanged-');
  const source = () => `oci:${corpusLayout()}:updated`;

  it('onto a layout: nothing read or written, the same digest as a full build with that prior', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const onto = path.join(suite.out, 'layout');
    const first = await rechunk([source(), `oci:${onto}:os`]);
    assert.equal(first.unchanged, false);
    const before = await listing(onto);

    const again = await rechunk([source(), `oci:${onto}:os`]);
    assert.equal(again.unchanged, true);
    assert.equal(again.manifestDigest, first.manifestDigest);
    assert.equal(again.layersReused, again.layers.length);
    assert.equal(again.transfer.uploaded, 0);
    assert.deepEqual(await listing(onto), before, 'not a file of the layout was touched');

    // The same image by another transport is the same input (named by its config digest).
    const archived = path.join(suite.out, 'source.tar');
    const copied = await runCli(['copy', source(), `oci-archive:${archived}:updated`, '-q']);
    assert.equal(copied.code, 0, copied.stderr);
    const fromArchive = await rechunk([`oci-archive:${archived}:updated`, `oci:${onto}:os`]);
    assert.equal(fromArchive.unchanged, true, 'the archive holds the same image');

    // The full build the shortcut stands for: the same prior, a destination that lacks it.
    const full = await rechunk([source(), `oci:${path.join(suite.out, 'full')}:os`, '--prior', `oci:${onto}:os`]);
    assert.equal(full.unchanged, false);
    assert.equal(full.manifestDigest, first.manifestDigest, 'its own plan is a fixed point of the planner');

    // Another option is another input: built again (every layer but what the option changes reused).
    const labelled = await rechunk([source(), `oci:${onto}:os`, '--label', 'org.example.rebuilt=1']);
    assert.equal(labelled.unchanged, false);
    assert.notEqual(labelled.manifestDigest, first.manifestDigest);
    assert.equal(labelled.layersReused, labelled.layers.length, 'a label changes no layer');

    // A blob gone from the destination: the image is not all there, so it is built again, whole.
    const index = JSON.parse(await fs.readFile(path.join(onto, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const blob = (d: string) => path.join(onto, 'blobs', 'sha256', d.slice('sha256:'.length));
    const manifest = JSON.parse(await fs.readFile(blob(index.manifests[0]!.digest), 'utf8')) as {
      layers: { digest: string }[];
    };
    await fs.rm(blob(manifest.layers[3]!.digest));
    const repaired = await rechunk([source(), `oci:${onto}:os`, '--label', 'org.example.rebuilt=1']);
    assert.equal(repaired.unchanged, false);
    assert.equal(repaired.manifestDigest, labelled.manifestDigest);
    assert.ok((await fs.stat(blob(manifest.layers[3]!.digest))).size > 0, 'the missing layer is written again');
  });

  it('onto an oci-archive: the archive is left as it was', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    const file = path.join(suite.out, 'os.tar');
    const first = await rechunk([source(), `oci-archive:${file}:os`]);
    const bytes = await fs.readFile(file);
    const again = await rechunk([source(), `oci-archive:${file}:os`]);
    assert.equal(again.unchanged, true);
    assert.equal(again.manifestDigest, first.manifestDigest);
    assert.ok(bytes.equals(await fs.readFile(file)), 'the archive is byte for byte the same');
  });

  it('onto a registry: no blob or manifest is uploaded', async (t) => {
    if (suite.skip) return t.skip(suite.skip);
    if (!registryAvailable()) return t.skip('docker-registry is not installed');
    const registry = await startRegistry();
    try {
      const dest = `docker://${registry.host}/os/app:1`;
      const first = await rechunk([source(), dest, '--tls-verify=false']);
      const again = await rechunk([source(), dest, '--tls-verify=false']);
      assert.equal(again.unchanged, true);
      assert.equal(again.manifestDigest, first.manifestDigest);
      assert.equal(again.transfer.uploaded, 0);
    } finally {
      await registry.stop();
    }
  });
});
