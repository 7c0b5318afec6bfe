import { setFlagsFromString } from 'node:v8'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { buildMemberConfig, ConfigError, readConfigFile, type MemberConfig, type RawFlags } from '../../server/config'
import { NODE_FLAGS, envName, type FlagSpec } from '../../server/flags'
import { parseGoDuration } from '../../util/duration'

/** Starts a member from a validated configuration and resolves when it has stopped (SIGTERM/SIGINT). */
export type MemberRunner = (config: MemberConfig) => Promise<void>

let runner: MemberRunner | null = null

/** Installs the function that runs a member (core/server registers it; kept apart so the CLI stays light). */
export function setMemberRunner(run: MemberRunner): void {
  runner = run
}

// Syntax checks at parse time make bad values usage errors (exit 2, one line naming the flag);
// cross-flag rules are checked by buildMemberConfig with etcd's messages (exit 1).
function syntaxParser(spec: FlagSpec): ((value: string) => string) | undefined {
  const checked = (test: (value: string) => boolean, why: string) => (value: string) => {
    if (!test(value)) throw new InvalidArgumentError(why)
    return value
  }
  if (spec.choices) return checked((v) => spec.choices!.includes(v), `must be one of ${spec.choices.join(', ')}`)
  switch (spec.kind) {
    case 'int':
      return checked((v) => /^\d+$/.test(v.trim()) && Number.isSafeInteger(Number(v)), 'must be a non-negative integer')
    case 'duration':
      return checked((v) => {
        try {
          parseGoDuration(v)
          return true
        } catch {
          return false
        }
      }, 'must be a duration such as 5s, 250ms or 2h')
    case 'bool':
      return checked((v) => /^(true|false|1|0|t|f)$/i.test(v), 'must be true or false')
    default:
      return undefined
  }
}

/** The commander attribute name of a flag (`initial-cluster` -> `initialCluster`). */
function attributeName(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase())
}

/** Collects the values given on the command line or through ETCD_* variables (not defaults). */
function givenFlags(command: Command): RawFlags {
  const raw: RawFlags = new Map()
  const values = command.opts<Record<string, unknown>>()
  for (const spec of NODE_FLAGS) {
    const key = attributeName(spec.name)
    const source = command.getOptionValueSource(key)
    if (source === 'cli' || source === 'env') raw.set(spec.name, String(values[key]))
  }
  return raw
}

/** `quorum node`: runs one member with etcd's flags, ETCD_* variables and `--config-file`. */
export function registerNodeCommand(program: Command): void {
  const command = program
    .command('node')
    .description("run one cluster member with etcd's flags (etcd v3 gRPC API on the client URLs)")
  command.addOption(
    new Option('--config-file <path>', 'Path to the server configuration file (etcd YAML). When given, other flags and environment variables are ignored.').env('ETCD_CONFIG_FILE'),
  )
  for (const spec of NODE_FLAGS) {
    const flag = spec.kind === 'bool' ? `--${spec.name} [bool]` : `--${spec.name} <value>`
    const option = new Option(flag, spec.help).env(envName(spec.name)).default(spec.defaultValue)
    const parser = syntaxParser(spec)
    if (parser) option.argParser(parser)
    command.addOption(option)
  }
  command.action(async (_options: unknown, self: Command) => {
    const configFile = self.opts<{ configFile?: string }>().configFile
    let config: MemberConfig
    try {
      config = buildMemberConfig(configFile ? readConfigFile(configFile) : givenFlags(self))
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`quorum node: ${error.message}`)
        process.exitCode = 1
        return
      }
      throw error
    }
    if (!runner) {
      console.error('quorum node: this build has no member runtime')
      process.exitCode = 1
      return
    }
    // A member is a long-running server whose first seconds under load count too (a fresh member taking
    // over after a failover, a cluster just started): V8 optimizes a hot function once it has used its
    // interrupt budget of bytecode, 132 KiB by default; with 16 KiB the member reaches its steady speed
    // sooner (bench with 1 s of warmup, A/B: put-seq +14-18 %, put-conc +5-8 %). Set before any member code runs, so
    // every function of the member gets the smaller budget.
    setFlagsFromString('--interrupt-budget=16384')
    await runner(config)
  })
}
