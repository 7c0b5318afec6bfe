import { Command, CommanderError } from 'commander'

/** Exit code for usage errors (unknown flag, bad value), as etcd and most Unix tools use. */
export const USAGE_EXIT_CODE = 2

/** A subcommand module: adds one command (with its own subcommands and flags) to the program. */
export type CommandRegistrar = (program: Command) => void

/**
 * Builds the `quorum` program from the registrars of each subcommand. Usage errors print one line naming the
 * flag and exit 2; `--help` lists every flag with its default and exits 0.
 */
export function buildProgram(version: string, registrars: readonly CommandRegistrar[]): Command {
  const program = new Command('quorum')
    .description('Quorum: an etcd-compatible Raft key-value store and the tools to run, watch and back it up')
    .version(version, '-v, --version', 'print the version')
    .showSuggestionAfterError(true)
    .configureHelp({ showGlobalOptions: false, sortSubcommands: false })
    .exitOverride()
  for (const register of registrars) register(program)
  return program
}

/**
 * Runs the program on argv and resolves with the process exit code: 0 for help/version, 2 for usage
 * errors (commander already printed the one-line message), otherwise whatever the action resolved.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return typeof process.exitCode === 'number' ? process.exitCode : 0
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode
      return USAGE_EXIT_CODE
    }
    throw error
  }
}
