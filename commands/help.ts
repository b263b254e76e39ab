import { Args, loadHelpClass } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';

/** `rechunker help [COMMAND]`: the same screens as --help and -h, as git and podman users type it. */
export default class Help extends BaseCommand {
  static override summary = 'Show help for rechunker or one of its commands';

  static override args = {
    command: Args.string({ description: 'command to show help for', required: false }),
  };

  static override strict = false;

  async run(): Promise<void> {
    const HelpClass = await loadHelpClass(this.config);
    const help = new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? this.config.pjson.helpOptions);
    await help.showHelp(this.argv);
  }
}
