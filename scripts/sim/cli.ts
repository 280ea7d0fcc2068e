// Command-line plumbing shared by the simulator scripts: option values and the run-or-exit(1) wrapper.

/** The value after `flag` in argv (e.g. optionValue(argv, "--port")), or undefined when the flag or its value is missing. */
export function optionValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** Runs `main` with the command-line arguments when `mod` is the entry script; a failure prints its message and exits 1. */
export function runCli(mod: NodeJS.Module, main: (argv: string[]) => Promise<void>): void {
  if (require.main !== mod) return;
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
