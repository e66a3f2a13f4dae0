/** Worker-thread entry (piscina): runs CPU-heavy step computations off the main thread. */
import { computeRanks, type RanksTask } from './compute.js';

export default function run(task: RanksTask) {
  return computeRanks(task);
}
