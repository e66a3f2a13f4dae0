/**
 * Runs one hrank command in this process (the built CLI from dist/) and prints, on the last line
 * of stderr, JSON with its exit code, wall seconds and the process's peak RSS (worker threads
 * included). Usage: node dist/bench/measure.js <hrank args...>
 */
import { main } from '../src/cli/cli.js';

const t0 = performance.now();
const code = await main(process.argv.slice(2));
const seconds = (performance.now() - t0) / 1000;
process.stderr.write(`\n${JSON.stringify({ code, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exit(code);
