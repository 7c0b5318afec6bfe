#!/usr/bin/env node
// Prints the plain closing line CI reads, `N passed, N failed, N skipped`, from vitest's JSON report.
// Extra failed checks (typecheck, lint) are added to the failed count. Tests that failed once and passed on
// vitest's retry are listed as FLAKY with their first failure, so a timing problem stays visible even when
// the run passes. Exits 1 when anything failed or when the report is missing or ran no test.
import { readFileSync } from 'node:fs'

const [reportPath, extraFailedArg = '0'] = process.argv.slice(2)
const extraFailed = Number(extraFailedArg) || 0
let report
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'))
} catch (error) {
  console.log(`ci-summary: cannot read ${reportPath}: ${error.message}`)
  console.log(`0 passed, ${1 + extraFailed} failed`)
  process.exit(1)
}
const passed = report.numPassedTests ?? 0
const failed = (report.numFailedTests ?? 0) + extraFailed + (report.success === false && report.numFailedTests === 0 ? 1 : 0)
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
let flaky = 0
for (const file of report.testResults ?? []) {
  for (const test of file.assertionResults ?? []) {
    const where = `${file.name.replace(process.cwd() + '/', '')} > ${test.fullName}`
    if (test.status === 'failed') console.log(`FAILED: ${where}`)
    else if (test.status === 'passed' && test.failureMessages?.length > 0) {
      flaky++
      console.log(`FLAKY (passed on retry): ${where}\n  first failure: ${test.failureMessages[0].split('\n')[0].slice(0, 300)}`)
    }
  }
}
if (flaky > 0) console.log(`${flaky} test(s) passed only on retry`)
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
