import { spawn, type ChildProcess } from 'node:child_process';

export interface VirtualDisplay {
  /** e.g. ":99", for DISPLAY. */
  display: string;
  close(): Promise<void>;
}

/** Starts Xvfb on a free display number (Xvfb picks it and writes it to -displayfd), for engines that need a screen. */
export async function startXvfb(): Promise<VirtualDisplay> {
  const proc: ChildProcess = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => { stderr += d; });
  const display = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start within 15 s: ${stderr.slice(-300)}`)), 15_000);
    proc.once('error', (e) => { clearTimeout(timer); reject(new Error(`Xvfb could not start (${e.message}); install Debian's xvfb package`)); });
    proc.stdout!.on('data', (d) => { clearTimeout(timer); resolve(`:${String(d).trim()}`); });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    display,
    close: async () => {
      if (proc.exitCode === null) proc.kill();
      await exited;
    },
  };
}
