/**
 * The names of the files hrank writes into a study's results folder: the results (results.ts),
 * the report (report.ts), and the figures. `hrank clean --all` removes these names and nothing
 * else, so every file a writer adds must be named here.
 */

/** Written by writeResults. */
export const RESULTS_FILES = ['results.csv', 'results.json', 'details.json', 'provenance.json', 'timings.json'] as const;

/** Written by writeReport (besides the figures). */
export const REPORT_FILES = ['table.md', 'report.html'] as const;

/** Folder of the figure files, inside the results folder. */
export const PLOTS_DIR = 'plots';

/** Figure files a report writes (and so may remove when a later report no longer makes them). */
export const FIGURE_FILE = /^(ranks|spectrum)-[A-Za-z0-9._-]+\.(svg|png)$/;
