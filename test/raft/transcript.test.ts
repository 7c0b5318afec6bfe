// Transcript tests (STYLE §8): each test/raft/testdata/*.txt is a script of `> command` lines, each followed
// by its expected output. RAFT_TRANSCRIPT_UPDATE=1 rewrites the expectations; review the diff like code.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { Interaction } from './interaction'

const dir = join(import.meta.dirname, 'testdata')
const update = process.env.RAFT_TRANSCRIPT_UPDATE === '1'

interface Block {
  comments: string[]
  command: string
  expected: string[]
}

/** `# comment` lines attach to the next command; other non-blank lines are the current command's output. */
function parse(text: string): Block[] {
  const blocks: Block[] = []
  let comments: string[] = []
  for (const line of text.split('\n')) {
    if (line.startsWith('> ')) {
      blocks.push({ comments, command: line.slice(2), expected: [] })
      comments = []
    } else if (line.startsWith('#')) {
      comments.push(line)
    } else if (line.trim() !== '') {
      const current = blocks[blocks.length - 1]
      if (!current) throw new Error(`output before the first command: ${line}`)
      current.expected.push(line)
    }
  }
  return blocks
}

function render(blocks: Block[]): string {
  return blocks.map((b) => [...b.comments, `> ${b.command}`, ...b.expected].join('\n')).join('\n\n') + '\n'
}

describe('raft transcripts (test/raft/testdata)', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
    test(file.replace(/\.txt$/, ''), () => {
      const path = join(dir, file)
      const blocks = parse(readFileSync(path, 'utf8'))
      const env = new Interaction()
      const actual = blocks.map((b) => ({ ...b, expected: env.run(b.command) }))
      if (update) {
        writeFileSync(path, render(actual))
        return
      }
      for (let i = 0; i < blocks.length; i++) {
        expect(actual[i].expected.join('\n'), `${file}: > ${blocks[i].command}`).toBe(blocks[i].expected.join('\n'))
      }
    })
  }
})
