import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ClipOptions {
  width: number;
  height: number;
  rate?: number;
  seconds?: number;
  /** An ffmpeg lavfi source graph making width x height frames at rate; a moving test card unless given. */
  source?: string;
}

/** Renders a y4m clip with ffmpeg into a fresh temporary folder and returns its path, for Chromium's fake camera. */
export function makeClip({ width, height, rate = 15, seconds = 2, source }: ClipOptions): string {
  const clip = path.join(mkdtempSync(path.join(os.tmpdir(), 'poe-clip-')), 'clip.y4m');
  const graph = source ?? `testsrc=size=${width}x${height}:rate=${rate}`;
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', graph, '-t', String(seconds), '-pix_fmt', 'yuv420p', clip]);
  return clip;
}

/** Chromium flags for a camera that plays `clip` in a loop and is allowed without asking. */
export function fakeCameraArgs(clip: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${clip}`];
}
