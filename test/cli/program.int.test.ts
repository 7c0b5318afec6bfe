import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

// Runs the real bundled CLI (built by `pretest`) as users do.
function quorum(...args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('quorum CLI', () => {
  it('lists every subcommand in --help and exits 0', () => {
    const result = quorum('--help')
    expect(result.status).toBe(0)
    for (const command of ['node', 'cluster', 'snapshot', 'certs', 'ui', 'bench']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'))
    }
  })

  it('rejects an unknown flag with exit 2 and a one-line error naming the flag', () => {
    const result = quorum('--bogus')
    expect(result.status).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain("unknown option '--bogus'")
  })

  it('rejects a bad flag value with exit 2 naming the flag', () => {
    const result = quorum('ui', '--port', 'seventy')
    expect(result.status).toBe(2)
    expect(result.stderr).toContain("option '--port <port>' argument 'seventy' is invalid")
  })

  it('shows flag defaults in subcommand help', () => {
    const result = quorum('ui', '--help')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/--port <port>.*\(default: 0\)/s)
  })
})
