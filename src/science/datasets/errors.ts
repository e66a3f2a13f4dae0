/** The one error type of the dataset loaders. */

/** What went wrong, as a closed set (callers may map codes to exit statuses or hints). */
export type DatasetErrorCode =
  /** A file could not be read (missing, a directory, no permission). */
  | 'unreadable-file'
  /** A file was read but its contents are not what the format requires. */
  | 'malformed-file'
  /** Fewer samples exist (after the class filter) than were asked for. */
  | 'too-few-samples'
  /** An option is out of range or of the wrong kind. */
  | 'bad-option';

/**
 * A problem with a dataset or its options, meant to be shown to the user as is: the message
 * names the file (when there is one) and the problem, so no stack trace is needed.
 */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly code: DatasetErrorCode;
  /** The file concerned, as given by the caller, when the problem is about a file. */
  readonly file?: string;

  constructor(code: DatasetErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.file !== undefined) this.file = options.file;
  }
}

/** A DatasetError for a failed read, naming the file and the reason in plain words. */
export function fileReadError(file: string, cause: unknown): DatasetError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOENT' ? 'file not found'
    : code === 'EISDIR' ? 'is a directory, not a file'
    : code === 'EACCES' ? 'permission denied'
    : `cannot read (${cause instanceof Error ? cause.message : String(cause)})`;
  return new DatasetError('unreadable-file', `${file}: ${what}`, { file, cause });
}
