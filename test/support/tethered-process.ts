/**
 * Runs a command (argv after this file) and ties its life to the test run that started this
 * process: when the run's end of our stdin closes — the run finished, crashed or was killed — the
 * whole process group (this process and the command) is killed. For servers that cannot watch
 * their parent themselves: Chroma's CLI blocks in native code. Spawn this detached, so it leads
 * its own group.
 */
import { spawn } from 'node:child_process';

const [command, ...args] = process.argv.slice(2);
if (!command) throw new Error('usage: tethered-process.ts COMMAND [ARGS…]');
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(1);
  }
};
process.stdin.once('end', killGroup);
process.stdin.once('close', killGroup);
process.stdin.resume();
child.once('error', killGroup);
child.once('exit', (code) => process.exit(code ?? 1));
