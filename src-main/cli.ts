import { buildProgram, runProgram } from '../core/cli/program'
import { registerNodeCommand, setMemberRunner } from '../core/cli/commands/node'
import { runMember } from '../core/server/run'
import { registerClusterCommand } from '../core/cli/commands/cluster'
import { registerSnapshotCommand } from '../core/cli/commands/snapshot'
import { registerCertsCommand } from '../core/cli/commands/certs'
import { registerBenchCommand } from '../core/cli/commands/bench'
import { registerAdviseCommand } from '../core/cli/commands/advise'
import { registerBackupCommand } from '../core/cli/commands/backup'
import { registerUiCommand } from './web/ui-command'
import { version } from '../package.json'

// Entry of the `quorum` CLI (bin/quorum.mjs loads the bundled out/main/cli.js). Core commands come from
// core/cli; `ui` (web mode) lives here because it serves the src-main services.
setMemberRunner(runMember)
const program = buildProgram(version, [
  registerNodeCommand,
  registerClusterCommand,
  registerSnapshotCommand,
  registerCertsCommand,
  registerUiCommand,
  registerBenchCommand,
  registerAdviseCommand,
  registerBackupCommand,
])
const exitCode = await runProgram(program, process.argv.slice(2))
if (exitCode !== 0) process.exitCode = exitCode
