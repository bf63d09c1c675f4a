import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { revocationStatements } from '../../src/revocations/revoke';
import { RULES, type Rule } from '../../src/revocations/rules';
import { withRules } from '../../scripts/render-rules';
import { testApp } from '../helpers/app';
import { ROOT } from '../helpers/processes';

// Issue 13, "one place that says what dies when something changes": src/revocations/rules.ts is that
// place. These keep it true: docs/revocation.md shows exactly the rules, every rule names tests that exist, every
// publishing rule is used by the code, and a write cannot publish what its rule does not list.

const rules = Object.entries(RULES as Record<string, Rule>);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the rules of what ends what (src/revocations/rules.ts)', () => {
  it("are docs/revocation.md's table, as `npm run docs:rules` writes it", () => {
    const page = readFileSync(join(ROOT, 'docs/revocation.md'), 'utf8');
    expect(page, 'docs/revocation.md is out of date: run npm run docs:rules').toBe(withRules(page));
  });

  it.each(rules)('%s names tests that exist', (_change, rule) => {
    expect(rule.proof.length).toBeGreaterThan(0);
    for (const proof of rule.proof) {
      const [file, words] = proof.split(' › ') as [string, string];
      expect(words?.trim().length, `${proof}: name words of the test`).toBeGreaterThanOrEqual(5);
      expect(existsSync(join(ROOT, file)), proof).toBe(true);
      // A test's name (it, describe) or a case's name in an it.each table: a string literal holding the words.
      const escaped = words.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const text = readFileSync(join(ROOT, file), 'utf8');
      const found = ["'", '"', '`'].some((quote) =>
        new RegExp(`${quote}[^${quote}\\n]*${escaped}[^${quote}\\n]*${quote}`).test(text),
      );
      expect(found, `${proof}: no test named so`).toBe(true);
    }
  });

  it('every rule that publishes is named by the code that publishes', () => {
    const code = sourceFiles(join(ROOT, 'src'))
      .filter((file) => !file.endsWith('rules.ts'))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    for (const [change, rule] of rules)
      if (rule.feed.length > 0) expect(code, `${change} is never published`).toContain(`'${change}'`);
  });

  it('refuses a write that publishes a feed kind its rule does not list', async () => {
    const t = await testApp();
    expect(() =>
      revocationStatements(t.deps, [
        { kind: 'subject_base', value: 'u', baseId: 'b', change: 'api_token_deleted' },
      ]),
    ).toThrow('api_token_deleted does not publish subject_base entries');
    expect(() =>
      revocationStatements(t.deps, [{ kind: 'client', value: 'x', change: 'member_removed' }]),
    ).toThrow('member_removed does not publish client entries');
  });
});
