// `rechunker analyze ARGS` as its own process, without a built dist: the worker tests start
// several of these at once against one index directory.
import { fileURLToPath } from 'node:url';
import Analyze from '../../commands/analyze.js';

await Analyze.run(process.argv.slice(2), fileURLToPath(new URL('../..', import.meta.url)));
