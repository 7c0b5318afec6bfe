import { spawn } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inspectCertificateFile } from '../../core/certs/inspect'
import { tempDir } from '../support/temp-dir'

// Runs the real bundled CLI (built by `pretest`) as users do. Asynchronous, so independent runs overlap.
function quorum(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['build/bin/quorum.mjs', 'certs', ...args], { timeout: 30_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

describe('quorum certs CLI', () => {
  const temp = tempDir('quorum-certs-cli-')
  const dir = join(temp.path, 'cluster')
  afterAll(() => temp.remove())

  beforeAll(async () => {
    const result = await quorum('init', '--dir', dir)
    expect(result.status, result.stderr).toBe(0)
  })

  it('lists init, inspect and check, and shows every default in init --help', async () => {
    const [help, init] = await Promise.all([quorum('--help'), quorum('init', '--help')])
    expect(help.status).toBe(0)
    for (const command of ['init', 'inspect', 'check']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'))
    const initHelp = init.stdout.replace(/\s+/g, ' ')
    expect(initHelp).toContain('(default: localhost,127.0.0.1,::1)')
    expect(initHelp).toMatch(/--members <count>.*\(default: 3\)/)
    expect(initHelp).toMatch(/--clients <users>.*\(default: root\)/)
    expect(initHelp).toMatch(/--key-type <type> key type: ecdsa, rsa2048, rsa4096 \(default: "ecdsa"\)/)
    expect(initHelp).toMatch(/--days <days>.*\(default: 365\)/)
    expect(initHelp).toMatch(/--ca-days <days>.*\(default: 3650\)/)
  })

  it('init writes member1..3 server and peer pairs, a root client pair and the CA, and prints them', async () => {
    expect(readdirSync(dir).filter((name) => name.endsWith('.crt')).sort()).toEqual([
      'ca.crt', 'client-root.crt', 'peer-member1.crt', 'peer-member2.crt', 'peer-member3.crt', 'server-member1.crt', 'server-member2.crt', 'server-member3.crt',
    ])
    const [json, table] = await Promise.all([
      quorum('init', '--dir', join(temp.path, 'json'), '--names', 'a,b', '--clients', 'root,alice', '--hosts', 'node.example,10.1.2.3', '-w', 'json'),
      quorum('init', '--dir', join(temp.path, 'table'), '--members', '1', '--clients', 'ops', '--days', '2', '--peer-cn', 'peers', '--key-type', 'rsa2048'),
    ])
    expect(json.status, json.stderr).toBe(0)
    const result = JSON.parse(json.stdout) as { caReused: boolean; entries: { role: string; name: string; certFile: string }[] }
    expect(result.caReused).toBe(false)
    expect(result.entries.map((entry) => `${entry.role}:${entry.name}`)).toEqual(['ca:', 'server:a', 'server:b', 'peer:a', 'peer:b', 'client:root', 'client:alice'])
    const server = inspectCertificateFile(result.entries[1].certFile)
    expect(server.subjectAltNames).toEqual(['DNS:node.example', 'IP:10.1.2.3'])
    expect(server.keyAlgorithm).toBe('ECDSA P-256')
    expect(table.status, table.stderr).toBe(0)
    expect(table.stdout.split('\n')[0]).toMatch(/^ROLE\s+NAME\s+CERTIFICATE\s+KEY$/)
    expect(table.stdout).toMatch(/^client\s+ops\s+\S+client-ops\.crt\s+\S+client-ops\.key$/m)
    const peer = inspectCertificateFile(join(temp.path, 'table', 'peer-member1.crt'))
    expect(peer.commonName).toBe('peers')
    expect(peer.keyAlgorithm).toBe('RSA 2048')
  })

  it('exits 2 naming the flag for bad values, conflicting flags and a missing --dir', async () => {
    const cases: [string[], string][] = [
      [['--key-type', 'dsa'], "option '--key-type <type>' argument 'dsa' is invalid. must be one of ecdsa, rsa2048, rsa4096"],
      [['--hosts', 'bad_host!'], "option '--hosts <hosts>' argument 'bad_host!' is invalid"],
      [['--names', 'a/b'], 'invalid name "a/b"'],
      [['--members', '2', '--names', 'a'], "option '--members <count>' cannot be used with option '--names <names>'"],
    ]
    const [missing, ...results] = await Promise.all([quorum('init'), ...cases.map(([args]) => quorum('init', '--dir', join(temp.path, 'never'), ...args))])
    cases.forEach(([args, message], i) => {
      expect(results[i].status, args.join(' ')).toBe(2)
      expect(results[i].stderr, args.join(' ')).toContain(message)
    })
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain("required option '--dir <dir>' not specified")
    expect(readdirSync(temp.path)).not.toContain('never')
  })

  it('init exits 1 with one line when it would overwrite files', async () => {
    const result = await quorum('init', '--dir', dir, '--members', '1')
    expect(result.status).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(/^quorum certs init: refusing to overwrite existing files: .*server-member1\.crt/)
  })

  it('inspect prints every field in a table, the same data as JSON, and exits 1 on a non-certificate', async () => {
    const file = join(dir, 'server-member2.crt')
    const info = inspectCertificateFile(file)
    const garbage = join(temp.path, 'garbage.crt')
    writeFileSync(garbage, 'hello\n')
    const [table, json, bad] = await Promise.all([quorum('inspect', file), quorum('inspect', join(dir, 'ca.crt'), '-w', 'json'), quorum('inspect', garbage)])
    expect(table.status).toBe(0)
    const lines = Object.fromEntries(table.stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]))
    expect(lines).toEqual({
      Subject: 'CN=member2, O=Quorum',
      Issuer: info.issuer,
      Serial: info.serialNumber,
      'Not before': info.notBefore,
      'Not after': info.notAfter,
      'Subject alt names': 'DNS:localhost, IP:127.0.0.1, IP:::1',
      'Key usage': 'digitalSignature',
      'Extended key usage': 'serverAuth, clientAuth',
      CA: 'no',
      'Self-signed': 'no',
      'Key algorithm': 'ECDSA P-256',
      'Signature algorithm': 'ECDSA SHA-256',
      'SHA-256 fingerprint': info.fingerprintSha256,
    })
    expect(JSON.parse(json.stdout)).toEqual(inspectCertificateFile(join(dir, 'ca.crt')))
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/^quorum certs inspect: not an X.509 certificate/)
  })

  it('check exits 0 with no findings, 1 on a critical finding, 0 on warnings only', async () => {
    const [clean, uncovered, soon, none] = await Promise.all([
      quorum('check', '--dir', dir, '--hosts', '127.0.0.1,localhost'),
      quorum('check', '--dir', dir, '--hosts', '10.9.9.9'),
      quorum('check', '--dir', join(temp.path, 'table'), '-w', 'json'),
      quorum('check', '--dir', join(temp.path, 'nope')),
    ])
    expect(clean.status, clean.stdout).toBe(0)
    expect(clean.stdout.trim().endsWith('no findings')).toBe(true)
    expect(clean.stdout).toMatch(/server-member3\.crt\s+server\s+member3\s+\d{4}-/)

    expect(uncovered.status).toBe(1)
    expect(uncovered.stdout.match(/^CRITICAL\s+\S+\s+host-not-covered\s+SANs .* do not cover 10\.9\.9\.9$/gm)).toHaveLength(6)
    expect(uncovered.stdout).toContain('6 critical, 0 warning(s)')

    expect(soon.status).toBe(0)
    const report = JSON.parse(soon.stdout) as { ok: boolean; findings: { code: string; severity: string }[] }
    expect(report.ok).toBe(true)
    expect(new Set(report.findings.map((finding) => `${finding.code}/${finding.severity}`))).toEqual(new Set(['expires-soon/warning']))

    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(/^quorum certs check: cannot read directory .*nope: ENOENT/)
  })
})
