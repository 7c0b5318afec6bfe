import bcrypt from 'bcryptjs'
import { describe, expect, it } from 'vitest'
import { PasswordChecker } from '../../core/auth/password-checker'

describe('PasswordChecker (bcrypt on a worker thread)', () => {
  const hash = bcrypt.hashSync('secret', 4)

  it('answers match, mismatch and a malformed hash (mismatch), in any number of concurrent calls', async () => {
    const checker = new PasswordChecker()
    try {
      const answers = await Promise.all([
        checker.compare('secret', hash),
        checker.compare('wrong', hash),
        checker.compare('secret', 'not-a-bcrypt-hash'),
        ...Array.from({ length: 5 }, (_, i) => checker.compare(i === 3 ? 'secret' : `guess${i}`, hash)),
      ])
      expect(answers).toEqual([true, false, false, false, false, false, true, false])
    } finally {
      await checker.close()
    }
  })

  it('after close, comparisons still work in-thread', async () => {
    const checker = new PasswordChecker()
    await checker.compare('x', hash)
    await checker.close()
    expect(await checker.compare('secret', hash)).toBe(true)
    expect(await checker.compare('nope', hash)).toBe(false)
  })
})
