/**
 * The option table of `hrank`, as data: every option with its flags, description, default and
 * parser, and every command with its arguments and the options it takes. `args.ts` builds the
 * commander program (and so the help) from these lists; nothing else defines an option.
 *
 * Each command turns commander's raw values into one typed options object (`ParsedCommand`),
 * which is all a command function receives.
 */
import os from 'node:os';
import { InvalidArgumentError } from 'commander';
import { parseRedisUrl } from '../engine/distributed/url.js';
import { DEFAULT_MEMORY_FRACTION, parseSize } from '../engine/kinds/size.js';

// ---------------------------------------------------------------------------------------------
// Typed options of each command.

export interface RunOptions {
  readonly file: string;
  /** Folder holding `<study name>/` result folders. */
  readonly results: string;
  /** Cache folder. */
  readonly cache: string;
  /** Neither read nor write the cache. */
  readonly noCache: boolean;
  /** Heavy steps at once (a positive integer). */
  readonly jobs: number;
  /** Finish what can be finished after a step fails (default: stop at the first failure). */
  readonly keepGoing: boolean;
  /** A machine-readable summary on stdout (progress stays on stderr). */
  readonly json: boolean;
  /** Refuse the study when its memory estimate is over this many bytes (undefined: the default limit). */
  readonly maxMemory?: number;
  /** `redis://host:port`: compute through `hrank worker` processes (default: here). */
  readonly redis?: string;
}

export interface WorkerOptions {
  /** `redis://host:port[/db]`. */
  readonly redis: string;
  /** Steps at once (and worker threads). */
  readonly jobs: number;
  /** Shared cache folder (same path on every machine), or null. */
  readonly cache: string | null;
  /** Seconds before a silent worker's running step goes to another worker. */
  readonly stallTimeout: number;
}

export interface ValidateOptions {
  readonly files: readonly string[];
}

export interface PlanOptions {
  readonly file: string;
  readonly cache: string;
  /** Steps at once, for the memory estimate (default: the core count, as `run`). */
  readonly jobs?: number;
  /** The memory limit shown (undefined: the default limit). */
  readonly maxMemory?: number;
  /** Print each step's key parts. */
  readonly explain: boolean;
  readonly json: boolean;
}

export interface CleanOptions {
  readonly cache: string;
  readonly results: string;
  /** Remove the results folder too. */
  readonly all: boolean;
}

export interface ReportOptions {
  readonly file: string;
  /** Folder holding `<study name>/` result folders. */
  readonly results: string;
  /** Cache folder (read only). */
  readonly cache: string;
}

export interface ShowOptions {
  readonly file: string;
  readonly results: string;
  /** Open the report with the system's opener when there is a display (false: only print its path). */
  readonly open: boolean;
}

export interface StatusOptions {
  /** Pipeline files; empty: every *.yaml under `pipelines`. */
  readonly files: readonly string[];
  /** The folder of pipeline files (the project's, else `pipelines`). */
  readonly pipelines: string;
  readonly json: boolean;
}

export interface DiffOptions {
  /** `<rev-a> [<rev-b>] [file]` or `<folder-a> <folder-b>`, as given (the command tells them apart). */
  readonly targets: readonly string[];
  readonly json: boolean;
  /** Exit 1 when something differs (as `git diff --exit-code`). */
  readonly exitCode: boolean;
}

export interface ExportOptions {
  readonly file: string;
  /** Point ids; empty: every point. */
  readonly points: readonly string[];
  /** Parts to write; undefined: every part (Hessians where they fit). */
  readonly what?: readonly ('weights' | 'data' | 'hessians' | 'spectra')[];
  /** Folder for the `<point id>/` folders; undefined: export/<study name>. */
  readonly out?: string;
  readonly cache: string;
  readonly noCache: boolean;
  readonly maxMemory?: number;
  readonly json: boolean;
}

export interface ExplainOptions {
  readonly file: string;
  /** Point ids; empty: every point. */
  readonly points: readonly string[];
  /** Folder holding `<study name>/` result folders (the measurements). */
  readonly results: string;
  readonly json: boolean;
}

