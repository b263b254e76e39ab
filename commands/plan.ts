import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { prose } from '../src/cli/prose.js';
import { referencesHelp } from '../src/cli/references.js';
import { planningFlags, platformFlag, platformOf, transportFlags, transportOptions } from '../src/cli/flags.js';
import { formatBytes } from '../src/util/format-bytes.js';
import type { PreviewPlanResult } from '../src/engine/preview-plan.js';

export default class Plan extends BaseCommand {
  static override summary = 'Show how rechunk would pack an image, and what an update is expected to download';

  static override description =
    prose(`Reads SOURCE, finds its components and their change history (changelogs, user.update-interval,
and with --prior the plan a previous rechunked build recorded), and prints the layers rechunk would
write: their components, sizes and change probabilities, and the expected bytes an update downloads.
Writes nothing.

${referencesHelp()}`);

  static override examples = [
    '<%= config.bin %> <%= command.id %> oci:./image:latest',
    '<%= config.bin %> <%= command.id %> oci:./image:v2 --prior oci:./out:v1 --max-layers 32 --json',
    '<%= config.bin %> <%= command.id %> oci:./image:latest --paths | grep -w unclaimed',
  ];

  static override args = {
    source: Args.string({ description: 'image to read, e.g. oci:DIR:TAG', required: true }),
  };

  static override flags = {
    ...planningFlags,
    platform: platformFlag,
    paths: Flags.boolean({
      description: 'also list every component\'s paths (COMPONENT<tab>PATH lines; "paths" in --json)',
      default: false,
    }),
    ...transportFlags,
  };

  async run(): Promise<PreviewPlanResult> {
    const { args, flags } = await this.parse(Plan);
    // The engine loads with the command's run, not with its help or the manifest.
    const { previewPlan } = await import('../src/engine/preview-plan.js');
    const result = await previewPlan({
      source: args.source,
      platform: platformOf(flags.platform),
      maxLayers: flags['max-layers'],
      ...(flags.prior !== undefined ? { prior: flags.prior } : {}),
      ...(flags['keep-base'] !== undefined ? { keepBase: flags['keep-base'] } : {}),
      packer: flags.packer,
      parentDirs: flags['parent-dirs'],
      ...(flags['work-dir'] !== undefined ? { workDir: flags['work-dir'] } : {}),
      paths: flags.paths,
      progress: this.progress(flags.quiet),
      transport: transportOptions(flags),
    });
    const { plan, predicted } = result;
    this.log(
      `${plan.layers.length} component layers (+${result.extraLayers} for directories) ` +
        `from ${result.components.length} components, ${formatBytes(predicted.imageSize)}`,
    );
    this.log('layer  size        P(change)  components');
    plan.layers.forEach((l, i) => {
      const names =
        l.components.length > 6
          ? `${l.components.slice(0, 6).join(' ')} (+${l.components.length - 6} more)`
          : l.components.join(' ');
      this.log(
        `${String(i).padStart(5)}  ${formatBytes(l.size).padEnd(10)}  ${(l.changeProbability ?? 0).toFixed(3).padStart(9)}  ${names}`,
      );
    });
    this.log(
      `expected download per update: ${formatBytes(predicted.expectedCost)} uncompressed ` +
        `(~${formatBytes(predicted.compressedCost)} compressed); ` +
        `one layer per component would be ${formatBytes(predicted.expectedLowerBound)}`,
    );
    for (const c of result.components) for (const p of c.paths ?? []) this.log(`${c.name}\t${p}`);
    return result;
  }
}
