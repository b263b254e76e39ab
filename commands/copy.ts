import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { platformFlag, platformOf, transportFlags, transportOptions } from '../src/cli/flags.js';
import { formatBytes } from '../src/cli/format.js';
import { copyImage, type CopyResult } from '../src/engine/copy.js';
import { DEFAULT_JOBS } from '../src/registry/index.js';

export default class Copy extends BaseCommand {
  static override summary = 'Copy an image between transports, layers unchanged';

  static override description = `Copies one image (the --platform one from a multi-platform index) from SOURCE to DESTINATION
without repacking it: blobs first, verified as they stream, the manifest last with its bytes
unchanged, so both ends report the same manifest digest. Blobs the destination already has are
skipped; within one registry they are mounted instead of uploaded.

References: oci:DIR[:TAG], docker://HOST[:PORT]/REPO[:TAG|@DIGEST]`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./out:latest docker://registry.example.com/os:latest',
    '<%= config.bin %> <%= command.id %> docker://127.0.0.1:5000/os:42 oci:./mirror:42 --tls-verify=false',
  ];

  static override args = {
    source: Args.string({ description: 'image to read', required: true }),
    destination: Args.string({ description: 'where to write it', required: true }),
  };

  static override flags = {
    platform: platformFlag,
    ...transportFlags,
    jobs: Flags.integer({ description: 'blobs transferred in parallel', default: DEFAULT_JOBS, min: 1, max: 64 }),
  };

  async run(): Promise<CopyResult> {
    const { args, flags } = await this.parse(Copy);
    const result = await copyImage({
      source: args.source,
      destination: args.destination,
      platform: platformOf(flags.platform),
      transport: transportOptions(flags, flags.jobs),
      jobs: flags.jobs,
      progress: this.progress(flags.quiet),
    });
    this.log(`${result.destination} ${result.manifestDigest}`);
    this.log(`${result.blobs} blobs, ${formatBytes(result.bytes)}`);
    return result;
  }
}
