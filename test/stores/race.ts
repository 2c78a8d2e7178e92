import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Starts two OS processes running a compiled worker from this folder with the given arguments plus
 * a shared start time, and returns every rotation outcome they print (a JSON array each).
 */
export async function runRaceWorkers(worker: string, args: readonly string[]): Promise<string[]> {
  const file = join(dirname(fileURLToPath(import.meta.url)), worker);
  const startAt = String(Date.now() + 1000);
  const runs = [0, 1].map(
    () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [file, ...args, startAt]);
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
        });
        child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve(output) : reject(new Error(`${worker} exited with ${code}`)),
        );
      }),
  );
  return (await Promise.all(runs)).flatMap((text) => JSON.parse(text) as string[]);
}
