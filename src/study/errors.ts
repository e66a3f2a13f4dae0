/** What the study layer refuses to do with what it was asked (exit 2 in the CLI: input, not a failed run). */
export class StudyRefused extends Error {
  override readonly name: string = 'StudyRefused';
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}
