/** Worker-thread entry (piscina): runs CPU-heavy pieces of steps off the main thread. */
import { runTask, type WorkerTask } from './compute.js';

export default function run(task: WorkerTask) {
  return runTask(task);
}
