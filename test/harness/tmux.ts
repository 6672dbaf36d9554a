// Interactive clients under tmux: start a program in a detached session, type into it, and wait
// for its screen to show something.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

export function tmux(args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

/** Polls the pane until it shows `needle` (fails the test after ~20 s) and returns the pane. */
export async function waitForPane(session: string, needle: string): Promise<string> {
  let pane = '';
  for (let i = 0; i < 400; i++) {
    pane = tmux(['capture-pane', '-p', '-t', session, '-S', '-200']);
    if (pane.includes(needle)) return pane;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`tmux pane never showed ${JSON.stringify(needle)}:\n${pane}`);
}
