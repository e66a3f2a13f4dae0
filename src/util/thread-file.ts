/**
 * A worker thread's module beside its caller: `<name>.ts` under tsx (tests, dev), `<name>.js`
 * once built. tsx is resolved from this package, not from the working directory, so source
 * runs work from any folder.
 */
export function threadFile(caller: string, name: string): { readonly filename: string; readonly execArgv: string[] } {
  const ts = caller.endsWith('.ts');
  return { filename: new URL(`./${name}${ts ? '.ts' : '.js'}`, caller).href, execArgv: ts ? ['--import', import.meta.resolve('tsx')] : [] };
}
