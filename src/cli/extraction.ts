/** The `--extraction-threads N` flag that demo, plan and eval share: its help entry and its parse. */
import { flagNumber, type ParsedArgs } from './args.js';
import type { FlagSpec } from './command.js';
import { MAX_EXTRACTION_THREADS } from '../planner/ExtractionPool.js';

export const EXTRACTION_THREADS_FLAG: FlagSpec = {
  name: 'extraction-threads',
  value: 'N',
  default: '0 = the cores, at most 4',
  help: `path extraction worker threads (1: in the planning thread; at most ${MAX_EXTRACTION_THREADS})`,
};

/** Worker threads for path extraction (0 = the cores, at most 4; 1 = in the planning thread), from --extraction-threads. */
export function extractionThreadsFromArgs(args: ParsedArgs): number {
  return flagNumber(args, 'extraction-threads', 0, { integer: true, min: 0, max: MAX_EXTRACTION_THREADS });
}
