/**
 * Keeps the screen on while the webcam runs (Screen Wake Lock API, where the browser has it). The
 * browser drops the lock whenever the page is hidden, so it is asked for again when the page is back.
 */
export function keepScreenAwake(onChange: (awake: boolean) => void): () => void {
  const wakeLock = (navigator as Navigator & { wakeLock?: WakeLock }).wakeLock;
  if (!wakeLock) return () => undefined;
  let sentinel: WakeLockSentinel | null = null;
  let active = true;
  const acquire = async () => {
    if (!active || sentinel || document.visibilityState !== 'visible') return;
    try {
      const s = await wakeLock.request('screen');
      if (!active) return void s.release();
      sentinel = s;
      onChange(true);
      s.addEventListener('release', () => {
        sentinel = null;
        onChange(false);
      });
    } catch {
      onChange(false); // refused (battery saver, no user gesture): the camera works anyway
    }
  };
  const onVisible = () => void acquire();
  document.addEventListener('visibilitychange', onVisible);
  void acquire();
  return () => {
    active = false;
    document.removeEventListener('visibilitychange', onVisible);
    void sentinel?.release();
    sentinel = null;
  };
}
