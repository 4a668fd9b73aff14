import { describe, expect, it } from 'vitest';
import { terminalChatCommand } from '../../src/demo/seed-demo.js';

describe('the printed terminal chat command', () => {
  it('leaves out --url at the address the terminal chat assumes', () => {
    expect(terminalChatCommand('http://localhost:3000/', 'bot-1', 'key-1')).toBe('npm run chat -- --bot bot-1 --token key-1');
  });

  it('names any other port or host, so the line works as printed', () => {
    expect(terminalChatCommand('http://localhost:4321', 'bot-1', 'key-1')).toBe('npm run chat -- --bot bot-1 --url http://localhost:4321 --token key-1');
    expect(terminalChatCommand('https://coach.example.test', 'bot-1', 'key-1')).toBe('npm run chat -- --bot bot-1 --url https://coach.example.test --token key-1');
  });
});