export interface InitOptions {
  /** The study name; the file is `<name>.yaml`. */
  readonly name: string;
  /** Folder to write the file in; undefined: the project's pipelines folder. */
  readonly dir?: string;
}

export type ParsedCommand =
  | { readonly command: 'run'; readonly options: RunOptions }
  | { readonly command: 'validate'; readonly options: ValidateOptions }
  | { readonly command: 'plan'; readonly options: PlanOptions }
  | { readonly command: 'clean'; readonly options: CleanOptions }
  | { readonly command: 'report'; readonly options: ReportOptions }
  | { readonly command: 'show'; readonly options: ShowOptions }
  | { readonly command: 'status'; readonly options: StatusOptions }
  | { readonly command: 'diff'; readonly options: DiffOptions }
  | { readonly command: 'export'; readonly options: ExportOptions }
  | { readonly command: 'explain'; readonly options: ExplainOptions }
  | { readonly command: 'init'; readonly options: InitOptions }
  | { readonly command: 'worker'; readonly options: WorkerOptions };

export type CommandName = ParsedCommand['command'];

// ---------------------------------------------------------------------------------------------
// Parsers (a bad value is a usage error: commander reports it and exits 2).

/** A positive integer, written in decimal digits. */
export function parsePositiveInt(name: string): (raw: string) => number {
  return (raw) => {
    const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidArgumentError(`${name} must be a positive integer, got '${raw}'.`);
    }
    return value;
  };
}

/** A Redis URL (`redis://host:port[/db]`, `rediss://` for TLS). */
export function parseRedis(raw: string): string {
  try {
    parseRedisUrl(raw);
  } catch (e) {
    throw new InvalidArgumentError(`--redis: ${e instanceof Error ? e.message : String(e)}.`);
  }
  return raw;
}

/** A memory size: `4G`, `512M`, `1.5GiB`, or bytes. */
export function parseMaxMemory(raw: string): number {
  const bytes = parseSize(raw);
  if (!Number.isFinite(bytes) || bytes < 1) {
    throw new InvalidArgumentError(`--max-memory must be a size such as 4G, 512M or 1.5GiB, got '${raw}'.`);
  }
  return bytes;
}

/** Parts of `hrank export --what`: a comma-separated list of weights, data, hessians, spectra. */
export function parseWhat(raw: string): string[] {
  const allowed = ['weights', 'data', 'hessians', 'spectra'];
  const parts = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = parts.filter((p) => !allowed.includes(p));
  if (parts.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`--what takes a comma-separated list of ${allowed.join(', ')}; got '${raw}'.`);
  }
  return [...new Set(parts)];
}

/** A repeatable option's values, in order. */
function collect(raw: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), raw];
}

/** A non-empty folder path. */
export function parseDir(name: string): (raw: string) => string {
  return (raw) => {
    if (raw.trim() === '') throw new InvalidArgumentError(`${name} must name a folder, got an empty string.`);
    return raw;
  };
}

// ---------------------------------------------------------------------------------------------
// The option table.

export interface OptionSpec {
  /** Commander flags, e.g. `-j, --jobs <n>`. */
  readonly flags: string;
  readonly description: string;
  /** The default value (shown in the help unless `defaultDescription` says it in words). */
  readonly default?: string | number | boolean;
  /** The default in words, for the help (when it is not a fixed value). */
  readonly defaultDescription?: string;
  /** Turns the raw text into a value; throws `InvalidArgumentError` for a bad one. */
  readonly parse?: (raw: string, previous?: unknown) => unknown;
}

