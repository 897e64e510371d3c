import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Command } from 'commander';
import fc from 'fast-check';
import { type DirectCommand, directCommand } from './direct.js';
import { buildProgram } from './program.js';

/** What the command tree makes of `args`: the command it runs and that command's options. */
function commanderReads(args: readonly string[]): DirectCommand | 'usage error' | 'other' {
  const program = buildProgram();
  let ran: DirectCommand | 'other' = 'other';
  const quiet = (c: Command) =>
    c.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  quiet(program);
  for (const c of program.commands) {
    quiet(c);
    if (c.name() === 'version')
      c.action(() => {
        ran = { command: 'version' };
      });
    if (c.name() === 'validate')
      c.action((options) => {
        ran = { command: 'validate', options };
      });
  }
  try {
    program.parse(args, { from: 'user' });
  } catch {
    return 'usage error';
  }
  return ran;
}

describe('the command lines the launcher runs itself', () => {
  test('the plain spellings of version and validate are taken', () => {
    assert.deepEqual(directCommand(['version']), { command: 'version' });
    assert.deepEqual(directCommand(['version', '--client']), { command: 'version' });
    assert.deepEqual(directCommand(['validate', '-f', 'a.yaml']), {
      command: 'validate',
      options: { filename: ['a.yaml'] },
    });
    assert.deepEqual(
      directCommand([
        'validate',
        '--filename',
        'a.yaml',
        '-R',
        '--filename=dir',
        '-f',
        '-',
        '--skip-empty',
      ]),
      {
        command: 'validate',
        options: { filename: ['a.yaml', 'dir', '-'], recursive: true, skipEmpty: true },
      },
    );
  });

  test('everything else goes to the command tree', () => {
    for (const args of [
      [],
      ['--help'],
      ['get', 'version'],
      ['-c', 'cfg', 'version'],
      ['--allow-version-mismatch', 'validate', '-f', 'a.yaml'],
      ['version', '--help'],
      ['version', 'extra'],
      ['validate'],
      ['validate', '-R'],
      ['validate', '-f'],
      ['validate', '-f', '--skip-empty'],
      ['validate', '-f', ''],
      ['validate', '--filename='],
      ['validate', '-fa.yaml'],
      ['validate', '-f', 'a.yaml', '--help'],
      ['validate', '-f', 'a.yaml', 'extra'],
      ['validate', '-f', 'a.yaml', '--'],
      ['validate', '-f', 'a.yaml', '-Rx'],
    ])
      assert.equal(directCommand(args), undefined, JSON.stringify(args));
  });

  test('commander reads every command line taken to the same command and options', () => {
    const token = fc.constantFrom(
      'version',
      'validate',
      '--client',
      '-f',
      '--filename',
      '--filename=a.yaml',
      '--filename=',
      '-fa.yaml',
      'a.yaml',
      'b.yaml',
      '-',
      '',
      '-R',
      '--recursive',
      '--skip-empty',
      '--help',
      '--',
      '-c',
      '-x',
    );
    // well-formed pieces, so that many command lines are taken, and stray tokens among them
    const piece = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          ['-f', 'a.yaml'],
          ['--filename', 'b.yaml'],
          ['-f', '-'],
          ['--filename=a.yaml'],
          ['-R'],
          ['--recursive'],
          ['--skip-empty'],
          ['--client'],
        ),
      },
      { weight: 1, arbitrary: token.map((t) => [t]) },
    );
    const args = fc.tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constantFrom('version', 'validate') }, token),
      fc.array(piece, { maxLength: 5 }).map((pieces) => pieces.flat()),
    );
    let taken = 0;
    fc.assert(
      fc.property(args, ([first, rest]) => {
        const argv = [first, ...rest];
        const direct = directCommand(argv);
        if (direct === undefined) return;
        taken++;
        assert.deepEqual(commanderReads(argv), direct, JSON.stringify(argv));
      }),
      { numRuns: 3000 },
    );
    // the generator must reach the interesting part, or the property says nothing
    assert.ok(taken > 400, `only ${taken} command lines were taken`);
  });
});