export const OPTIONS = {
  results: {
    flags: '--results <dir>',
    description: 'folder that holds the <study name>/ result folders',
    default: 'results',
    defaultDescription: "the project's (hrank.yaml), else results",
    parse: parseDir('--results'),
  },
  cache: {
    flags: '--cache <dir>',
    description: 'cache folder',
    default: 'cache',
    defaultDescription: "the project's (hrank.yaml), else cache",
    parse: parseDir('--cache'),
  },
  noCache: {
    flags: '--no-cache',
    description: 'neither read nor write the cache (compute every step)',
  },
  jobs: {
    flags: '-j, --jobs <n>',
    description: 'heavy steps to run at once (a positive integer)',
    defaultDescription: `the core count, here ${os.availableParallelism()}`,
    parse: parsePositiveInt('--jobs'),
  },
  maxMemory: {
    flags: '--max-memory <size>',
    description: 'memory a study may need, by its estimate (4G, 512M, ...): run refuses a study over it, plan shows it',
    defaultDescription: `${Math.round(DEFAULT_MEMORY_FRACTION * 100)}% of this machine's memory`,
    parse: parseMaxMemory,
  },
  keepGoing: {
    flags: '--keep-going',
    description: 'after a step fails, finish every step that does not depend on it (default: stop at the first failure)',
  },
  json: {
    flags: '--json',
    description: 'print a machine-readable summary on stdout (progress goes to stderr)',
  },
  explain: {
    flags: '--explain',
    description: "print the parts of each step's cache key (why a step reruns)",
  },
  all: {
    flags: '--all',
    description: 'also remove the results folder (--results)',
  },
  noOpen: {
    flags: '--no-open',
    description: "only print the report's path (do not open it)",
  },
  dir: {
    flags: '--dir <dir>',
    description: 'folder to write <name>.yaml in',
    defaultDescription: "the project's pipelines folder (hrank.yaml; a new project's: pipelines/)",
    parse: parseDir('--dir'),
  },
  redis: {
    flags: '--redis <url>',
    description: 'the Redis of a cluster, redis://host:port[/db]: `hrank worker` processes compute the steps (README: "Running a cluster")',
    parse: parseRedis,
  },
  sharedCache: {
    flags: '--cache <dir>',
    description: 'cache folder shared by every machine at the same path: values too large for Redis (over 16 MB) go there',
    parse: parseDir('--cache'),
  },
  stallTimeout: {
    flags: '--stall-timeout <s>',
    description: "seconds after which a running step of a worker that stopped answering goes to another worker",
    default: 30,
    parse: parsePositiveInt('--stall-timeout'),
  },
  exitCode: {
    flags: '--exit-code',
    description: 'exit 1 when the results differ (as git diff --exit-code)',
  },
  point: {
    flags: '--point <id>',
    description: 'a point id, as in results.csv and `hrank plan` (repeatable; default: every point)',
    parse: (raw: string, previous?: unknown) => collect(raw, Array.isArray(previous) ? (previous as string[]) : undefined),
  },
  what: {
    flags: '--what <parts>',
    description: 'what to write: weights, data, hessians, spectra (comma-separated; default: all, Hessians only where they fit the memory limit)',
    parse: parseWhat,
  },
  out: {
    flags: '--out <dir>',
    description: 'folder for the <point id>/ folders',
    defaultDescription: 'export/<study name>',
    parse: parseDir('--out'),
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** Raw values as commander returns them (before a command's `build` types them). */
export type RawValues = Readonly<Record<string, unknown>>;

export interface CommandSpec {
  readonly name: CommandName;
  /** Commander argument syntax, e.g. `<file>` or `<file...>`. */
  readonly args: readonly { readonly syntax: string; readonly description: string }[];
  readonly summary: string;
  readonly options: readonly OptionName[];
  /** A few lines shown after the options in `hrank <command> --help`. */
  readonly examples?: readonly string[];
  /** Typed options from the arguments and raw option values; throws `UsageError` for bad combinations. */
  readonly build: (args: readonly unknown[], raw: RawValues, given: (name: string) => boolean) => ParsedCommand;
}

/** A usage problem found after commander's parsing (a bad combination of options). */
export class UsageProblem extends Error {
  override readonly name = 'UsageProblem';
}

const str = (raw: RawValues, key: string, fallback: string): string => (typeof raw[key] === 'string' ? (raw[key] as string) : fallback);
const bool = (raw: RawValues, key: string): boolean => raw[key] === true;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: 'run a study: compute what the cache lacks and write <results>/<name>/',
    options: ['results', 'cache', 'noCache', 'jobs', 'maxMemory', 'keepGoing', 'json', 'redis'],
    examples: ['hrank run pipelines/quickstart.yaml', 'hrank run study.yaml --jobs 4 --keep-going --json > summary.json', 'hrank run study.yaml --redis redis://10.0.0.5:6379'],
    build: (args, raw) => ({
      command: 'run',
      options: {
        file: args[0] as string,
        results: str(raw, 'results', OPTIONS.results.default),
        // `--cache DIR` and `--no-cache` share commander's `cache` value: a string, or false.
        cache: str(raw, 'cache', OPTIONS.cache.default),
        noCache: raw.cache === false,
        jobs: typeof raw.jobs === 'number' ? raw.jobs : os.availableParallelism(),
        keepGoing: bool(raw, 'keepGoing'),
        json: bool(raw, 'json'),
        ...(typeof raw.maxMemory === 'number' ? { maxMemory: raw.maxMemory } : {}),
        ...(typeof raw.redis === 'string' ? { redis: raw.redis } : {}),
      },
    }),
  },
  {
    name: 'validate',
    args: [{ syntax: '<file...>', description: 'pipeline files (YAML)' }],
    summary: 'check pipeline files and the dataset files they name; report every problem',
    options: [],
    examples: ['hrank validate pipelines/*.yaml'],
    build: (args) => ({ command: 'validate', options: { files: [...(args[0] as string[])] } }),
  },
  {
    name: 'plan',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: 'list the steps of a study and which are cached, and estimate its time and memory, without running anything',
    options: ['cache', 'jobs', 'explain', 'json', 'maxMemory'],
    examples: ['hrank plan study.yaml --explain', 'hrank plan study.yaml --jobs 2 --max-memory 8G'],
    build: (args, raw) => ({
      command: 'plan',
      options: {
        file: args[0] as string, cache: str(raw, 'cache', OPTIONS.cache.default), explain: bool(raw, 'explain'), json: bool(raw, 'json'),
        ...(typeof raw.jobs === 'number' ? { jobs: raw.jobs } : {}),
        ...(typeof raw.maxMemory === 'number' ? { maxMemory: raw.maxMemory } : {}),
      },
    }),
  },
  {
    name: 'clean',
    args: [],
    summary: 'empty the cache folder (and, with --all, remove the results folder)',
    options: ['cache', 'results', 'all'],
    examples: ['hrank clean', 'hrank clean --all --results out'],
    build: (_args, raw, given) => {
      const all = bool(raw, 'all');
      if (given('results') && !all) throw new UsageProblem('clean: --results only applies with --all (which removes the results folder)');
      return {
        command: 'clean',
        options: { cache: str(raw, 'cache', OPTIONS.cache.default), results: str(raw, 'results', OPTIONS.results.default), all },
      };
    },
  },
  {
    name: 'report',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: 'rebuild the report (table.md, plots/, report.html) from the cache, computing nothing',
    options: ['results', 'cache'],
    examples: ['hrank report pipelines/quickstart.yaml', 'hrank report study.yaml --results out --cache /tmp/hrank-cache'],
    build: (args, raw) => ({
      command: 'report',
      options: { file: args[0] as string, results: str(raw, 'results', OPTIONS.results.default), cache: str(raw, 'cache', OPTIONS.cache.default) },
    }),
  },
  {
    name: 'show',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: "print the path of a study's report.html and open it when there is a display",
    options: ['results', 'noOpen'],
    examples: ['hrank show pipelines/quickstart.yaml', 'hrank show study.yaml --no-open'],
    build: (args, raw) => ({
      command: 'show',
      // `--no-open` sets commander's `open` value to false (true by default).
      options: { file: args[0] as string, results: str(raw, 'results', OPTIONS.results.default), open: raw.open !== false },
    }),
  },
  {
    name: 'status',
    args: [{ syntax: '[files...]', description: "pipeline files (default: every *.yaml in the project's pipelines folder, else under pipelines/)" }],
    summary: "compare each pipeline with its lock file: up to date, stale (which points, why) or never run; exit 1 unless all are up to date",
    options: ['json'],
    examples: ['hrank status', 'hrank status study.yaml --json'],
    build: (args, raw) => ({ command: 'status', options: { files: [...((args[0] as string[] | undefined) ?? [])], pipelines: 'pipelines', json: bool(raw, 'json') } }),
  },
  {
    name: 'diff',
    args: [
      { syntax: '<rev-a>', description: 'git revision (or a results folder)' },
      { syntax: '[rev-b]', description: 'git revision (default: the working tree), or a second results folder' },
      { syntax: '[file]', description: 'pipeline file or its lock file (default: every lock file that differs)' },
    ],
    summary: "compare a study's results between two git revisions (its lock files) or two results folders",
    options: ['json', 'exitCode'],
    examples: ['hrank diff HEAD study.yaml', 'hrank diff main HEAD pipelines/width.yaml', 'hrank diff results/a results/b --json'],
    build: (args, raw) => ({
      command: 'diff',
      options: { targets: args.filter((a): a is string => typeof a === 'string'), json: bool(raw, 'json'), exitCode: bool(raw, 'exitCode') },
    }),
  },
  {
    name: 'export',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: "write a study's points as NumPy .npy files (weights, data, dense Hessians, eigenvalues) with a manifest.json, computing what the cache lacks",
    options: ['point', 'what', 'out', 'cache', 'noCache', 'maxMemory', 'json'],
    examples: ['hrank export pipelines/quickstart.yaml --point model.width=8', 'hrank export study.yaml --what weights,data --out /tmp/study-npy'],
    build: (args, raw) => ({
      command: 'export',
      options: {
        file: args[0] as string,
        points: Array.isArray(raw.point) ? (raw.point as string[]) : [],
        ...(Array.isArray(raw.what) ? { what: raw.what as ExportOptions['what'] } : {}),
        ...(typeof raw.out === 'string' ? { out: raw.out } : {}),
        cache: str(raw, 'cache', OPTIONS.cache.default),
        noCache: raw.cache === false,
        ...(typeof raw.maxMemory === 'number' ? { maxMemory: raw.maxMemory } : {}),
        json: bool(raw, 'json'),
      },
    }),
  },
  {
    name: 'explain',
    args: [{ syntax: '<file>', description: 'pipeline file (YAML)' }],
    summary: "derive each point's predicted ranks with its own numbers (r, K', s, q, each formula's terms, P, the assumptions) beside what was measured (route, tolerance, rank, gap, margins, inertia)",
    options: ['point', 'results', 'json'],
    examples: ['hrank explain pipelines/quickstart.yaml --point model.width=8', 'hrank explain study.yaml --json > derivation.json'],
    build: (args, raw) => ({
      command: 'explain',
      options: {
        file: args[0] as string,
        points: Array.isArray(raw.point) ? (raw.point as string[]) : [],
        results: str(raw, 'results', OPTIONS.results.default),
        json: bool(raw, 'json'),
      },
    }),
  },
  {
    name: 'init',
    args: [{ syntax: '<name>', description: 'study name: letters, digits, ".", "_" and "-"' }],
    summary: 'write <name>.yaml: a commented pipeline file that validates and runs as written (and, outside a project, hrank.yaml and a .gitignore)',
    options: ['dir'],
    examples: ['hrank init my-study', 'hrank init my-study --dir studies'],
    build: (args, raw) => ({ command: 'init', options: { name: args[0] as string, ...(typeof raw.dir === 'string' ? { dir: raw.dir } : {}) } }),
  },
  {
    name: 'worker',
    args: [],
    summary: 'compute steps of `hrank run --redis` studies, from the cluster\'s Redis, until stopped (Ctrl-C, SIGTERM)',
    options: ['redis', 'jobs', 'sharedCache', 'stallTimeout'],
    examples: ['hrank worker --redis redis://10.0.0.5:6379', 'hrank worker --redis redis://10.0.0.5:6379 --jobs 8 --cache /mnt/shared/hrank-cache'],
    build: (_args, raw) => {
      if (typeof raw.redis !== 'string') throw new UsageProblem('worker: --redis <url> is required (the Redis of the cluster, e.g. redis://10.0.0.5:6379)');
      return {
        command: 'worker',
        options: {
          redis: raw.redis,
          jobs: typeof raw.jobs === 'number' ? raw.jobs : os.availableParallelism(),
          cache: typeof raw.cache === 'string' ? raw.cache : null,
          stallTimeout: typeof raw.stallTimeout === 'number' ? raw.stallTimeout : OPTIONS.stallTimeout.default,
        },
      };
    },
  },
];
